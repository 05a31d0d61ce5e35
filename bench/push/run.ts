/**
 * Push-to-live benchmark (issue 3). Loopback only, bounded in count and time; not part of `npm test`.
 *
 *   npx tsx bench/push/run.ts [--cold 3] [--warm 5] [--poll-ms 20] [--pause-ms 3000]
 *
 * Starts the real platform (platform/main.ts) on a temp data dir and pushes
 * test/fixtures/apps/node-app (Node, one npm dependency, `engines.node: 20.x`) with the real git
 * client, its greeting changed on every push. Per push, the time from spawning `git push` until
 * the router first answers the NEW greeting, split by timestamps:
 *
 *   receive  push start → `-----> Building` (pack upload, pre-receive hook)
 *   build    `-----> Building` → `-----> Launching...` (git archive, builder container, buildpack
 *            detect+compile, run image, release record)
 *            of which `compile` = `-----> Node.js app detected` → `-----> Building the run image`,
 *            `image` = → `-----> Discovering process types` (changed slug layers copied from the
 *            builder into containers of the image below and committed)
 *   release  `-----> Launching...` → web container created (docker `Created`)
 *   boot     container `Created` → the app's `node-app listening` line (docker logs -t):
 *            container start + node start-up
 *   route    `listening` → the router answers the new body (port check, routes.json, router reload)
 *   (git exit: when `git push` returns, after `Released vN`)
 *
 * overhead = total − compile − (StartedAt → listening): what the platform adds beyond the
 * buildpack's own work and the app's own start-up.
 *
 * Pushes are --pause-ms apart, as a developer's commits are at the very least: right after a push
 * the platform is still busy in the background for a second or two (the used builder removed, the
 * app's next builder and network sandbox started, the old release stopped after its drain), and a
 * push into that waits for it (`--pause-ms 0` shows how much).
 *
 * Cold: a fresh app each run (fresh cache volume: node is downloaded, npm ci runs). Warm: a
 * code-only change to an app that was deployed before. Meanwhile the router is polled every
 * --poll-ms; any answer other than 200 with the old or the new greeting counts as failed.
 * Prints every run and medians as Markdown (docs/BENCHMARKS.md).
 */
import { execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startPlatform, paas, type RunningPlatform } from '../../test/helpers/platform-process.ts';
import { addRemote, commitAll, fixtureRepo } from '../../test/helpers/git-app.ts';
import { removeOwned } from '../../test/helpers/remove-owned.ts';
import { createDocker } from '../../platform/docker.ts';
import { numberOption } from '../args.ts';

const COLD = numberOption('cold', 3, 0, 5);
const WARM = numberOption('warm', 5, 0, 10);
const POLL_MS = numberOption('poll-ms', 20, 5, 1000);
const PAUSE_MS = numberOption('pause-ms', 3000, 0, 60_000);
const PUSH_TIMEOUT_MS = 300_000;

const median = (xs: number[]) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const load1 = () => fs.readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
const sec = (ms: number) => (Number.isFinite(ms) ? (ms / 1000).toFixed(2) : '–');

/** Docker's RFC 3339 timestamps with nanoseconds → epoch ms. */
const dockerTime = (t: string) => Date.parse(t.replace(/(\.\d{3})\d*/, '$1'));
const docker = (...args: string[]) => execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

interface Line {
  t: number;
  text: string;
}

/** git push with each output line timestamped on arrival. */
function timedPush(dir: string): Promise<{ code: number; lines: Line[]; start: number; end: number }> {
  return new Promise((resolve) => {
    const start = Date.now();
    const child = spawn('git', ['push', 'paas', 'main'], { cwd: dir, detached: true, env: { ...process.env, GIT_TERMINAL_PROMPT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: Line[] = [];
    const reader = () => {
      let buf = '';
      return (d: Buffer) => {
        const now = Date.now();
        buf += d.toString('utf8');
        const parts = buf.split(/[\r\n]/);
        buf = parts.pop()!;
        for (const text of parts) if (text.trim()) lines.push({ t: now, text });
      };
    };
    child.stdout.on('data', reader());
    child.stderr.on('data', reader());
    const timer = setTimeout(() => child.kill('SIGTERM'), PUSH_TIMEOUT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, lines, start, end: Date.now() });
    });
  });
}

function get(port: number, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', headers: { host }, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', (e) => resolve({ status: 0, body: String(e) }));
    });
    req.on('error', (e) => resolve({ status: 0, body: String(e) }));
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
  });
}

/** Polls the router until `wanted` is in the body; counts answers that are neither old nor new. */
function watchRouter(platform: RunningPlatform, app: string, wanted: string, previous: string | undefined) {
  let stop = false;
  let live = NaN;
  let requests = 0;
  const failures: string[] = [];
  const done = (async () => {
    while (!stop) {
      const started = Date.now();
      const r = await get(platform.httpPort, `${app}.localhost`);
      requests++;
      if (r.status === 200 && r.body.includes(wanted)) {
        live = Date.now();
        return;
      }
      // Before the first deploy the app has no web yet: 503 is expected, not a failure.
      const ok = r.status === 200 && previous !== undefined && r.body.includes(previous);
      if (!ok && previous !== undefined) failures.push(`${r.status} ${r.body.slice(0, 80).trim()}`);
      await sleep(Math.max(0, POLL_MS - (Date.now() - started)));
    }
  })();
  return {
    async result(timeoutMs: number) {
      const deadline = Date.now() + timeoutMs;
      while (!Number.isFinite(live) && Date.now() < deadline) await sleep(10);
      stop = true;
      await done;
      return { live, requests, failures };
    },
  };
}

interface Run {
  kind: 'cold' | 'warm';
  version: number;
  total: number;
  receive: number;
  build: number;
  compile: number;
  image: number;
  release: number;
  boot: number;
  appStart: number;
  route: number;
  gitExit: number;
  overhead: number;
  requests: number;
  failed: number;
  failures: string[];
}

async function onePush(platform: RunningPlatform, dir: string, app: string, kind: 'cold' | 'warm', previous: string | undefined, n: number): Promise<{ run: Run; greeting: string }> {
  const greeting = `bench-${kind}-${n}-${crypto.randomBytes(3).toString('hex')}`;
  const server = path.join(dir, 'server.js');
  fs.writeFileSync(server, fs.readFileSync(server, 'utf8').replace(/`hello from [^`]*`/, `\`hello from ${greeting} \${ms('2 days')}\``));
  commitAll(dir, greeting);

  const watch = watchRouter(platform, app, greeting, previous);
  const push = await timedPush(dir);
  const { live, requests, failures } = await watch.result(push.code === 0 ? 30_000 : 0);
  if (push.code !== 0 || !Number.isFinite(live)) {
    throw new Error(`push ${kind} ${n} failed (exit ${push.code}, live ${live}):\n${push.lines.map((l) => l.text).join('\n')}\n${platform.output().slice(-3000)}`);
  }
  const at = (re: RegExp) => push.lines.find((l) => re.test(l.text))?.t ?? NaN;
  const building = at(/-----> Building /);
  const detected = at(/-----> .* app detected/);
  const runImage = at(/-----> Building the run image/);
  const discovering = at(/-----> Discovering process types/);
  const launching = at(/-----> Launching\.\.\./);
  const released = push.lines.find((l) => /Released v\d+/.test(l.text));
  const version = Number(/Released v(\d+)/.exec(released?.text ?? '')?.[1]);

  const id = docker('ps', '-aq', '--filter', `label=paas.owner=${platform.owner}`, '--filter', `label=paas.app=${app}`,
    '--filter', `label=paas.release=${version}`, '--filter', 'label=paas.dyno=web.1').trim().split('\n')[0];
  const [created, startedAt] = docker('inspect', '-f', '{{.Created}} {{.State.StartedAt}}', id).trim().split(' ').map(dockerTime);
  const listening = execFileSync('sh', ['-c', 'docker logs -t "$1" 2>&1', 'sh', id], { encoding: 'utf8' }).split('\n').find((l) => l.includes('listening on'));
  const listenAt = listening ? dockerTime(listening.split(' ')[0]) : NaN;

  const total = live - push.start;
  const compile = runImage - detected;
  const appStart = listenAt - startedAt;
  const run: Run = {
    kind,
    version,
    total,
    receive: building - push.start,
    build: launching - building,
    compile,
    image: discovering - runImage,
    release: created - launching,
    boot: listenAt - created,
    appStart,
    route: live - listenAt,
    gitExit: push.end - push.start,
    overhead: total - compile - appStart,
    requests,
    failed: failures.length,
    failures: failures.slice(0, 5),
  };
  console.error(`${kind} ${n} (load ${load1()}): v${version} total ${sec(total)} s  receive ${sec(run.receive)}  build ${sec(run.build)} (compile ${sec(compile)}, run image ${sec(run.image)})  release ${sec(run.release)}  boot ${sec(run.boot)} (app ${sec(appStart)})  route ${sec(run.route)}  git exit ${sec(run.gitExit)}  overhead ${sec(run.overhead)}  failed ${run.failed}/${requests}${failures.length ? ' ' + JSON.stringify(run.failures) : ''}`);
  if (process.env.BENCH_VERBOSE) console.error(push.lines.map((l) => `  +${sec(l.t - push.start)} ${l.text}`).join('\n'));
  return { run, greeting };
}

async function main() {
  // The platform and the clients (paas, git push) each in a session of their own, as in production (startPlatform).
  const platform = await startPlatform({ ownSessions: true });
  const apps: string[] = [];
  const runs: Run[] = [];
  const suffix = crypto.randomBytes(2).toString('hex');
  try {
    let dir = '';
    let app = '';
    let previous: string | undefined;
    for (let i = 1; i <= Math.max(COLD, WARM > 0 ? 1 : 0); i++) {
      // A fresh app (and so a fresh build cache volume) each time: node is downloaded, npm ci runs.
      app = `pushbench-${suffix}-${i}`;
      const created = await paas(platform, ['apps:create', app]);
      if (created.code !== 0) throw new Error(`apps:create ${app}: ${created.stderr}`);
      apps.push(app);
      dir = fixtureRepo('node-app');
      addRemote(dir, platform, app);
      const { run, greeting } = await onePush(platform, dir, app, 'cold', undefined, i);
      if (i <= COLD) runs.push(run);
      previous = greeting;
      await sleep(PAUSE_MS);
    }
    for (let i = 1; i <= WARM; i++) {
      const { run, greeting } = await onePush(platform, dir, app, 'warm', previous, i);
      runs.push(run);
      previous = greeting;
      await sleep(PAUSE_MS);
    }
  } finally {
    for (const app of apps) {
      const r = await paas(platform, ['apps:destroy', app, '--confirm', app]);
      if (r.code !== 0) console.error(`apps:destroy ${app} failed (remove its containers, images, volume and network by hand): ${r.stderr}`);
    }
    await platform.stop();
    await removeOwned(createDocker(), platform.owner); // its spare sandboxes and their network
    if (process.env.BENCH_VERBOSE) console.error(platform.output());
  }

  const keys: Array<[keyof Run, string]> = [
    ['total', '**push → new body via router**'], ['receive', 'receive (pack + hook)'], ['build', 'build'], ['compile', '  of which buildpack compile'], ['image', '  of which run image (changed layers copied and committed)'],
    ['release', 'release (→ container created)'], ['boot', 'boot (created → listening)'], ['appStart', '  of which app start (started → listening)'],
    ['route', 'route (listening → router answers)'], ['gitExit', '`git push` returns'], ['overhead', '**platform overhead** (total − compile − app start)'],
  ];
  const cold = runs.filter((r) => r.kind === 'cold');
  const warm = runs.filter((r) => r.kind === 'warm');
  const range = (rs: Run[], k: keyof Run) => {
    const xs = rs.map((r) => r[k] as number).filter(Number.isFinite);
    return xs.length ? `${sec(Math.min(...xs))}–${sec(Math.max(...xs))}` : '–';
  };
  console.log(`| seconds (median, min–max) | cold (n=${cold.length}) | warm (n=${warm.length}) |`);
  console.log('|---|---|---|');
  for (const [k, label] of keys) console.log(`| ${label} | ${sec(median(cold.map((r) => r[k] as number)))} (${range(cold, k)}) | ${sec(median(warm.map((r) => r[k] as number)))} (${range(warm, k)}) |`);
  const failed = (rs: Run[]) => `${rs.reduce((a, r) => a + r.failed, 0)} / ${rs.reduce((a, r) => a + r.requests, 0)}`;
  console.log(`| failed router answers while pushing (failed / polled) | ${failed(cold)} (no release before) | ${failed(warm)} |`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
