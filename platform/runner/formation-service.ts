import type { Platform } from '../platform.ts';
import type { App } from '../store/schema.ts';
import { invalid, PlatformError } from '../errors.ts';
import { releaseService } from '../release/release-service.ts';
import { formationRepo } from './formation-repo.ts';
import { serialized } from './app-queue.ts';
import { DEFAULT_MEMORY_MB } from './runner.ts';

/** `ps:resize` bounds, in MB: below 64 hardly any runtime starts; above 16 GB is not a dyno. */
export const MIN_MEMORY_MB = 64;
export const MAX_MEMORY_MB = 16_384;

/** ps:scale and ps:restart: the formation is stored, then the runner makes it so. */
export function formationService(p: Platform) {
  const repo = formationRepo(p.db);
  return {
    list(app: App) {
      const current = releaseService(p).current(app);
      const types = current ? (JSON.parse(current.processTypes) as Record<string, string | null>) : {};
      return Object.entries(repo.forApp(app.id))
        .filter(([type]) => type in types)
        .map(([type, f]) => ({ type, quantity: f.quantity, memoryMb: f.memoryMb ?? DEFAULT_MEMORY_MB, command: types[type] }));
    },

    /** Refuses a type the current release does not have, naming the ones it has. */
    knownType(app: App, type: string, types?: Set<string>): void {
      const known = types ?? new Set(this.list(app).map((f) => f.type));
      if (known.has(type)) return;
      const have = [...known].join(', ') || 'none yet: push a release first';
      throw new PlatformError(422, 'invalid_params', `unknown process type ${JSON.stringify(type)} (this app has: ${have})`);
    },

    async scale(app: App, changes: Record<string, number>, user: string) {
      const entries = Object.entries(changes);
      if (entries.length === 0) throw invalid('give at least one TYPE=QUANTITY, e.g. web=2');
      const known = new Set(this.list(app).map((f) => f.type));
      for (const [type, qty] of entries) {
        this.knownType(app, type, known);
        if (!Number.isInteger(qty) || qty < 0) throw invalid(`${type}=${qty}: the quantity must be a whole number, 0 or more`);
        if (qty > p.settings.maxDynosPerType) throw invalid(`${type}=${qty}: at most ${p.settings.maxDynosPerType} per process type (PAAS_MAX_DYNOS)`);
      }
      return serialized(app.id, async () => {
        for (const [type, qty] of entries) repo.setQuantity(app.id, type, qty);
        p.events.record(app.name, 'formation.scaled', user, `Scaled to ${entries.map(([t, q]) => `${t}=${q}`).join(', ')}`);
        await p.runner.scale(app);
        return this.list(app);
      });
    },

    /**
     * Sets the memory limit of process types (MB), as Heroku's ps:resize changes dyno size: checked
     * first (all or nothing), stored, then that type's processes are restarted to take it on (web
     * without a gap). Types at 0 just keep it for their next start.
     */
    async resize(app: App, changes: Record<string, number>, user: string) {
      const entries = Object.entries(changes);
      if (entries.length === 0) throw invalid('give at least one TYPE=MB, e.g. web=1024');
      const known = new Set(this.list(app).map((f) => f.type));
      for (const [type, mb] of entries) {
        this.knownType(app, type, known);
        if (!Number.isInteger(mb) || mb < MIN_MEMORY_MB || mb > MAX_MEMORY_MB) {
          throw invalid(`${type}=${mb}: memory is a whole number of MB from ${MIN_MEMORY_MB} to ${MAX_MEMORY_MB}`);
        }
      }
      return serialized(app.id, async () => {
        for (const [type, mb] of entries) repo.setMemory(app.id, type, mb);
        p.events.record(app.name, 'formation.resized', user, `Resized ${entries.map(([t, mb]) => `${t} to ${mb} MB`).join(', ')}`);
        const types = new Set(entries.map(([t]) => t));
        await p.runner.restart(app, (i) => types.has(i.type));
        return this.list(app);
      });
    },

    /**
     * Stops a process type or one dyno now, as Heroku's ps:stop does: formation processes are
     * started again by the supervisor (scale to 0 to keep them down); one-off runs just end.
     */
    async stop(app: App, target: string, user: string) {
      const matching = (await p.scheduler.list(app.name)).filter((i) => i.running && (i.type === target || i.dyno === target));
      if (matching.length === 0) throw new PlatformError(404, 'not_found', `no process ${target} is running on ${app.name}`);
      await Promise.all(matching.map((i) => p.scheduler.stop(i.id, p.settings.stopGraceSeconds)));
      p.events.record(app.name, 'dynos.stopped', user, `Stopped ${matching.map((i) => i.dyno).join(', ')}`);
      return matching.map((i) => i.dyno);
    },

    /** All processes, a type (`web`) or one dyno (`web.2`). */
    async restart(app: App, target: string | undefined, user: string) {
      const match = (i: { type: string; dyno: string }) => !target || i.type === target || i.dyno === target;
      return serialized(app.id, async () => {
        const restarted = await p.runner.restart(app, match);
        if (target && restarted.length === 0) throw new PlatformError(404, 'not_found', `no process ${target} is running on ${app.name}`);
        p.events.record(app.name, 'dynos.restarted', user, `Restarted ${target ?? 'all processes'}`);
        return restarted;
      });
    },
  };
}
