/**
 * Router benchmark (issue 6). Loopback only, bounded in time and count; not part of `npm test`.
 *
 * Needs `wrk` and Debian's `nginx` on PATH:   apt-get install -y nginx wrk
 *
 *   npx tsx bench/router/run.ts [--duration 6] [--runs 5] [--connections 50] [--only http,apps,ws]
 *
 * In one run, interleaved round by round so that background noise hits every target alike:
 * - the same tiny node:http app (6-byte body) hit directly, through router/main.ts (the real
 *   router process, access lines piped to this process as the platform reads them) and through
 *   nginx (one worker process, as the router is one process; upstream keep-alive pool, buffered access log);
 *   wrk -t2 -c50: requests/s, p50/p99, ratios, and CPU-seconds per 10,000 requests of the
 *   router's and nginx's processes (utime+stime from /proc/PID/stat, children included);
 * - the router with 1,000 apps in routes.json against 1;
 * - 1,000 websocket connections opened, echoed and closed, ten times, with the router's open
 *   descriptors and RSS after each round.
 * Prints medians as Markdown (docs/BENCHMARKS.md).
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { numberOption, option } from '../args.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');

// Five short runs rather than three long ones, in alternating order: background load on the shared
// machine comes in bursts, and a burst over one target's 10-s window decided a median of three.
const DURATION = numberOption('duration', 6, 1, 60);
const RUNS = numberOption('runs', 5, 1, 9);
const CONNECTIONS = numberOption('connections', 50, 1, 1000);
const ONLY = new Set((option('only') ?? 'http,apps,ws').split(','));
const WS_CONNECTIONS = 1000;
const WS_ROUNDS = 10;

for (const tool of ['wrk', 'nginx']) {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
  } catch {
    console.error(`${tool} not found: apt-get install -y nginx wrk`);
    process.exit(2);
  }
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'paas-bench-router-'));
const children: ChildProcess[] = [];
const cleanup = () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
};
process.on('exit', cleanup);
process.on('SIGINT', () => process.exit(130));

// ---------------------------------------------------------------- processes

const BACKEND_SRC = `
const http = require('node:http');
const { WebSocketServer } = require(${JSON.stringify(path.join(root, 'node_modules', 'ws'))});
const body = Buffer.from('hello\\n');
const server = http.createServer((req, res) => { req.resume(); res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length }); res.end(body); });
new WebSocketServer({ server }).on('connection', (ws) => ws.on('message', (m, binary) => ws.send(m, { binary })));
server.listen(0, '127.0.0.1', () => process.send({ type: 'listening', port: server.address().port }));
`;

function listening(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    child.on('message', (m: { type?: string; port?: number }) => m?.type === 'listening' && resolve(m.port!));
    child.once('exit', (code) => reject(new Error(`child exited with ${code}`)));
  });
}

async function startBackend() {
  const child = spawn(process.execPath, ['-e', BACKEND_SRC], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  children.push(child);
  return { child, port: await listening(child) };
}

const routesFile = path.join(work, 'routes.json');
let routesVersion = 0;
function writeRoutes(apps: number, backendPort: number) {
  const table: Record<string, { hosts: string[]; backends: object[] }> = {};
  // The measured app sits in the middle of the table; every app has a default and a custom host.
  for (let i = 0; i < apps; i++) {
    const name = i === Math.floor(apps / 2) ? 'bench' : `app-${i}`;
    table[name] = { hosts: [`${name}.localhost`, `www.${name}.example.test`], backends: [{ dyno: 'web.1', host: '127.0.0.1', port: backendPort }] };
  }
  const tmp = `${routesFile}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify({ version: ++routesVersion, apps: table }));
  fs.renameSync(tmp, routesFile);
  return routesVersion;
}

async function startRouter() {
  const child = spawn(process.execPath, ['--expose-gc', '--import', path.join(here, 'gc-hook.mjs'), '--import', 'tsx', path.join(root, 'router', 'main.ts')], {
    cwd: root,
    env: { ...process.env, PAAS_DATA_DIR: work, PAAS_HTTP_PORT: '0', PAAS_BIND: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  // Diagnostics pass through; the gc hook's heap reports are picked out.
  let heapWaiter: ((heap: { heapUsed: number; external: number }) => void) | undefined;
  let errBuf = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    errBuf += chunk;
    for (let nl = errBuf.indexOf('\n'); nl !== -1; nl = errBuf.indexOf('\n')) {
      const text = errBuf.slice(0, nl);
      errBuf = errBuf.slice(nl + 1);
      if (text.startsWith('bench-heap ')) heapWaiter?.(JSON.parse(text.slice(11)));
      else process.stderr.write(`${text}\n`);
    }
  });
  children.push(child);
  // Read the access lines as the platform does (it would also parse them; counting is enough here).
  let lines = 0;
  child.stdout!.on('data', (chunk: Buffer) => {
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
  });
  let loaded = 0;
  const waiters: Array<() => void> = [];
  child.on('message', (m: { type?: string; version?: number }) => {
    if (m?.type !== 'routes' || typeof m.version !== 'number') return;
    loaded = m.version;
    for (const w of waiters.splice(0)) w();
  });
  const port = await listening(child);
  return {
    child,
    port,
    lines: () => lines,
    /** Live heap after a full GC. */
    heap: () =>
      new Promise<{ heapUsed: number; external: number }>((resolve) => {
        heapWaiter = resolve;
        child.kill('SIGUSR2');
      }),
    async loaded(version: number) {
      while (loaded < version) await new Promise<void>((r) => waiters.push(r));
    },
  };
}

async function startNginx(backendPort: number) {
  const dir = path.join(work, 'nginx');
  fs.mkdirSync(path.join(dir, 'logs'), { recursive: true });
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  fs.writeFileSync(
    path.join(dir, 'nginx.conf'),
    `worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/logs/error.log warn;
daemon off;
events { worker_connections 4096; }
http {
  access_log ${dir}/logs/access.log combined buffer=64k flush=1s;
  upstream app { server 127.0.0.1:${backendPort}; keepalive 64; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    }
  }
}
`,
  );
  const child = spawn('nginx', ['-p', dir, '-c', path.join(dir, 'nginx.conf')], { stdio: ['ignore', 'ignore', 'inherit'] });
  children.push(child);
  for (let i = 0; i < 100; i++) {
    try {
      execFileSync('wrk', ['-t1', '-c1', '-d1s', `http://127.0.0.1:${port}/`], { stdio: 'ignore' });
      return { child, port };
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error('nginx did not start');
}

// ---------------------------------------------------------------- measuring

/** The process and its descendants (nginx workers). */
function tree(pid: number): number[] {
  const out = [pid];
  try {
    for (const task of fs.readdirSync(`/proc/${pid}/task`)) {
      const kids = fs.readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
      if (kids) for (const k of kids.split(/\s+/)) out.push(...tree(Number(k)));
    }
  } catch {
    // exited
  }
  return out;
}
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
function cpuSeconds(pid: number): number {
  let ticks = 0;
  for (const p of tree(pid)) {
    try {
      const fields = fs.readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1].split(' ');
      ticks += Number(fields[11]) + Number(fields[12]); // utime, stime
    } catch {
      // exited
    }
  }
  return ticks / CLK_TCK;
}
const fds = (pid: number) => tree(pid).reduce((n, p) => n + fs.readdirSync(`/proc/${p}/fd`).length, 0);
const rssMiB = (pid: number) =>
  tree(pid).reduce((n, p) => n + Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0), 0) / 1024;

interface Run {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  errors: number;
  cpu10k?: number;
}

const toMs = (s: string) => {
  const m = /^([\d.]+)(us|ms|s)$/.exec(s);
  if (!m) return NaN;
  return Number(m[1]) * (m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1);
};

/** Async, so that this process keeps reading the router's access lines meanwhile (as the platform does). */
function runWrk(args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('wrk', args, { encoding: 'utf8', timeout: timeoutMs }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
  });
}

async function wrk(port: number, host: string, seconds = DURATION, cpuPid?: number): Promise<Run> {
  const before = cpuPid ? cpuSeconds(cpuPid) : 0;
  const out = await runWrk(['-t2', `-c${CONNECTIONS}`, `-d${seconds}s`, '--latency', '-H', `Host: ${host}`, `http://127.0.0.1:${port}/`], (seconds + 30) * 1000);
  const after = cpuPid ? cpuSeconds(cpuPid) : 0;
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
  const errors = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0) + (/Socket errors: (.*)/.exec(out)?.[1].match(/\d+/g) ?? []).reduce((a, b) => a + Number(b), 0);
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0),
    p50: toMs(/^\s+50%\s+(\S+)/m.exec(out)?.[1] ?? ''),
    p99: toMs(/^\s+99%\s+(\S+)/m.exec(out)?.[1] ?? ''),
    requests,
    errors,
    cpu10k: cpuPid && requests ? ((after - before) / requests) * 10_000 : undefined,
  };
}

const median = (xs: number[]) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN;
};
const summary = (runs: Run[]) => ({
  rps: median(runs.map((r) => r.rps)),
  p50: median(runs.map((r) => r.p50)),
  p99: median(runs.map((r) => r.p99)),
  cpu10k: median(runs.map((r) => r.cpu10k ?? NaN)),
  errors: runs.reduce((n, r) => n + r.errors, 0),
  all: runs.map((r) => Math.round(r.rps)).join(' / '),
});

// ---------------------------------------------------------------- the run

const backend = await startBackend();
const router = await startRouter();
await router.loaded(writeRoutes(1, backend.port));
const nginx = await startNginx(backend.port);
const f = (n: number, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : '–');

console.log(`# router benchmark ${new Date().toISOString()}`);
console.log(
  `machine: ${os.cpus().length} cores (nproc ${execFileSync('nproc', { encoding: 'utf8' }).trim()}), ${os.cpus()[0]?.model ?? '?'}, kernel ${os.release()}, node ${process.version}, load average at start ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`,
);
console.log(`wrk -t2 -c${CONNECTIONS} -d${DURATION}s × ${RUNS} runs (medians); router and nginx one process/worker each\n`);

if (ONLY.has('http')) {
  // Warm-up: JIT, pools, connection set-up.
  for (const [port, host] of [[backend.port, 'x'], [router.port, 'bench.localhost'], [nginx.port, 'bench.localhost']] as const) await wrk(port, host, 2);
  const runs = { direct: [] as Run[], router: [] as Run[], nginx: [] as Run[] };
  const linesBefore = router.lines();
  const proxies = [
    async () => runs.router.push(await wrk(router.port, 'bench.localhost', DURATION, router.child.pid)),
    async () => runs.nginx.push(await wrk(nginx.port, 'bench.localhost', DURATION, nginx.child.pid)),
  ];
  for (let i = 0; i < RUNS; i++) {
    runs.direct.push(await wrk(backend.port, 'x'));
    for (const run of i % 2 ? [...proxies].reverse() : proxies) await run();
  }
  const d = summary(runs.direct);
  const r = summary(runs.router);
  const n = summary(runs.nginx);
  console.log('| target | req/s (median) | runs | p50 ms | p99 ms | × direct | CPU-s per 10k req | errors |');
  console.log('|---|---:|---|---:|---:|---:|---:|---:|');
  console.log(`| direct to the app | ${d.rps.toFixed(0)} | ${d.all} | ${f(d.p50)} | ${f(d.p99)} | 1.00 | – | ${d.errors} |`);
  console.log(`| this router | ${r.rps.toFixed(0)} | ${r.all} | ${f(r.p50)} | ${f(r.p99)} | ${f(r.rps / d.rps)} | ${f(r.cpu10k, 3)} | ${r.errors} |`);
  console.log(`| nginx (keep-alive upstream) | ${n.rps.toFixed(0)} | ${n.all} | ${f(n.p50)} | ${f(n.p99)} | ${f(n.rps / d.rps)} | ${f(n.cpu10k, 3)} | ${n.errors} |`);
  console.log(`\nrouter / nginx: throughput ${f(r.rps / n.rps)}×, p99 ${f(r.p99 / n.p99)}×, CPU per request ${f(r.cpu10k / n.cpu10k)}×`);
  // Paired within each round (the two runs of a round are back to back): less at the mercy of one burst.
  const paired = median(runs.router.map((x, i) => x.rps / runs.nginx[i].rps));
  console.log(`router / nginx throughput within each round: ${runs.router.map((x, i) => f(x.rps / runs.nginx[i].rps)).join(' / ')} (median ${f(paired)}×)`);
  await new Promise((r) => setTimeout(r, 200)); // the router writes its access lines every 20 ms
  const logged = router.lines() - linesBefore;
  const proxied = runs.router.reduce((a, x) => a + x.requests, 0);
  console.log(`access lines read from the router: ${logged} for ${proxied}+ requests\n`);
}

if (ONLY.has('apps')) {
  const runs = { one: [] as Run[], thousand: [] as Run[] };
  const tables = [
    async () => {
      await router.loaded(writeRoutes(1, backend.port));
      runs.one.push(await wrk(router.port, 'bench.localhost', DURATION, router.child.pid));
    },
    async () => {
      await router.loaded(writeRoutes(1000, backend.port));
      runs.thousand.push(await wrk(router.port, 'www.bench.example.test', DURATION, router.child.pid));
    },
  ];
  for (let i = 0; i < RUNS; i++) for (const run of i % 2 ? [...tables].reverse() : tables) await run();
  const one = summary(runs.one);
  const thousand = summary(runs.thousand);
  console.log('| route table | req/s (median) | runs | p50 ms | p99 ms | CPU-s per 10k req | errors |');
  console.log('|---|---:|---|---:|---:|---:|---:|');
  console.log(`| 1 app | ${one.rps.toFixed(0)} | ${one.all} | ${f(one.p50)} | ${f(one.p99)} | ${f(one.cpu10k, 3)} | ${one.errors} |`);
  console.log(`| 1,000 apps (2,000 hosts) | ${thousand.rps.toFixed(0)} | ${thousand.all} | ${f(thousand.p50)} | ${f(thousand.p99)} | ${f(thousand.cpu10k, 3)} | ${thousand.errors} |`);
  console.log(`\n1,000 apps / 1 app: ${f(thousand.rps / one.rps)}× throughput, ${f(thousand.cpu10k / one.cpu10k)}× CPU per request`);
  // Paired within each round (the two tables' runs are back to back), as for router / nginx above.
  const pairs = runs.thousand.map((x, i) => x.rps / runs.one[i].rps);
  console.log(`1,000 apps / 1 app within each round: ${pairs.map((x) => f(x)).join(' / ')} (median ${f(median(pairs))}×)\n`);
  await router.loaded(writeRoutes(1, backend.port));
}

if (ONLY.has('ws')) {
  const pid = router.child.pid!;
  const url = `ws://127.0.0.1:${router.port}/`;
  const round = async () => {
    const sockets = await Promise.all(
      Array.from({ length: WS_CONNECTIONS }, (_, i) =>
        new Promise<WebSocket>((resolve, reject) => {
          const ws = new WebSocket(url, { headers: { host: 'bench.localhost' } });
          ws.once('open', () => ws.send(`ping ${i}`));
          ws.once('message', (m) => (String(m) === `ping ${i}` ? resolve(ws) : reject(new Error(`bad echo ${m}`))));
          ws.once('error', reject);
        }),
      ),
    );
    const open = fds(pid);
    await Promise.all(sockets.map((ws) => new Promise<void>((resolve) => {
      ws.once('close', () => resolve());
      ws.close();
    })));
    return open;
  };
  const settle = () => new Promise((r) => setTimeout(r, 1_000));
  await round(); // warm-up: code paths, buffers
  await settle();
  const heapMiB = async () => (await router.heap()).heapUsed / 2 ** 20;
  const start = { fds: fds(pid), rss: rssMiB(pid), heap: await heapMiB() };
  const rows: string[] = [];
  let peakFds = 0;
  const t0 = performance.now();
  for (let i = 1; i <= WS_ROUNDS; i++) {
    const open = await round();
    peakFds = Math.max(peakFds, open);
    await settle();
    rows.push(`| ${i} | ${open} | ${fds(pid)} | ${rssMiB(pid).toFixed(1)} | ${f(await heapMiB(), 1)} |`);
  }
  const seconds = (performance.now() - t0) / 1000 - WS_ROUNDS;
  console.log(`${WS_ROUNDS} rounds of ${WS_CONNECTIONS} websockets through the router (open all, echo one message each, close all), ${seconds.toFixed(1)} s of work`);
  console.log(`router before the rounds (after one warm-up round): ${start.fds} fds, RSS ${start.rss.toFixed(1)} MiB, live heap ${f(start.heap, 1)} MiB\n`);
  console.log('| round | router fds with 1,000 open | fds after close (+1 s) | RSS MiB after close | live heap MiB after a full GC |');
  console.log('|---:|---:|---:|---:|---:|');
  for (const row of rows) console.log(row);
  console.log(`\nend: ${fds(pid)} fds (start ${start.fds}), RSS ${rssMiB(pid).toFixed(1)} MiB (start ${start.rss.toFixed(1)} MiB), live heap ${f(await heapMiB(), 1)} MiB (start ${f(start.heap, 1)} MiB)`);
}

console.log(`\nload average at the end: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
cleanup();
fs.rmSync(work, { recursive: true, force: true });
process.exit(0);
