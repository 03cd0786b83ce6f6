/** What the store keeps of a response: enough to send it again byte-for-byte equivalent. */
export interface StoredResponse {
  readonly status: number;
  /** Header names in lower case. Only the store's replayable subset is kept. */
  readonly headers: Readonly<Record<string, string>>;
  /** Must be JSON: replays receive it parsed back from its JSON form. */
  readonly body: unknown;
}

export interface InProgressRecord {
  readonly state: 'in_progress';
  readonly token: string;
  readonly fingerprint: string;
}

export interface CompletedRecord {
  readonly state: 'completed';
  readonly fingerprint: string;
  readonly response: StoredResponse;
  readonly completed_at: string;
}

export type IdempotencyRecord = InProgressRecord | CompletedRecord;

export function decodeRecord(raw: string): IdempotencyRecord {
  const parsed = JSON.parse(raw) as Partial<IdempotencyRecord>;
  if ((parsed.state === 'in_progress' || parsed.state === 'completed') && typeof parsed.fingerprint === 'string') {
    return parsed as IdempotencyRecord;
  }
  throw new Error('Malformed idempotency record');
}

export function keepHeaders(headers: Readonly<Record<string, string>> | undefined, allowed: ReadonlySet<string>): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    const lower = name.toLowerCase();
    if (allowed.has(lower)) kept[lower] = value;
  }
  return kept;
}
