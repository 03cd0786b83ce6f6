import type { FieldIssue } from '@gpuaas/errors';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export const isUuid = (value: string) => UUID.test(value);

/** Collects issues named like the REST body fields they mirror. */
export class Issues {
  readonly list: FieldIssue[] = [];
  add(field: string, message: string): void {
    this.list.push({ field, message });
  }
  uuid(field: string, value: string | null | undefined): void {
    if (value !== null && value !== undefined && !isUuid(value)) this.add(field, 'must be a UUID');
  }
  name(field: string, value: string | null | undefined): void {
    if (value === null || value === undefined) return;
    if (value.length < 1 || value.length > 63 || !NAME.test(value)) this.add(field, 'must be 1-63 letters, digits, ".", "_" or "-", starting with a letter or digit');
  }
}
