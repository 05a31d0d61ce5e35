import { and, eq, inArray } from 'drizzle-orm';
import type { Db } from '../store/db.ts';
import type { SecretBox } from '../secrets/secret-box.ts';
import { configVars } from '../store/schema.ts';

export type ConfigVars = Record<string, string>;

/** Config vars, sealed on the way in and opened on the way out: plain values never touch the file. */
export function configRepo(db: Db, box: SecretBox) {
  return {
    all(appId: string): ConfigVars {
      const rows = db.select().from(configVars).where(eq(configVars.appId, appId)).orderBy(configVars.key).all();
      return Object.fromEntries(rows.map((r) => [r.key, box.open(r.value)]));
    },
    set(appId: string, vars: ConfigVars): void {
      for (const [key, value] of Object.entries(vars)) {
        const sealed = box.seal(value);
        db.insert(configVars).values({ appId, key, value: sealed }).onConflictDoUpdate({ target: [configVars.appId, configVars.key], set: { value: sealed } }).run();
      }
    },
    unset(appId: string, keys: string[]): void {
      if (keys.length) db.delete(configVars).where(and(eq(configVars.appId, appId), inArray(configVars.key, keys))).run();
    },
    /** Makes the app's config exactly `vars` (a rollback restores a release's snapshot). */
    replace(appId: string, vars: ConfigVars): void {
      db.delete(configVars).where(eq(configVars.appId, appId)).run();
      this.set(appId, vars);
    },
  };
}
