import crypto from 'node:crypto';
import { asc, eq } from 'drizzle-orm';
import type { Db } from '../store/db.ts';
import { apps, type App } from '../store/schema.ts';

/** Queries only; invariants live in the apps service. */
export function appsRepo(db: Db) {
  return {
    insert(name: string): App {
      return db.insert(apps).values({ id: crypto.randomUUID(), name }).returning().get();
    },
    byName(name: string): App | undefined {
      return db.select().from(apps).where(eq(apps.name, name)).get();
    },
    all(): App[] {
      return db.select().from(apps).orderBy(asc(apps.name)).all();
    },
    delete(id: string): void {
      db.delete(apps).where(eq(apps.id, id)).run();
    },
  };
}
