/**
 * The one place where GraphQL enum values (UPPER_CASE) meet REST's (lower-case). REST spells most values with
 * underscores like GraphQL; the enums below keep the hyphens of their wire names (`ssh-ed25519`).
 */
const hyphenatedEnums: ReadonlySet<string> = new Set(['SshKeyAlgorithm']);

/** `SSH_ED25519` of `SshKeyAlgorithm` → `ssh-ed25519`; `ADMIN` of `UserRole` → `admin`. */
export function restEnumValue(enumType: string, value: string): string {
  const lower = value.toLowerCase();
  return hyphenatedEnums.has(enumType) ? lower.replaceAll('_', '-') : lower;
}

/** `ssh-ed25519` → `SSH_ED25519`; `admin` → `ADMIN`. */
export function graphqlEnumValue(_enumType: string, value: string): string {
  return value.toUpperCase().replaceAll('-', '_');
}
