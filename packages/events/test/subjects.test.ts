import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { allSubjects, streamDefinitions, streamNameFor, streamNames, subjectFor, subjectStream, subjectWithoutNamespace } from '../src/index.js';

const asyncapiPath = new URL('../../../doc/api/asyncapi.yaml', import.meta.url).pathname;

describe('subject catalog', () => {
  it('lists exactly the channels of doc/api/asyncapi.yaml (besides the dlq.{subject} channel)', () => {
    expect(existsSync(asyncapiPath), `${asyncapiPath} is missing; bundle the contract with \`npx tsx scripts/bundle-contracts.ts\``).toBe(true);
    const document = parse(readFileSync(asyncapiPath, 'utf8')) as { channels?: Record<string, { address?: string }> };
    const addresses = Object.values(document.channels ?? {})
      .map((channel) => channel.address)
      .filter((address): address is string => typeof address === 'string' && !address.startsWith('dlq.'));
    expect([...addresses].sort()).toEqual([...allSubjects].sort());
  });

  it('puts every subject in the stream that captures its first token', () => {
    for (const subject of allSubjects) {
      const stream = subjectStream[subject];
      expect(streamDefinitions[stream].subjects, subject).toBe(`${subject.split('.')[0]}.>`);
    }
    expect(streamNames).toEqual(['PROVISIONING', 'BILLING', 'PAYMENTS', 'DLQ']);
    expect(streamDefinitions.DLQ.subjects).toBe('dlq.>');
  });

  it('namespaces subjects and stream names, and leaves the contract names alone without a namespace', () => {
    expect(subjectFor('t1', 'provisioning.requested')).toBe('t1.provisioning.requested');
    expect(subjectFor('', 'provisioning.requested')).toBe('provisioning.requested');
    expect(streamNameFor('t1', 'DLQ')).toBe('t1_DLQ');
    expect(streamNameFor('', 'DLQ')).toBe('DLQ');
    expect(subjectWithoutNamespace('t1', 't1.billing.balance_depleted')).toBe('billing.balance_depleted');
    expect(subjectWithoutNamespace('t1', 't2.billing.balance_depleted')).toBeUndefined();
  });
});
