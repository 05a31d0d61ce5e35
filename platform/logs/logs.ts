import path from 'node:path';
import type Docker from 'dockerode';
import type { Db } from '../store/db.ts';
import type { App } from '../store/schema.ts';
import type { eventsRepo } from '../events/events-repo.ts';
import { createLogHub, type HubOptions } from './hub.ts';
import { openLogStore } from './store.ts';
import { createCollector } from './collector.ts';
import { createDrains } from './drains/drains-service.ts';

export type { LogLine, Source, Filter } from './format.ts';

/**
 * The platform's log plane (factor XI): the hub (one ordered, durable, bounded stream per app),
 * the collector (every app container's output, from the engine), the router's access lines,
 * platform events, and the outbound drains.
 */
export function createLogs(deps: { dataDir: string; db: Db; docker: Docker; owner: string }, opts: HubOptions & { noticeMs?: number } = {}) {
  const store = openLogStore(path.join(deps.dataDir, 'logs.db'));
  const hub = createLogHub(store, opts);
  const collector = createCollector(deps.docker, deps.owner, hub);
  const drains = createDrains(deps.db, hub, opts);

  return {
    ...hub,
    drains,

    /** Starts the drains and collection from every container of this platform, adopted or new. */
    async start(): Promise<void> {
      drains.start();
      const containers = await collector.start();
      // Cursors of containers gone for good; kept when the engine could not be asked.
      if (containers) store.keepCursors(containers);
    },

    /** Reads an instance's output now, not waiting for the engine's start event. */
    follow: collector.follow,

    /** One stdout line of the router process: `{"app":…,"dyno":…,"text":…}`. */
    router(json: string): void {
      try {
        const e = JSON.parse(json) as { app?: string | null; dyno?: string | null; text?: string };
        if (e.app && typeof e.text === 'string') hub.write(e.app, 'router', e.dyno || 'router', e.text);
      } catch {
        /* not an access line */
      }
    },

    /** apps:destroy: the app's drains and history go with it. */
    async teardown(app: App): Promise<string[]> {
      drains.removeApp(app.name);
      const n = hub.deleteApp(app.name);
      return n ? [`log history (${n} lines)`] : [];
    },

    close(): void {
      collector.stop();
      drains.close();
      hub.close();
    },
  };
}

export type Logs = ReturnType<typeof createLogs>;

/** Platform events (releases, config keys, scaling…) also become `paas[api]` lines of the app's stream. */
export function withLogLines(events: ReturnType<typeof eventsRepo>, logs: Pick<Logs, 'write'>): ReturnType<typeof eventsRepo> {
  return {
    ...events,
    record(appName, type, actor, message) {
      const event = events.record(appName, type, actor, message);
      if (appName && type !== 'app.destroyed') logs.write(appName, 'paas', 'api', `${message} by ${actor}`);
      return event;
    },
  };
}
