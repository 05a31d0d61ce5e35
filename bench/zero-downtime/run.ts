/**
 * Zero-downtime benchmark (issue 5). Loopback only, bounded in count and time; not part of `npm test`.
 *
 *   npx tsx bench/zero-downtime/run.ts [--rate 100] [--runs 3] [--steady 15] [--warmup 30] [--only deploy,restart,config,scale,scale10] [--client-nice -5]
 *
 * Starts the real platform (platform/main.ts) on a temp data dir, pushes
 * test/fixtures/apps/env-app (python3 web on $PORT, answers `hello from env-app on web.N`; its
 * Procfile has a `release:` phase) and, per run, sends a constant RATE req/s through the router
 * (open loop, from a process of its own: load.ts; each request leaves at its scheduled time on a keep-alive http.Agent; latency is
 * measured from the scheduled time, so a stall is not hidden by a slower sender) during:
 *
 *   steady   no operation (the baseline p99)
 *   deploy   `git push` of a code change (build, release phase, new web, switch, stop old)
 *   restart  `paas ps:restart`
 *   config   `paas config:set` (new release, release phase, new web, switch, stop old)
 *   scale    `paas ps:scale web=5`, 3 s, `paas ps:scale web=1`
 *   scale10  `paas ps:scale web=10`: time until routes.json lists 10 backends and until 10
 *            distinct DYNO values answer through the router; then back to 1
 *
 * Each measurement starts once the platform is idle again (its sandbox pool full, nothing being
 * made or removed: settled()), so no operation's background work lands in another's window.
 *
 * Failed = a non-2xx answer, an error, or no answer within 10 s. "during" = requests scheduled from
 * the start of the operation until 2 s after its command returned (old processes are stopped in
 * the background after the switch). Router error lines (`at=error code=H..`) in the app's log
 * stream are reported with each operation. Prints every run and medians as Markdown.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import crypto from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { startPlatform, paas, type RunningPlatform } from '../../test/helpers/platform-process.ts';
import { addRemote, fixtureRepo, push } from '../../test/helpers/git-app.ts';
import { removeOwned } from '../../test/helpers/remove-owned.ts';
import { createDocker } from '../../platform/docker.ts';
import { failed, LoadProcess } from './load.ts';
import { numberOption, option } from '../args.ts';

const RATE = numberOption('rate', 100, 1, 500);
const RUNS = numberOption('runs', 3, 1, 5);
const STEADY_S = numberOption('steady', 15, 3, 60);
/** Load before the first steady window, not measured (see main()). */
const WARMUP_S = numberOption('warmup', 30, 0, 120);
const ONLY = new Set((option('only') ?? 'deploy,restart,config,scale,scale10').split(','));
/** Autogroup nice of the bench's own session, the load generator's (see clientWeight()). */
const CLIENT_NICE = numberOption('client-nice', -5, -20, 0);
const AFTER_MS = 2000;
const BEFORE_MS = 2000;
const REQUEST_TIMEOUT_MS = 10_000;
const OP_TIMEOUT_MS = 180_000;

/** 1-minute load average: the machine is shared, so every line says how busy it was. */
// Asynchronous on purpose: the load generator shares this event loop, and a blocking call would stall
// its sends and reads (showing up as latency, and as resets of sockets the router closed meanwhile).
const exec = promisify(execFile);
const dockerTime = (t: string) => Date.parse(t.replace(/(\.\d{3})\d*/, '$1'));
const load1 = () => fs.readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)] : NaN;
};
const median = (xs: number[]) => pct(xs.filter(Number.isFinite), 0.5);
const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '–');
const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '–');

interface OpResult {
  op: string;
  run: number;
  opMs: number;
  requests: number;
  failed: number;
  failures: string[];
  p50: number;
  p99: number;
  max: number;
  steadyP99: number;
  routerErrors: string[];
  extra?: Record<string, number>;
  /** Requests of ≥ 0.9 s (one lost SYN costs 1 s) per second after the operation started: where the tail comes from. */
  slowBySecond: Record<number, number>;
  /** The slowest 1% of the window: "seconds after the start:ms@dyno that answered" (printed with BENCH_VERBOSE). */
  slowest: string[];
  /** The operation's start, epoch ms: to line the slowest up with other timelines. */
  opStart: number;
}

async function routerErrorLines(platform: RunningPlatform, app: string): Promise<string[]> {
  const r = await paas(platform, ['logs', '-a', app, '-n', '1500', '--source', 'router']);
  return r.stdout.split('\n').filter((l) => l.includes('at=error'));
}

/** Runs `op` under load; returns its samples split into the window around it. */
async function underLoad(platform: RunningPlatform, app: string, load: LoadProcess, op: () => Promise<Record<string, number> | void>) {
  const errorsBefore = new Set(await routerErrorLines(platform, app));
  await load.start();
  await sleep(BEFORE_MS);
  const opStart = Date.now();
  const extra = await Promise.race([op(), sleep(OP_TIMEOUT_MS, undefined, { ref: false }).then(() => { throw new Error('operation timed out'); })]);
  const opEnd = Date.now();
  await sleep(AFTER_MS + 1000);
  const all = await load.stop();
  await sleep(1500); // access lines reach the log stream in batches
  const routerErrors = (await routerErrorLines(platform, app)).filter((l) => !errorsBefore.has(l));
  const during = all.filter((s) => s.at >= opStart && s.at <= opEnd + AFTER_MS);
  return { all, during, opStart, opEnd, routerErrors, extra: extra || undefined };
}

function summarize(op: string, run: number, r: Awaited<ReturnType<typeof underLoad>>, steadyP99: number): OpResult {
  const bad = r.all.filter(failed);
  const lat = r.during.filter((s) => !failed(s)).map((s) => s.latency);
  return {
    op,
    run,
    opMs: r.opEnd - r.opStart,
    opStart: r.opStart,
    requests: r.all.length,
    failed: bad.length,
    failures: bad.slice(0, 5).map((s) => `${s.status || s.error} at ${((s.at - r.opStart) / 1000).toFixed(2)} s${s.status ? `: ${s.error}` : ''}`),
    p50: pct(lat, 0.5),
    p99: pct(lat, 0.99),
    max: Math.max(...lat),
    steadyP99,
    routerErrors: r.routerErrors,
    extra: r.extra,
    slowBySecond: r.during.filter((s) => !failed(s) && s.latency >= 900).reduce<Record<number, number>>((acc, s) => {
      const sec = Math.floor((s.at - r.opStart) / 1000);
      acc[sec] = (acc[sec] ?? 0) + 1;
      return acc;
    }, {}),
    slowest: r.during
      .filter((s) => !failed(s))
      .sort((a, b) => b.latency - a.latency)
      .slice(0, Math.ceil(lat.length / 100))
      .sort((a, b) => a.at - b.at)
      .map((s) => `${((s.at - r.opStart) / 1000).toFixed(2)}:${Math.round(s.latency)}@${s.dyno ?? '?'}`),
  };
}

const POOL_SIZE = Number(process.env.PAAS_SANDBOX_POOL ?? 10);
const docker = createDocker();

/**
 * Waits until the platform's background work after the last operation is over: its pool of network
 * sandboxes full again, every container of this platform running, and none made or removed for
 * 2 s (bounded: 90 s). Each measurement (the steady baseline, each operation) then starts from an
 * idle platform, as a user's command on a quiet machine does, and a refill left by the previous
 * operation is counted in neither the baseline nor the next operation. Returns the seconds waited.
 */
async function settled(platform: RunningPlatform): Promise<number> {
  const t0 = Date.now();
  const filters = JSON.stringify({ label: [`paas.owner=${platform.owner}`] });
  const poolPrefix = `/paas-pool-${platform.owner}-`;
  let last = '';
  let since = Date.now();
  while (Date.now() - t0 < 90_000) {
    const all = await docker.listContainers({ all: true, filters });
    const snapshot = all.map((c) => `${c.Id}:${c.State}`).sort().join(',');
    if (snapshot !== last) [last, since] = [snapshot, Date.now()];
    const pool = all.filter((c) => c.State === 'running' && c.Names.some((n) => n.startsWith(poolPrefix))).length;
    if (pool >= POOL_SIZE && all.every((c) => c.State === 'running') && Date.now() - since >= 2000) break;
    await sleep(250);
  }
  return (Date.now() - t0) / 1000;
}

async function cli(platform: RunningPlatform, args: string[]) {
  const r = await paas(platform, args);
  if (r.code !== 0) throw new Error(`paas ${args.join(' ')}: exit ${r.code}\n${r.stderr}\n${platform.output().slice(-3000)}`);
  return r;
}

function backendsInRoutes(platform: RunningPlatform, app: string): number {
  try {
    return JSON.parse(fs.readFileSync(path.join(platform.dataDir, 'routes.json'), 'utf8')).apps?.[app]?.backends?.length ?? 0;
  } catch {
    return -1;
  }
}

/** Scales to 10 and times: CLI return, routes.json with 10 backends, 10 distinct dynos answering. */
async function scaleTo10(platform: RunningPlatform, app: string) {
  // What any `paas` command costs before the platform sees it (node + tsx start, one API call).
  const c0 = Date.now();
  await cli(platform, ['ps', '--json', '-a', app]);
  const cliRoundTripMs = Date.now() - c0;
  const t0 = Date.now();
  let inRoutes = NaN;
  let distinct = NaN;
  const seen = new Set<string>();
  let stop = false;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  const watchRoutes = (async () => {
    while (!stop && !Number.isFinite(inRoutes)) {
      if (backendsInRoutes(platform, app) >= 10) inRoutes = Date.now() - t0;
      await sleep(10);
    }
  })();
  const probe = async () => {
    while (!stop && !Number.isFinite(distinct)) {
      const body = await new Promise<string>((resolve) => {
        const req = http.get({ host: '127.0.0.1', port: platform.httpPort, path: '/', headers: { host: `${app}.localhost` }, agent }, (res) => {
          let b = '';
          res.setEncoding('utf8');
          res.on('data', (d) => (b += d));
          res.on('end', () => resolve(b));
        });
        req.on('error', () => resolve(''));
      });
      const dyno = /on (web\.\d+)/.exec(body)?.[1];
      if (dyno) seen.add(dyno);
      if (seen.size >= 10) distinct = Date.now() - t0;
      // ~80 requests/s from the four loops together: until 2026-11-26 03:20 they paused 5 ms, ~700/s
      // through the router to the dynos, which took the CPU the engine needed to start them.
      await sleep(50);
    }
  };
  const probes = Promise.all(Array.from({ length: 4 }, probe));
  await cli(platform, ['ps:scale', 'web=10', '-a', app]);
  const cliMs = Date.now() - t0;
  const deadline = Date.now() + 30_000;
  while ((!Number.isFinite(inRoutes) || !Number.isFinite(distinct)) && Date.now() < deadline) await sleep(20);
  stop = true;
  await Promise.all([watchRoutes, probes]);
  agent.destroy();
  // Where the time went, from the engine's own timestamps (same host clock). Through the engine's
  // API, not the docker CLI: twenty CLI processes at once took the two cores from the app and router.
  const engine = createDocker();
  const webs = await engine.listContainers({ filters: JSON.stringify({ label: [`paas.owner=${platform.owner}`, `paas.app=${app}`, 'paas.process=web'] }) });
  const info = (await Promise.all(webs.map(async ({ Id }) => {
    const c = engine.getContainer(Id);
    const { Created, State } = await c.inspect();
    const logs = ((await c.logs({ stdout: true, stderr: true, timestamps: true })) as unknown as Buffer).toString('latin1');
    const listening = /(\d{4}-\d\d-\d\dT\S+) [^\n]*listening on/.exec(logs)?.[1] ?? '';
    return { created: dockerTime(Created) - t0, started: dockerTime(State.StartedAt) - t0, listening: dockerTime(listening) - t0 };
  }))).filter((i) => i.created > 0); // web.1 was there before
  const max = (k: 'created' | 'started' | 'listening') => Math.max(...info.map((i) => i[k]));
  const min = (k: 'created' | 'started' | 'listening') => Math.min(...info.map((i) => i[k]));
  return {
    cliRoundTripMs, cliMs, routesMs: inRoutes, distinctMs: distinct,
    firstCreatedMs: min('created'), lastCreatedMs: max('created'), firstStartedMs: min('started'), lastStartedMs: max('started'), lastListeningMs: max('listening'),
  };
}

/**
 * The load generator stands for clients on other machines, which do not share the platform's CPUs.
 * Here they do: with the kernel's autogroups every session weighs one on the CPU, and a scale-up
 * kept this one from running for up to 69 ms (measured with `perf sched`) — its own wait, counted as
 * the platform's latency. So its session is given the weight of nice CLIENT_NICE (-5: ~3×); the
 * platform, the router and every `paas`/`git` command stay at 0. Needs root; else said and left.
 */
function clientWeight(): string {
  try {
    fs.writeFileSync('/proc/self/autogroup', String(CLIENT_NICE));
    return `the load generator's session at autogroup nice ${CLIENT_NICE}`;
  } catch (err) {
    return `the load generator's session at its own weight (autogroup: ${(err as NodeJS.ErrnoException).code ?? err})`;
  }
}

async function main() {
  const client = clientWeight();
  console.error(client);
  // The platform and the clients (paas, git push) each in a session of their own, as in production (startPlatform).
  const platform = await startPlatform({ ownSessions: true });
  const app = `zdbench-${crypto.randomBytes(2).toString('hex')}`;
  const results: OpResult[] = [];
  const steady: number[] = [];
  let load: LoadProcess | undefined;
  try {
    await cli(platform, ['apps:create', app]);
    const dir = fixtureRepo('env-app');
    addRemote(dir, platform, app);
    const first = await push(dir, ['paas', 'main'], { ownSession: true });
    if (first.code !== 0) throw new Error(`first push failed:\n${first.output}`);
    let n = 0;
    load = await LoadProcess.spawn({ port: platform.httpPort, host: `${app}.localhost`, rate: RATE, timeoutMs: REQUEST_TIMEOUT_MS });
    // Warm-up, not measured: the router and the load generator are fresh processes whose code V8
    // has not optimised yet. Without it the first run's steady p99 was 4.3–4.8 ms against 2.0–2.9
    // in the next two (five passes on 2026-11-26), which flattered that run's ratios; after 10 s
    // of load 3.8 ms, after 30 s 2.6 ms against 2.7 in the next run.
    await load.start();
    await sleep(WARMUP_S * 1000);
    await load.stop();

    for (let run = 1; run <= RUNS; run++) {
      // Steady state: the baseline.
      console.error(`run ${run}: platform idle after ${(await settled(platform)).toFixed(1)} s`);
      await load.start();
      await sleep(STEADY_S * 1000);
      const baseSamples = await load.stop();
      const baseOk = baseSamples.filter((s) => !failed(s)).map((s) => s.latency);
      const steadyP99 = pct(baseOk, 0.99);
      steady.push(steadyP99);
      console.error(`run ${run} steady (load ${load1()}): ${baseSamples.length} requests, ${baseSamples.filter(failed).length} failed, p50 ${f1(pct(baseOk, 0.5))} ms, p99 ${f1(steadyP99)} ms`);

      // Each operation: what it measures, and what a user does before it (not under load, not timed).
      const ops: Array<[string, () => Promise<Record<string, number> | void>, (() => Promise<void>)?]> = [
        ['deploy', async () => {
          const r = await push(dir, ['paas', 'main'], { ownSession: true });
          if (r.code !== 0) throw new Error(`push failed:\n${r.output}`);
        }, async () => {
          fs.appendFileSync(path.join(dir, 'server.py'), `# bench change ${++n}\n`);
          await exec('git', ['add', '-A'], { cwd: dir });
          await exec('git', ['commit', '-q', '-m', `bench ${n}`], { cwd: dir });
        }],
        ['restart', async () => void (await cli(platform, ['ps:restart', '-a', app]))],
        ['config', async () => void (await cli(platform, ['config:set', `BENCH_${++n}=x`, '-a', app]))],
        ['scale', async () => {
          const t = Date.now();
          await cli(platform, ['ps:scale', 'web=5', '-a', app]);
          const up = Date.now() - t;
          await sleep(3000);
          const t2 = Date.now();
          await cli(platform, ['ps:scale', 'web=1', '-a', app]);
          return { upMs: up, downMs: Date.now() - t2 };
        }],
        ['scale10', async () => {
          const r = await scaleTo10(platform, app);
          await sleep(2000);
          const t = Date.now();
          await cli(platform, ['ps:scale', 'web=1', '-a', app]);
          return { ...r, downMs: Date.now() - t };
        }],
      ];
      for (const [op, fn, prepare] of ops) {
        if (!ONLY.has(op)) continue;
        await prepare?.();
        console.error(`run ${run} ${op}: platform idle after ${(await settled(platform)).toFixed(1)} s`);
        const r = summarize(op, run, await underLoad(platform, app, load, fn), steadyP99);
        results.push(r);
        console.error(`run ${run} ${op} (load ${load1()}): ${(r.opMs / 1000).toFixed(2)} s, ${r.failed}/${r.requests} failed${r.failures.length ? ' ' + JSON.stringify(r.failures) : ''}, during p50 ${f1(r.p50)} p99 ${f1(r.p99)} max ${f1(r.max)} ms (steady p99 ${f1(steadyP99)})${r.extra ? ' ' + JSON.stringify(r.extra) : ''}`);
        if (Object.keys(r.slowBySecond).length) console.error(`    requests ≥ 0.9 s by second after the start (s:count, op took ${(r.opMs / 1000).toFixed(1)} s): ${Object.entries(r.slowBySecond).map(([k, v]) => `${k}:${v}`).join(' ')}`);
        if (process.env.BENCH_VERBOSE) console.error(`    slowest 1% (s after the start at ${r.opStart} ms:ms@dyno): ${r.slowest.join(' ')}`);
        for (const l of r.routerErrors.slice(0, 5)) console.error(`    ${l}`);
      }
    }
  } finally {
    load?.close();
    const destroyed = await paas(platform, ['apps:destroy', app, '--confirm', app]);
    if (destroyed.code !== 0) console.error(`apps:destroy ${app} failed (remove its containers, images, volume and network by hand): ${destroyed.stderr}`);
    await platform.stop();
    await removeOwned(docker, platform.owner); // its spare sandboxes and their network
    if (process.env.BENCH_VERBOSE) console.error(platform.output());
  }

  console.log(`Load: ${RATE} req/s through the router, ${RUNS} run(s), ${client}; steady p99 per run: ${steady.map(f1).join(', ')} ms.\n`);
  console.log('| operation | op time s (median) | failed / sent (all runs) | p99 during ms (median, per run) | p99 during ÷ steady (median) | max during ms (worst) | router at=error lines |');
  console.log('|---|---|---|---|---|---|---|');
  for (const op of ['deploy', 'restart', 'config', 'scale', 'scale10']) {
    const rs = results.filter((r) => r.op === op);
    if (!rs.length) continue;
    console.log(`| ${op} | ${f2(median(rs.map((r) => r.opMs / 1000)))} | ${rs.reduce((a, r) => a + r.failed, 0)} / ${rs.reduce((a, r) => a + r.requests, 0)} | ${f1(median(rs.map((r) => r.p99)))} (${rs.map((r) => f1(r.p99)).join(', ')}) | ${f2(median(rs.map((r) => r.p99 / r.steadyP99)))} | ${f1(Math.max(...rs.map((r) => r.max)))} | ${rs.reduce((a, r) => a + r.routerErrors.length, 0)} |`);
  }
  const s10 = results.filter((r) => r.op === 'scale10' && r.extra);
  if (s10.length) {
    console.log('\n| scale web 1→10 (s, median, per run) | |');
    console.log('|---|---|');
    for (const [k, label] of [
      ['firstCreatedMs', 'first new container created (docker `Created`)'], ['lastCreatedMs', 'last of the 9 created'],
      ['firstStartedMs', 'first started (`State.StartedAt`)'], ['lastStartedMs', 'last started'], ['lastListeningMs', 'last app printed `listening`'],
      ['routesMs', 'routes.json lists 10 backends'], ['distinctMs', '**10 distinct dynos answered through the router**'],
      ['cliMs', '`paas ps:scale web=10` returns'], ['cliRoundTripMs', 'for comparison: `paas ps --json` alone (CLI start + one API call)'], ['downMs', '`paas ps:scale web=1` returns (from 10)'],
    ] as const) {
      const xs = s10.map((r) => r.extra![k] / 1000);
      console.log(`| ${label} | ${f2(median(xs))} (${xs.map(f2).join(', ')}) |`);
    }
  }
  const sc = results.filter((r) => r.op === 'scale' && r.extra);
  if (sc.length) console.log(`\nscale 1→5 returns in ${f2(median(sc.map((r) => r.extra!.upMs / 1000)))} s, 5→1 in ${f2(median(sc.map((r) => r.extra!.downMs / 1000)))} s (medians).`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
