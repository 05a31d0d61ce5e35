import crypto from 'node:crypto';

/** AES-256-GCM for config values at rest. A tampered ciphertext throws instead of decrypting to garbage. */
export interface SecretBox {
  seal(plain: string): string;
  open(sealed: string): string;
}

const PREFIX = 'v1:';

export function createSecretBox(secret: string): SecretBox {
  // Any string (env var or generated file) becomes a 256-bit key.
  const key = crypto.createHash('sha256').update(secret).digest();
  return {
    seal(plain) {
      const iv = crypto.randomBytes(12);
      const cipher = crypto.createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
    },
    open(sealed) {
      if (!sealed.startsWith(PREFIX)) throw new Error('config value is not sealed by this platform');
      const raw = Buffer.from(sealed.slice(PREFIX.length), 'base64');
      const decipher = crypto.createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
      decipher.setAuthTag(raw.subarray(12, 28));
      try {
        return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
      } catch {
        throw new Error('config value failed authentication: the database was tampered with or PAAS_SECRET_KEY changed');
      }
    },
  };
}
