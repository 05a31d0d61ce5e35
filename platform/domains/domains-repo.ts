import crypto from 'node:crypto';
import { and, asc, eq } from 'drizzle-orm';
import type { Db } from '../store/db.ts';
import { apps, domains, type Domain } from '../store/schema.ts';

/** Queries only; the rules (valid hostnames, one app per host) live in the domains service. */
export function domainsRepo(db: Db) {
  return {
    ofApp(appId: string): Domain[] {
      return db.select().from(domains).where(eq(domains.appId, appId)).orderBy(asc(domains.hostname)).all();
    },
    /** The host's row with the name of the app that holds it. */
    owner(hostname: string): { domain: Domain; app: string } | undefined {
      return db
        .select({ domain: domains, app: apps.name })
        .from(domains)
        .innerJoin(apps, eq(apps.id, domains.appId))
        .where(eq(domains.hostname, hostname))
        .get();
    },
    insert(appId: string, hostname: string): Domain {
      return db.insert(domains).values({ id: crypto.randomUUID(), appId, hostname }).returning().get();
    },
    delete(appId: string, hostname: string): number {
      return db.delete(domains).where(and(eq(domains.appId, appId), eq(domains.hostname, hostname))).run().changes;
    },
  };
}
