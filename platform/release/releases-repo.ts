import crypto from 'node:crypto';
import { and, desc, eq, max } from 'drizzle-orm';
import type { Db } from '../store/db.ts';
import { releases, type Release } from '../store/schema.ts';

export type NewRelease = Omit<typeof releases.$inferInsert, 'id' | 'version' | 'createdAt'>;

/** Releases are insert-only; the one column that moves is status (pending → succeeded | failed). */
export function releasesRepo(db: Db) {
  return {
    /** Inserts vN+1; versions stay gap-free because SQLite serialises the transaction. */
    append(values: NewRelease): Release {
      return db.transaction((tx) => {
        const current = tx.select({ v: max(releases.version) }).from(releases).where(eq(releases.appId, values.appId)).get();
        return tx.insert(releases).values({ ...values, id: crypto.randomUUID(), version: (current?.v ?? 0) + 1 }).returning().get();
      }, { behavior: 'immediate' });
    },
    /** Releases left pending by a platform that stopped mid-deploy never went live. */
    failAbandoned(): number {
      return db.update(releases).set({ status: 'failed' }).where(eq(releases.status, 'pending')).run().changes;
    },
    setStatus(id: string, status: Release['status']): void {
      db.update(releases).set({ status }).where(eq(releases.id, id)).run();
    },
    forApp(appId: string, limit = 100): Release[] {
      return db.select().from(releases).where(eq(releases.appId, appId)).orderBy(desc(releases.version)).limit(limit).all();
    },
    /** The release that runs: the newest one that deployed. */
    current(appId: string): Release | undefined {
      return db.select().from(releases).where(and(eq(releases.appId, appId), eq(releases.status, 'succeeded'))).orderBy(desc(releases.version)).limit(1).get();
    },
    byVersion(appId: string, version: number): Release | undefined {
      return db.select().from(releases).where(and(eq(releases.appId, appId), eq(releases.version, version))).get();
    },
  };
}
