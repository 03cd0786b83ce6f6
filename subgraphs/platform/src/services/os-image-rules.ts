import type { OsImageCursorKey, OsImageRow } from '../repositories/os-images.js';
import type { Issues } from './validation.js';

// The contract's shapes (doc/api/openapi/platform.yaml, admin-platform.yaml), also enforced here for GraphQL callers;
// the family pattern is the intersection of the contract's and the table's check.
const VERSION = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;
const FAMILY = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
const IMAGE_REF = /^[A-Za-z0-9][A-Za-z0-9._/:@+-]*$/;
const TOOL_VERSION = /^[0-9]+(\.[0-9]+)*$/;
const CONTROL = /\p{Cc}/u;

const length = (text: string) => [...text].length;

export function checkName(issues: Issues, value: string): void {
  if (length(value) < 1 || length(value) > 128) issues.add('body.name', 'must be 1 to 128 characters long');
  else if (CONTROL.test(value) || value.trim() !== value) issues.add('body.name', 'must not contain control characters or surrounding spaces');
}

export function checkVersion(issues: Issues, value: string): void {
  if (value.length > 64 || !VERSION.test(value)) issues.add('body.version', 'must be 1 to 64 letters, digits or ._+- starting with a letter or digit');
}

export function checkFamily(issues: Issues, value: string): void {
  if (value.length < 2 || value.length > 32 || !FAMILY.test(value)) issues.add('body.family', 'must be 2 to 32 lower-case letters, digits and single hyphens, starting with a letter');
}

export function checkImageRef(issues: Issues, value: string): void {
  if (value.length > 512 || !IMAGE_REF.test(value)) issues.add('body.image_ref', 'must be 1 to 512 characters of letters, digits and ._/:@+-');
}

export function checkToolVersion(issues: Issues, field: string, value: string | null): void {
  if (value !== null && (value.length > 32 || !TOOL_VERSION.test(value))) issues.add(field, 'must be a dotted version such as 12.6, or null');
}

/** "Ubuntu 22.04 CUDA 2026.11 (CUDA 12.6, driver 560.35.03)": name, version and toolchain in one line, for pickers. */
export function displayNameOf(image: Pick<OsImageRow, 'name' | 'version' | 'cudaVersion' | 'driverVersion'>): string {
  const toolchain = [image.cudaVersion && `CUDA ${image.cudaVersion}`, image.driverVersion && `driver ${image.driverVersion}`].filter(Boolean);
  return `${image.name} ${image.version}${toolchain.length > 0 ? ` (${toolchain.join(', ')})` : ''}`;
}

export function cursorKeyOf(image: OsImageRow): OsImageCursorKey {
  return { notDefault: !image.isDefault, family: image.family, name: image.name, version: image.version, id: image.id };
}

export function parseCursorKey(value: unknown): OsImageCursorKey | null {
  if (typeof value !== 'object' || value === null) return null;
  const { notDefault, family, name, version, id } = value as Record<string, unknown>;
  if (typeof notDefault !== 'boolean' || typeof family !== 'string' || typeof name !== 'string' || typeof version !== 'string') return null;
  if (typeof id !== 'string' || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) return null;
  return { notDefault, family, name, version, id };
}
