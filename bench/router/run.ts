/**
 * Router benchmark (issue 6), loopback only and bounded: a fixed number of
 * keep-alive GETs at a fixed concurrency, straight to a backend and through
 * the router with each engine. Every process (load, router, backend) shares
 * this machine's cores, so compare rows with each other, not with numbers
 * published elsewhere.
 *
 *   tsx bench/router/run.ts [--requests 20000] [--concurrency 32] [--backends 2] [--engines http-proxy,node] [--bytes 1024]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const tsx = path.join(root, 'node_modules', '.bin', 'tsx');

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}
const REQUESTS = Math.min(Number(arg('requests', '20000')), 1_000_000);
const CONCURRENCY = Math.min(Number(arg('concurrency', '32')), 1024);
const BACKENDS = Math.min(Number(arg('backends', '2')), 16);
const BYTES = Math.min(Number(arg('bytes', '1024')), 10 * 1024 * 1024);
const ENGINES = arg('engines', 'http-proxy,node').split(',');

const children: ChildProcess[] = [];
const cleanup = () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
};
process.on('exit', cleanup);
process.on('SIGINT', () => process.exit(130));

function waitListening(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    child.once('message', (m: any) => (m?.type === 'listening' ? resolve(m.port) : reject(new Error(`unexpected ${JSON.stringify(m)}`))));
    child.once('exit', (code) => reject(new Error(`child exited with ${code}`)));
  });
}

const BACKEND_SRC = `
const http = require('node:http');
const body = Buffer.alloc(Number(process.argv[1]), 'x');
const server = http.createServer((req, res) => { req.resume(); res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length }); res.end(body); });
server.listen(0, '127.0.0.1', () => process.send({ type: 'listening', port: server.address().port }));
`;

async function startBackend(): Promise<number> {
  const child = spawn(process.execPath, ['-e', BACKEND_SRC, String(BYTES)], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  children.push(child);
  return waitListening(child);
}

async function startRouter(engine: string, ports: number[]): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(tsx, [path.join(here, 'router-entry.ts'), engine, ports.join(',')], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'], // access lines written, then discarded
  });
  children.push(child);
  return { port: await waitListening(child), child };
}

interface Result {
  target: string;
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  errors: number;
}

async function load(target: string, port: number, host: string, total: number): Promise<Result> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const latencies: number[] = [];
  let issued = 0;
  let errors = 0;
  const one = () =>
    new Promise<void>((resolve) => {
      const t0 = performance.now();
      const req = http.get({ host: '127.0.0.1', port, path: '/', headers: { host }, agent }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode !== 200) errors++;
          latencies.push(performance.now() - t0);
          resolve();
        });
      });
      req.on('error', () => {
        errors++;
        resolve();
      });
    });
  const worker = async () => {
    while (issued < total) {
      issued++;
      await one();
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? NaN;
  return { target, rps: total / seconds, p50: pct(50), p90: pct(90), p99: pct(99), max: latencies[latencies.length - 1] ?? NaN, errors };
}

const ports: number[] = [];
for (let i = 0; i < BACKENDS; i++) ports.push(await startBackend());
const results: Result[] = [];
const warmup = Math.min(2_000, REQUESTS);

await load('warmup', ports[0], 'x', warmup);
results.push(await load('direct (one backend)', ports[0], 'x', REQUESTS));
for (const engine of ENGINES) {
  const r = await startRouter(engine, ports);
  await load('warmup', r.port, 'bench.localhost', warmup);
  results.push(await load(`router: ${engine}`, r.port, 'bench.localhost', REQUESTS));
  r.child.kill('SIGTERM');
}

const f = (n: number) => n.toFixed(2).padStart(8);
console.log(`\n${REQUESTS} keep-alive GETs, concurrency ${CONCURRENCY}, ${BACKENDS} backend(s), ${BYTES}-byte bodies, node ${process.version}\n`);
console.log(`${'target'.padEnd(24)} ${'req/s'.padStart(9)} ${'p50 ms'.padStart(8)} ${'p90 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'max ms'.padStart(8)} errors`);
for (const r of results) {
  console.log(`${r.target.padEnd(24)} ${r.rps.toFixed(0).padStart(9)} ${f(r.p50)} ${f(r.p90)} ${f(r.p99)} ${f(r.max)} ${r.errors}`);
}
cleanup();
process.exit(0);
