import { eq } from 'drizzle-orm';
import type { Db } from '../store/db.ts';
import type { SecretBox } from '../secrets/secret-box.ts';
import { configVars } from '../store/schema.ts';

export type ConfigVars = Record<string, string>;

/** Config vars, sealed on the way in and opened on the way out: plain values never touch the file. */
export function configRepo(db: Db, box: SecretBox) {
  return {
    all(appId: string): ConfigVars {
      const rows = db.select().from(configVars).where(eq(configVars.appId, appId)).all();
      return Object.fromEntries(rows.sort((a, b) => a.key.localeCompare(b.key)).map((r) => [r.key, box.open(r.value)]));
    },
  };
}
