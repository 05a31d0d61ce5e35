import crypto from 'node:crypto';
import { desc, eq } from 'drizzle-orm';
import type { Db } from '../store/db.ts';
import { builds, type Build } from '../store/schema.ts';

export function buildsRepo(db: Db) {
  return {
    start(appId: string, commit: string, user: string): Build {
      return db.insert(builds).values({ id: crypto.randomUUID(), appId, commit, user, status: 'pending' }).returning().get();
    },
    finish(id: string, fields: Pick<Build, 'status' | 'output' | 'durationMs'> & Partial<Pick<Build, 'buildpack' | 'image'>>): Build {
      return db.update(builds).set(fields).where(eq(builds.id, id)).returning().get();
    },
    forApp(appId: string, limit = 50): Build[] {
      return db.select().from(builds).where(eq(builds.appId, appId)).orderBy(desc(builds.createdAt)).limit(limit).all();
    },
    byId(id: string): Build | undefined {
      return db.select().from(builds).where(eq(builds.id, id)).get();
    },
  };
}
