import { and, desc, eq } from 'drizzle-orm';
import type { Db } from '../store/db.ts';
import { events, type Event } from '../store/schema.ts';

/** The audit trail: who did what to which app. */
export function eventsRepo(db: Db) {
  return {
    record(appName: string | null, type: string, actor: string, message: string): Event {
      return db.insert(events).values({ appName, type, actor, message }).returning().get();
    },
    forApp(appName: string, limit = 100): Event[] {
      return db.select().from(events).where(and(eq(events.appName, appName))).orderBy(desc(events.id)).limit(limit).all();
    },
  };
}
