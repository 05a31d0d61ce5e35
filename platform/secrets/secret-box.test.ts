import { describe, expect, it } from 'vitest';
import { createSecretBox } from './secret-box.ts';

describe('secret box', () => {
  const box = createSecretBox('test-key');

  it('round-trips any value an environment variable can hold', () => {
    for (const v of ['', 'a=b', 'multi\nline "quoted" \'x\'', 'ünïcødé 🚀', ' spaced ']) {
      expect(box.open(box.seal(v))).toBe(v);
    }
  });

  it('never yields the plain text in the sealed form', () => {
    expect(box.seal('canary-value-123')).not.toContain('canary');
  });

  it('refuses a tampered ciphertext', () => {
    const sealed = box.seal('secret');
    const raw = Buffer.from(sealed.slice(3), 'base64');
    raw[raw.length - 1] ^= 1;
    expect(() => box.open('v1:' + raw.toString('base64'))).toThrow(/tampered/);
  });

  it('refuses a ciphertext sealed under another key', () => {
    expect(() => createSecretBox('other').open(box.seal('x'))).toThrow(/tampered|changed/);
  });
});
