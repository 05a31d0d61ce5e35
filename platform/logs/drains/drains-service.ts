import crypto from 'node:crypto';
import net from 'node:net';
import { and, eq } from 'drizzle-orm';
import type { Db } from '../../store/db.ts';
import { apps, drains, type App } from '../../store/schema.ts';
import { conflict, invalid, notFound } from '../../errors.ts';
import type { LogHub } from '../hub.ts';
import type { Drain, DrainStats } from './drain.ts';
import { SyslogDrain } from './syslog-drain.ts';
import { HttpDrain } from './http-drain.ts';

const SCHEMES = ['syslog:', 'syslog+tls:', 'https:', 'http:'];
const isLoopback = (host: string) => host === 'localhost' || host === '[::1]' || (net.isIPv4(host) && host.startsWith('127.'));

/** Why a drain URL is refused (422), or nothing when it is one we can deliver to. */
export function checkDrainUrl(raw: string): URL {
  if (raw.length > 2048) throw invalid('drain URL is longer than 2048 characters');
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw invalid(`"${raw}" is not a URL: use syslog://HOST:PORT, syslog+tls://HOST:PORT or https://HOST/PATH`);
  }
  if (!SCHEMES.includes(u.protocol)) throw invalid(`unsupported drain scheme "${u.protocol.replace(/:$/, '')}": use syslog://, syslog+tls:// or https://`);
  if (!u.hostname) throw invalid(`drain URL ${raw} has no host`);
  if (u.protocol.startsWith('syslog')) {
    if (!u.port) throw invalid(`syslog drain ${raw} needs a port (syslog://HOST:PORT)`);
    if ((u.pathname && u.pathname !== '/') || u.search) throw invalid(`syslog drain ${raw} takes no path or query: syslog://HOST:PORT`);
  }
  if (u.protocol === 'http:' && !isLoopback(u.hostname)) throw invalid(`http:// drains are only accepted on loopback; use https://${u.host}${u.pathname}`);
  return u;
}

export interface DrainView {
  id: string;
  url: string;
  token: string;
  created_at: string;
  stats: DrainStats;
}

/**
 * Outbound drains: the rows in the drains table, and for each a running Drain fed by the hub.
 * When a drain drops lines, a Heroku L10 notice goes into the app's stream (at most every `noticeMs`).
 */
export function createDrains(db: Db, hub: LogHub, opts: { noticeMs?: number } = {}) {
  const running = new Map<string, { app: string; drain: Drain }>();
  const byApp = new Map<string, Drain[]>();
  const noticeMs = opts.noticeMs ?? 5_000;

  const index = () => {
    byApp.clear();
    for (const { app, drain } of running.values()) byApp.set(app, [...(byApp.get(app) ?? []), drain]);
  };

  const launch = (id: string, app: string, url: string) => {
    const drain = url.startsWith('syslog') ? new SyslogDrain(url) : new HttpDrain(url, `d.${id}`);
    running.set(id, { app, drain });
    drain.start();
    index();
  };

  const untap = hub.tap((lines) => {
    const ds = byApp.get(lines[0].app);
    if (ds) for (const d of ds) d.pushMany(lines);
  });

  const notices = setInterval(() => {
    for (const { app, drain } of running.values()) {
      const drops = drain.takeDrops();
      if (drops) hub.write(app, 'paas', 'logplex', `Error L10 (output buffer overflow): ${drops.count} messages dropped since ${drops.since}.`);
    }
  }, noticeMs).unref();

  const rows = (appId: string) => db.select().from(drains).where(eq(drains.appId, appId)).all();

  return {
    /** Starts the drains of every app (platform start). */
    start(): void {
      const all = db.select({ id: drains.id, url: drains.url, app: apps.name }).from(drains).innerJoin(apps, eq(apps.id, drains.appId)).all();
      for (const d of all) if (!running.has(d.id)) launch(d.id, d.app, d.url);
    },

    list(app: App): DrainView[] {
      return rows(app.id).map((r) => ({
        id: r.id,
        url: r.url,
        token: `d.${r.id}`,
        created_at: r.createdAt,
        stats: { ...(running.get(r.id)?.drain.stats ?? { sent: 0, dropped: 0, buffered: 0, error: null }) },
      }));
    },

    add(app: App, url: string): DrainView {
      const normalized = url.trim();
      checkDrainUrl(normalized);
      if (rows(app.id).some((r) => r.url === normalized)) throw conflict(`${normalized} is already a drain of ${app.name}`);
      const id = crypto.randomUUID();
      db.insert(drains).values({ id, appId: app.id, url: normalized }).run();
      launch(id, app.name, normalized);
      return this.list(app).find((d) => d.id === id)!;
    },

    /** By id, token (d.ID) or URL. */
    remove(app: App, which: string): DrainView {
      const found = this.list(app).find((d) => d.id === which || d.token === which || d.url === which.trim());
      if (!found) throw notFound(`drain ${which} of ${app.name}`);
      db.delete(drains).where(and(eq(drains.appId, app.id), eq(drains.id, found.id))).run();
      running.get(found.id)?.drain.close();
      running.delete(found.id);
      index();
      return found;
    },

    /** Stops an app's drains (apps:destroy; its rows go with the app). */
    removeApp(appName: string): void {
      for (const [id, r] of running) {
        if (r.app !== appName) continue;
        r.drain.close();
        running.delete(id);
      }
      index();
    },

    close(): void {
      untap();
      clearInterval(notices);
      for (const { drain } of running.values()) drain.close();
      running.clear();
      index();
    },
  };
}

export type Drains = ReturnType<typeof createDrains>;
