import crypto from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { Db } from '../store/db.ts';
import { apiTokens } from '../store/schema.ts';

export const hashToken = (token: string) => crypto.createHash('sha256').update(token).digest('hex');

export interface TokenOwner {
  id: string;
  name: string;
}

export function tokensRepo(db: Db) {
  return {
    /** Stores the hash of a token we were handed (the admin token), once. */
    ensure(name: string, token: string): void {
      db.insert(apiTokens).values({ id: crypto.randomUUID(), name, hash: hashToken(token) }).onConflictDoNothing().run();
    },
    verify(token: string): TokenOwner | undefined {
      const row = db.select({ id: apiTokens.id, name: apiTokens.name }).from(apiTokens).where(eq(apiTokens.hash, hashToken(token))).get();
      return row;
    },
  };
}
