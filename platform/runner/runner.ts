import type { Platform } from '../platform.ts';
import type { App, Release } from '../store/schema.ts';
import { PlatformError } from '../errors.ts';
import { releaseService, type RunnableRelease } from '../release/release-service.ts';
import { appsRepo } from '../apps/apps-repo.ts';
import { formationRepo } from './formation-repo.ts';
import { waitHealthy, type HealthPolicy } from './health.ts';
import type { Instance, InstanceSpec } from './scheduler.ts';
import { serialized } from './app-queue.ts';
import { Backoff } from './backoff.ts';

export const APP_PORT = 5000;
/** Process types that run once rather than as part of the formation. */
export const ONE_OFF_TYPES = new Set(['release', 'run']);
/** Each process's memory limit until `ps:resize` says otherwise (issue 5: 512 MB). */
export const DEFAULT_MEMORY_MB = 512;
/** Between taking a web process out of the router and sending it SIGTERM. */
const DRAIN_MS = 2000;
/** Old processes of one app being stopped in the background at the same time. */
const STOPS_AT_ONCE = 2;

export interface RunnerOptions {
  bootTimeoutMs: number;
  stopGraceSeconds: number;
}

/** Keeps what runs equal to what was asked for: the current release × the formation. */
export function createRunner(p: Platform, opts: RunnerOptions) {
  const { scheduler, routes } = p;

  const specsFor = (app: App, r: RunnableRelease): InstanceSpec[] => {
    const formation = formationRepo(p.db).forApp(app.id);
    const specs: InstanceSpec[] = [];
    for (const [type, { quantity, memoryMb }] of Object.entries(formation)) {
      if (!(type in r.processTypes) || ONE_OFF_TYPES.has(type)) continue;
      for (let i = 1; i <= quantity; i++) {
        const dyno = `${type}.${i}`;
        specs.push({
          app: app.name,
          release: r.version,
          type,
          dyno,
          image: r.digest,
          command: r.processTypes[type],
          env: { ...r.config, PORT: String(APP_PORT), DYNO: dyno },
          memoryMb: memoryMb ?? DEFAULT_MEMORY_MB,
        });
      }
    }
    return specs;
  };

  /**
   * Background stops of an app, a few at a time: ten containers torn down at once keep the engine
   * (and the CPU) so busy that the processes still serving answer late (measured in
   * bench/zero-downtime: a second of SYN retransmits on the one left after a scale 10 → 1).
   */
  const stopQueues = new Map<string, { running: number; waiting: Array<() => void> }>();
  const stopSlots = async <T>(app: string, task: () => Promise<T>): Promise<T> => {
    const q = stopQueues.get(app) ?? { running: 0, waiting: [] };
    stopQueues.set(app, q);
    // A finishing stop hands its slot straight to the next in line, so the count never overshoots.
    if (q.running >= STOPS_AT_ONCE) await new Promise<void>((r) => q.waiting.push(r));
    else q.running++;
    try {
      return await task();
    } finally {
      const next = q.waiting.shift();
      if (next) next();
      else if (--q.running === 0) stopQueues.delete(app);
    }
  };

  /** The engine's StartedAt of a container that was created but never started is its zero time. */
  const neverStarted = (i: Instance) => !i.startedAt || i.startedAt.startsWith('0001-');
  const isGone = (id: string) => async () => !(await scheduler.get(id))?.running;
  /** Containers being stopped on purpose: their exit is not a crash. */
  const stopping = new Set<string>();
  /** The app's processes (or every app's) as the runner sees them: one it is stopping no longer counts. */
  const instancesOf = async (app?: string) => (await scheduler.list(app)).filter((i) => !stopping.has(i.id));
  const crashes = new Backoff();

  const routeTo = (app: App, instances: Instance[]) =>
    routes.set(app.name, instances.filter((i) => i.type === 'web' && i.ip).map((i) => ({ dyno: i.dyno, host: i.ip!, port: APP_PORT })));

  /**
   * Stops instances without holding up the caller. Ones the router was sending traffic to get a
   * moment first, so requests already on their way to them are answered before SIGTERM.
   */
  const stopInBackground = (instances: Instance[], drainMs = 0) => {
    for (const i of instances) {
      stopping.add(i.id);
      new Promise((r) => setTimeout(r, i.type === 'web' ? drainMs : 0))
        .then(() => stopSlots(i.app, () => scheduler.stop(i.id, opts.stopGraceSeconds)))
        .catch((err) => console.error(`stopping ${i.dyno} failed:`, err))
        .finally(() => stopping.delete(i.id));
    }
  };

  /** How this release's web processes prove they are up: app.json's startup checks and boot timeout, else the defaults. */
  const healthOf = (r: RunnableRelease): HealthPolicy => ({
    bootTimeoutMs: r.health?.bootTimeoutSeconds ? r.health.bootTimeoutSeconds * 1000 : opts.bootTimeoutMs,
    checks: r.health?.web ?? [],
  });

  /**
   * Starts instances in parallel, each waited on as soon as it runs, and calls `onUp` for every web
   * one the moment it is healthy. If any fails, the others stop waiting, `onFail` runs (to take
   * routed ones out of the router first) and none is left.
   */
  const startHealthy = async (specs: InstanceSpec[], health: HealthPolicy, onUp?: (inst: Instance) => void, onFail?: () => Promise<void>): Promise<Instance[]> => {
    const started: Instance[] = [];
    const failed = new AbortController();
    const one = async (spec: InstanceSpec) => {
      if (failed.signal.aborted) return;
      const inst = await scheduler.start(spec);
      started.push(inst);
      if (inst.type !== 'web') return scheduler.up(inst.id);
      const result = inst.ip === undefined
        ? { up: false as const, reason: 'has no address on its network' }
        : await waitHealthy(inst.ip, APP_PORT, health, isGone(inst.id), failed.signal);
      if (result.up) {
        await scheduler.up(inst.id);
        return onUp?.(inst);
      }
      if (failed.signal.aborted) return;
      const tail = (await scheduler.recentOutput(inst.id, 20).catch(() => '')).trim();
      throw new PlatformError(422, 'boot_failed', [
        `${inst.dyno} ${result.reason}; the previous processes keep running`,
        ...(tail ? ['Its last output:', ...tail.split('\n').map((l) => `  ${l}`)] : []),
      ].join('\n'));
    };
    const results = await Promise.allSettled(specs.map((spec) => one(spec).catch((err) => {
      failed.abort();
      throw err;
    })));
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) {
      await onFail?.().catch(() => {});
      started.forEach((inst) => stopping.add(inst.id));
      await Promise.all(started.map((inst) => scheduler.stop(inst.id, 0).finally(() => stopping.delete(inst.id))));
      throw failure.reason;
    }
    return started;
  };

  /**
   * Replaces `old` by `specs` without a gap: start, check, switch the router, then stop. When no
   * web process goes away (a scale-up), each new one is routed as soon as it is healthy instead of
   * waiting for the slowest; otherwise the switch is one atomic change of the route table.
   */
  const replace = async (app: App, r: RunnableRelease, specs: InstanceSpec[], old: Instance[], keep: Instance[]) => {
    const oldWeb = old.some((i) => i.type === 'web' && i.running);
    const routed: Instance[] = [];
    const onUp = oldWeb ? undefined : (inst: Instance) => {
      routed.push(inst);
      routeTo(app, [...keep, ...old, ...routed]);
    };
    const onFail = async () => {
      if (routed.length === 0) return;
      routeTo(app, [...keep, ...old]);
      await routes.settled();
    };
    const started = await startHealthy(specs, healthOf(r), onUp, onFail);
    routeTo(app, [...keep, ...started]);
    await routes.settled();
    stopInBackground(old, DRAIN_MS);
    return started;
  };

  const reconciling = new Set<string>();
  /** Apps being destroyed: nothing may be started for them again. */
  const destroying = new Set<string>();

  const reconcileNow = async (app: App) => {
    if (destroying.has(app.id)) return;
    const r = currentRelease(app);
    const all = await instancesOf(app.name);
    const specs = r ? specsFor(app, r) : [];
    const wanted = new Set(specs.map((s) => s.dyno));
    // One-off processes (release phase, `paas run`) belong to whoever started them.
    const live = all.filter((i) => i.running && !ONE_OFF_TYPES.has(i.type));
    const keep: Instance[] = [];
    for (const i of live) {
      if (i.release === r?.version && wanted.has(i.dyno) && !keep.some((k) => k.dyno === i.dyno)) keep.push(i);
    }
    const strays = live.filter((i) => !keep.includes(i));
    // A one-off not started yet is its starter's (`paas run` creates, attaches, then starts): stopping
    // it here would SIGTERM it a moment after it starts.
    const dead = all.filter((i) => !i.running && !(ONE_OFF_TYPES.has(i.type) && neverStarted(i)));

    for (const d of dead.filter((d) => wanted.has(d.dyno) && d.release === r?.version)) {
      const next = crashes.delayBeforeNext(app.name, d.dyno);
      p.events.record(app.name, 'dyno.crashed', 'platform', `${d.dyno} crashed (exit ${d.exitCode ?? '?'}); restarting ${next === 0 ? 'now' : `in ${Math.round(next / 1000)} s`}`);
    }
    for (const d of dead) {
      stopping.add(d.id);
      await scheduler.stop(d.id, 0).finally(() => stopping.delete(d.id));
    }

    // A web process the router does not serve was adopted while it booted (the platform stopped
    // before it was healthy): it is routed once healthy, as a new one is, or replaced.
    const routed = new Set(routes.get(app.name).map((b) => b.host));
    const unproven = keep.filter((k) => k.type === 'web' && k.ip && !routed.has(k.ip));
    await Promise.all(unproven.map(async (k) => {
      const result = await waitHealthy(k.ip!, APP_PORT, healthOf(r!), isGone(k.id));
      if (result.up) return;
      keep.splice(keep.indexOf(k), 1);
      strays.push(k);
      p.events.record(app.name, 'dyno.crashed', 'platform', `${k.dyno} ${result.reason}; restarting`);
    }));

    const now = Date.now();
    for (const k of keep) {
      if (k.startedAt && now - Date.parse(k.startedAt) > 10 * 60_000) crashes.forget(app.name, k.dyno);
      // Started by a platform that was stopped before the process was up: it is up now.
      if (k.confined) await scheduler.up(k.id);
    }
    const due = specs.filter((s) => !keep.some((k) => k.dyno === s.dyno) && crashes.due(app.name, s.dyno, now));
    const started: Instance[] = [];
    await Promise.all(due.map(async (spec) => {
      const before = crashes.get(app.name, spec.dyno);
      crashes.restarting(app.name, spec.dyno, now);
      try {
        started.push(...(await startHealthy([spec], healthOf(r!))));
        p.events.record(app.name, 'dyno.restarted', 'platform', `Started ${spec.dyno} on v${spec.release}`);
      } catch (err) {
        // The engine being down (restarting, say) is nobody's crash: try again on the next pass, no backoff.
        if (err instanceof PlatformError && err.code === 'engine_unavailable') return crashes.restore(app.name, spec.dyno, before);
        p.events.record(app.name, 'dyno.crashed', 'platform', `${spec.dyno} failed to start: ${(err as Error).message.split('\n')[0]}`);
      }
    }));
    routeTo(app, [...keep, ...started]);
    stopInBackground(strays);
  };

  const currentRelease = (app: App) => {
    const release = releaseService(p).current(app);
    return release?.imageDigest ? releaseService(p).runnable(release) : undefined;
  };

  return {
    /** Moves every process of the app onto `release`; if anything fails the old ones keep serving. */
    async deploy(app: App, release: Release, out: (line: string) => void): Promise<void> {
      const r = releaseService(p).runnable(release);
      formationRepo(p.db).addTypes(app.id, Object.keys(r.processTypes).filter((t) => !ONE_OFF_TYPES.has(t)));
      const specs = specsFor(app, r);
      await replace(app, r, specs, await instancesOf(app.name), []);
      crashes.forget(app.name);
      out(`       ${specs.length ? specs.map((s) => s.dyno).join(', ') : 'no processes (scale with paas ps:scale)'} up on v${r.version}`);
    },

    /** Brings the current release's instances to the formation: starts the missing, stops the extra. */
    async scale(app: App): Promise<void> {
      const r = currentRelease(app);
      if (!r) return;
      const specs = specsFor(app, r);
      // One being stopped (a scale-down a moment ago, still draining) is not running: it is replaced.
      const running = (await instancesOf(app.name)).filter((i) => i.running && i.release === r.version);
      const wanted = new Set(specs.map((s) => s.dyno));
      const extra = running.filter((i) => !wanted.has(i.dyno));
      const missing = specs.filter((s) => !running.some((i) => i.dyno === s.dyno));
      await replace(app, r, missing, extra, running.filter((i) => wanted.has(i.dyno)));
    },

    /** Replaces the matching processes (all, a type, or one dyno) with fresh ones, web without a gap. */
    async restart(app: App, match: (i: { type: string; dyno: string }) => boolean): Promise<string[]> {
      const r = currentRelease(app);
      if (!r) return [];
      const all = await instancesOf(app.name);
      const old = all.filter(match);
      const specs = specsFor(app, r).filter(match);
      await replace(app, r, specs, old, all.filter((i) => !match(i) && i.running && i.release === r.version));
      for (const spec of specs) crashes.forget(app.name, spec.dyno);
      return specs.map((s) => s.dyno);
    },

    /** What runs, with Heroku's states: up (serving), starting, crashed (with its restart count). */
    async dynos(app: App) {
      const r = currentRelease(app);
      const routed = new Set(routes.get(app.name).map((b) => b.host));
      const instances = (await instancesOf(app.name)).filter((i) => i.running);
      const formation = formationRepo(p.db).forApp(app.id);
      const memoryOf = (type: string) => formation[type]?.memoryMb ?? DEFAULT_MEMORY_MB;
      const view = instances.map((i) => ({
        dyno: i.dyno,
        type: i.type,
        release: i.release,
        startedAt: i.startedAt,
        state: i.type !== 'web' || (i.ip && routed.has(i.ip)) ? 'up' : 'starting',
        command: r?.processTypes[i.type] ?? null,
        restarts: crashes.get(app.name, i.dyno)?.restarts ?? 0,
        nextRestartAt: undefined as string | undefined,
        memoryMb: memoryOf(i.type),
      }));
      // A dyno of the formation with nothing running is crashed, waiting for its next restart.
      for (const spec of r ? specsFor(app, r) : []) {
        if (view.some((d) => d.dyno === spec.dyno)) continue;
        const backoff = crashes.get(app.name, spec.dyno);
        view.push({
          dyno: spec.dyno, type: spec.type, release: spec.release, startedAt: undefined, state: 'crashed', command: r!.processTypes[spec.type] ?? null,
          restarts: backoff?.restarts ?? 0, nextRestartAt: backoff ? new Date(backoff.nextAt).toISOString() : undefined, memoryMb: spec.memoryMb,
        });
      }
      return view;
    },

    /**
     * Makes what runs match the current release × formation after anything the platform did not
     * ask for: crashes (restarted at once, then with backoff), adopted containers after a platform
     * restart, duplicates and strays. Safe to run at any time; serialized with deploys.
     */
    reconcile(app: App): Promise<void> {
      if (reconciling.has(app.id)) return Promise.resolve();
      reconciling.add(app.id);
      return serialized(app.id, async () => {
        reconciling.delete(app.id);
        await reconcileNow(app);
      });
    },

    /**
     * Reconciles every app now (resolving when that first pass is done), then whenever a container
     * exits and every few seconds. Returns the function that stops supervising.
     */
    async supervise(intervalMs = 5000): Promise<() => void> {
      const pass = async () => {
        const apps = appsRepo(p.db).all();
        const known = new Set(apps.map((a) => a.name));
        stopInBackground((await instancesOf()).filter((i) => !known.has(i.app)));
        await Promise.all(apps.map((app) => this.reconcile(app).catch((err) => console.error(`reconcile of ${app.name} failed:`, err))));
      };
      await pass();
      const stopWatching = scheduler.watchExits((name) => {
        const app = appsRepo(p.db).byName(name);
        if (app) void this.reconcile(app).catch((err) => console.error(`reconcile of ${name} failed:`, err));
      });
      const timer = setInterval(() => void pass().catch((err) => console.error('reconcile failed:', err)), intervalMs);
      return () => {
        clearInterval(timer);
        stopWatching();
      };
    },

    /** Removes everything that runs for the app, after any change in flight, and keeps it removed. */
    async teardown(app: App): Promise<string[]> {
      destroying.add(app.id);
      return serialized(app.id, async () => {
        routes.delete(app.name);
        return scheduler.removeApp(app.name);
      });
    },
  };
}

export type Runner = ReturnType<typeof createRunner>;
