import { and, eq } from 'drizzle-orm';
import type { Db } from '../store/db.ts';
import { formation } from '../store/schema.ts';

export type Formation = Record<string, { quantity: number; memoryMb: number | null }>;

export function formationRepo(db: Db) {
  return {
    forApp(appId: string): Formation {
      const rows = db.select().from(formation).where(eq(formation.appId, appId)).all();
      return Object.fromEntries(rows.map((r) => [r.type, { quantity: r.quantity, memoryMb: r.memoryMb }]));
    },
    /** New process types join at 0, except web on an app's first deploy (CONTRACT.md: web=1). */
    addTypes(appId: string, types: string[]): void {
      const existing = this.forApp(appId);
      const first = Object.keys(existing).length === 0;
      for (const type of types) {
        if (type in existing) continue;
        db.insert(formation).values({ appId, type, quantity: first && type === 'web' ? 1 : 0 }).onConflictDoNothing().run();
      }
    },
    setQuantity(appId: string, type: string, quantity: number): void {
      db.update(formation).set({ quantity }).where(and(eq(formation.appId, appId), eq(formation.type, type))).run();
    },
    setMemory(appId: string, type: string, memoryMb: number): void {
      db.update(formation).set({ memoryMb }).where(and(eq(formation.appId, appId), eq(formation.type, type))).run();
    },
  };
}
