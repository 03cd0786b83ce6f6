import { Validation, type FieldIssue } from '@gpuaas/errors';

/** The same shape the REST adapter's `format: email` check accepts, so both doors answer alike. */
const EMAIL =
  /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;
const CONTROL = /\p{Cc}/u;
const SLUG = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;

/** Collects every problem of one request, so a client learns all of them at once. */
export class Issues {
  private readonly list: FieldIssue[] = [];

  add(field: string, message: string): void {
    this.list.push({ field, message });
  }

  addAll(issues: readonly FieldIssue[]): void {
    this.list.push(...issues);
  }

  throwIfAny(): void {
    if (this.list.length > 0) throw Validation(this.list);
  }
}

const length = (text: string) => [...text].length;

export function email(issues: Issues, raw: string, field: string): string {
  const value = raw.trim();
  if (length(value) > 254 || !EMAIL.test(value)) issues.add(field, 'must be a valid email address');
  return value;
}

/** Trimmed; 1 to `max` characters without control characters. */
export function text(issues: Issues, raw: string, field: string, max: number, min = 1): string {
  const value = raw.trim();
  if (length(value) < min) issues.add(field, min === 1 ? 'must not be empty' : `must be at least ${min} characters long`);
  else if (length(value) > max) issues.add(field, `must be at most ${max} characters long`);
  else if (CONTROL.test(value)) issues.add(field, 'must not contain control characters');
  return value;
}

export function displayName(issues: Issues, raw: string, field = 'body.display_name'): string {
  return text(issues, raw, field, 100);
}

export function projectSlug(issues: Issues, raw: string, field = 'body.slug'): string {
  if (raw.length < 3 || raw.length > 48 || !SLUG.test(raw)) {
    issues.add(field, 'must be 3 to 48 lowercase letters, digits or inner hyphens');
  }
  return raw;
}

/** Operators' reasons (suspension, session revocation): 3 to 500 characters. */
export function reason(issues: Issues, raw: string, field = 'body.reason'): string {
  return text(issues, raw, field, 500, 3);
}
