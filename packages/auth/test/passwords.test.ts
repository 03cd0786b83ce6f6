import { hash, type Algorithm } from '@node-rs/argon2';
import { describe, expect, it } from 'vitest';
import {
  checkPasswordPolicy,
  hashPassword,
  needsRehash,
  OWASP_ARGON2ID_PARAMS,
  PASSWORD_MAX_LENGTH,
  verifyAgainstDummy,
  verifyPassword,
  warmUpDummyHash,
} from '../src/index.js';

describe('password hashing', () => {
  it('hashes with argon2id at the OWASP parameters and a fresh salt each time', async () => {
    const first = await hashPassword('correct-horse-battery-staple');
    const second = await hashPassword('correct-horse-battery-staple');
    expect(first).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(first).not.toBe(second);
  });

  it('verifies the right password and refuses a wrong one', async () => {
    const stored = await hashPassword('another-long-passphrase-42');
    expect(await verifyPassword('another-long-passphrase-42', stored)).toBe(true);
    expect(await verifyPassword('another-long-passphrase-43', stored)).toBe(false);
  });

  it('treats differently composed but equivalent Unicode input as the same password', async () => {
    const composed = 'caf\u00e9-au-lait-matin';
    const decomposed = 'cafe\u0301-au-lait-matin';
    const stored = await hashPassword(composed);
    expect(await verifyPassword(decomposed, stored)).toBe(true);
  });

  it('answers false rather than throwing for a stored value that is not an argon2 hash', async () => {
    expect(await verifyPassword('whatever-password', 'not-a-hash')).toBe(false);
    expect(await verifyPassword('whatever-password', '$2b$10$abcdefghijklmnopqrstuu')).toBe(false);
  });

  it('checks unknown accounts against a dummy hash and never matches', async () => {
    expect(await verifyAgainstDummy('gpuaas-dummy-password-for-unknown-accounts')).toBe(false);
    expect(await verifyAgainstDummy('')).toBe(false);
  });

  it('spends about as long on an unknown account as on a wrong password for a real one', async () => {
    await warmUpDummyHash();
    const stored = await hashPassword('correct-horse-battery-staple');
    const timeOf = async (work: () => Promise<unknown>) => {
      const started = process.hrtime.bigint();
      await work();
      return Number(process.hrtime.bigint() - started);
    };
    const real: number[] = [];
    const dummy: number[] = [];
    // Interleaved so that load from parallel test files hits both series alike.
    for (let round = 0; round < 7; round += 1) {
      real.push(await timeOf(() => verifyPassword('wrong-password-guess', stored)));
      dummy.push(await timeOf(() => verifyAgainstDummy('wrong-password-guess')));
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[3] ?? 0;
    const ratio = median(dummy) / median(real);
    // A dummy with cheaper parameters would be an order of magnitude faster; equal parameters land near 1.
    expect(ratio).toBeGreaterThan(1 / 3);
    expect(ratio).toBeLessThan(3);
  });

  it('asks for a rehash when the stored hash used other parameters or another algorithm', async () => {
    const current = await hashPassword('correct-horse-battery-staple');
    expect(needsRehash(current)).toBe(false);
    const weaker = await hashPassword('correct-horse-battery-staple', { ...OWASP_ARGON2ID_PARAMS, memoryCostKiB: 8192 });
    expect(needsRehash(weaker)).toBe(true);
    const argon2i = await hash('correct-horse-battery-staple', { algorithm: 1 as Algorithm /* Argon2i */, memoryCost: 19456, timeCost: 2, parallelism: 1 });
    expect(needsRehash(argon2i)).toBe(true);
    expect(needsRehash('$2b$10$legacybcrypthashvalue')).toBe(true);
  });
});

describe('password policy', () => {
  it('accepts a long passphrase', () => {
    expect(checkPasswordPolicy('correct-horse-battery-staple', { email: 'ada@example.com' })).toEqual([]);
    expect(checkPasswordPolicy('another-long-passphrase-42')).toEqual([]);
  });

  it('refuses fewer than 12 characters, counting code points like the request validator', () => {
    expect(checkPasswordPolicy('short-pass1')).toEqual([{ field: 'body.password', message: 'must be at least 12 characters long' }]);
    // Eleven emoji are 22 UTF-16 units but only 11 characters.
    expect(checkPasswordPolicy('\u{1F600}'.repeat(11))).toHaveLength(1);
    const twelveEmoji = '\u{1F680}\u{1F315}\u{1F30D}\u{1F4A1}\u{1F3B2}\u{1F40D}\u{1F99C}\u{1F955}\u{1F9C0}\u{1F3B8}\u{1F6B2}\u{1F9ED}';
    expect(checkPasswordPolicy(twelveEmoji)).toEqual([]);
  });

  it('refuses more than the contract maximum', () => {
    const issues = checkPasswordPolicy('a-b'.repeat(43), { field: 'body.new_password' });
    expect(PASSWORD_MAX_LENGTH).toBe(128);
    expect(issues).toEqual([{ field: 'body.new_password', message: 'must be at most 128 characters long' }]);
  });

  it('refuses the email address as the password, whatever its case', () => {
    expect(checkPasswordPolicy('Ada.Lovelace@Example.com', { email: 'ada.lovelace@example.com' })).toEqual([
      { field: 'body.password', message: 'must not be the same as the email address' },
    ]);
  });

  it.each([
    ['a base word padded with digits', 'Password1234'],
    ['a leetspeak base word', 'P@ssw0rd2024!'],
    ['a repeated base word', 'qwertyqwerty'],
    ['one repeated character', 'aaaaaaaaaaaaaa'],
    ['a repeated short unit', 'abcabcabcabc'],
    ['a digit run', '123456789012'],
    ['an alphabet run', 'abcdefghijklm'],
    ['a descending run', 'zyxwvutsrqpo'],
    ['a keyboard walk', 'qwertyuiopasdf'],
    ['a column keyboard walk', '1qaz2wsx3edc'],
  ])('refuses %s as too common', (_label, password) => {
    const issues = checkPasswordPolicy(password);
    expect(issues).toHaveLength(1);
    expect(issues[0]?.message).toMatch(/too common/);
  });
});
