/**
 * Log stream benchmark (issue 7). Loopback only, bounded in time and count; not part of `npm test`.
 *
 *   npx tsx bench/logs/run.ts [--writers 4] [--rate 5000] [--duration 10] [--runs 3] [--lead 25]
 *
 * Starts the real platform (platform/main.ts) on a temp data dir, pushes bench/logs/app, and per
 * run scales `writer` to N containers, each writing RATE sequence-numbered 200-byte lines per
 * second for DURATION seconds (python3, through Docker's json-file driver as any app would), all
 * starting at the same moment (LEAD seconds after the run begins).
 * Two consumers read the app's stream at once:
 * - a websocket, as `paas logs -t` does (`/api/apps/APP/logs/stream?tail=1`; a batch of lines per message);
 * - a syslog drain (RFC 5424, octet counting over TCP) to a receiver in a process of its own.
 * For each: lines/s delivered (first to last line received), lines lost (sequence gaps against
 * what the writers say they wrote), duplicates, and write → delivery latency p50/p99 (the line
 * carries its write time; same host clock). Prints medians over the runs as Markdown.
 */
import { execFileSync, fork } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { startPlatform, type RunningPlatform } from '../../test/helpers/platform-process.ts';
import { numberOption } from '../args.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const WRITERS = numberOption('writers', 4, 1, 8);
const RATE = numberOption('rate', 5000, 1, 50_000);
const DURATION = numberOption('duration', 10, 1, 60);
const RUNS = numberOption('runs', 3, 1, 5);
/** Seconds from setting START_AT to the writers' start: a release, then N containers started. */
const LEAD = numberOption('lead', 25, 1, 120);
const APP = 'logbench';

interface Sink {
  name: string;
  seen: Map<string, Set<number>>;
  done: Map<string, number>;
  dupes: number;
  latencies: number[];
  /** Write → the engine's timestamp (the json-file driver took the line), websocket only. */
  engine: number[];
  /** Write times, beside latencies: how latency moves over a run. */
  writes: number[];
  first: number;
  last: number;
}
const sink = (name: string): Sink => ({ name, seen: new Map(), done: new Map(), dupes: 0, latencies: [], engine: [], writes: [], first: 0, last: 0 });

/** One line of a writer as received by a consumer: `seq=%09d t=%.6f xxx…`, or `done N`. */
function record(s: Sink, dyno: string, text: string, engineTime?: string) {
  const now = Date.now() / 1000;
  if (text.startsWith('done ')) {
    s.done.set(dyno, Number(text.slice(5)));
    return;
  }
  if (!text.startsWith('seq=')) return;
  const seq = Number(text.slice(4, 13));
  const t = Number(text.slice(16, text.indexOf(' ', 16)));
  if (!s.first) s.first = now;
  s.last = now;
  let set = s.seen.get(dyno);
  if (!set) s.seen.set(dyno, (set = new Set()));
  if (set.has(seq)) s.dupes++;
  else set.add(seq);
  s.latencies.push(now - t);
  s.writes.push(t);
  if (engineTime) s.engine.push(Date.parse(engineTime) / 1000 - t);
}

function summary(s: Sink) {
  const written = [...s.done.values()].reduce((a, b) => a + b, 0);
  const received = [...s.seen.values()].reduce((a, set) => a + set.size, 0);
  const pctOf = (xs: number[]) => {
    const sorted = [...xs].sort((a, b) => a - b);
    return (p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] : NaN);
  };
  const pct = pctOf(s.latencies);
  const eng = pctOf(s.engine);
  // Median latency (ms) of the lines written in each second of the run.
  const t0 = s.writes.reduce((a, b) => Math.min(a, b), Infinity);
  const perSecond: number[][] = [];
  s.writes.forEach((t, i) => (perSecond[Math.floor(t - t0)] ??= []).push(s.latencies[i]));
  const timeline = [...perSecond].map((xs) => (xs ? Math.round(pctOf(xs)(0.5) * 1000) : null));
  return {
    timeline,
    written,
    received,
    lost: written - received,
    dupes: s.dupes,
    rate: received / Math.max(s.last - s.first, 0.001),
    p50: pct(0.5) * 1000,
    p99: pct(0.99) * 1000,
    engineP50: eng(0.5) * 1000,
    engineP99: eng(0.99) * 1000,
  };
}

async function api(platform: RunningPlatform, method: string, url: string, body?: unknown, retried = false): Promise<any> {
  // A kept-alive connection the server just closed: undici reports it as "other side closed".
  const res = await fetch(`${platform.apiUrl}${url}`, {
    method,
    headers: { authorization: `Bearer ${platform.token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  }).catch((err) => {
    if (!retried && err.cause?.code === 'UND_ERR_SOCKET') return undefined;
    throw new Error(`${method} ${url}: ${err.cause?.message ?? err.message}\n${platform.output().slice(-2000)}`);
  });
  if (!res) return api(platform, method, url, body, true);
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/**
 * The syslog drain's receiver, in a process of its own (as a log host would be): one consumer
 * process for both streams would measure its own event loop. Messages from the bench: `reset`
 * (a new run), `status` (writers done), `summary`.
 */
function syslogReceiver() {
  let s = sink('drain');
  const server = net.createServer((socket) => {
    let buf = Buffer.alloc(0);
    socket.on('data', (d) => {
      buf = buf.length ? Buffer.concat([buf, d]) : d;
      let i = 0;
      for (;;) {
        const sp = buf.indexOf(0x20, i);
        if (sp < 0) break;
        const len = Number(buf.toString('latin1', i, sp));
        if (sp + 1 + len > buf.length) break;
        const msg = buf.toString('utf8', sp + 1, sp + 1 + len);
        i = sp + 1 + len;
        // <190>1 TIME HOST APP-NAME PROCID - - MSG
        const m = /^<\d+>1 \S+ \S+ (\S+) (\S+) - - /.exec(msg);
        if (m && m[1] === 'app' && m[2].startsWith('writer.')) record(s, m[2], msg.slice(m[0].length));
      }
      buf = buf.subarray(i);
    });
  });
  server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as net.AddressInfo).port }));
  process.on('message', (m: string) => {
    if (m === 'reset') s = sink('drain');
    process.send!(m === 'summary' ? summary(s) : { done: s.done.size });
  });
  process.on('disconnect', () => process.exit(0));
}

/** The receiver process: its port, and a question/answer channel. */
async function startReceiver() {
  const child = fork(fileURLToPath(import.meta.url), ['--syslog-receiver'], { execArgv: process.execArgv });
  const port = await new Promise<number>((resolve) => child.once('message', (m: { port: number }) => resolve(m.port)));
  const ask = <T>(q: string) => new Promise<T>((resolve) => (child.once('message', resolve), child.send(q)));
  return { port, ask, close: () => child.kill() };
}

async function main() {
  const platform = await startPlatform();
  let receiver: Awaited<ReturnType<typeof startReceiver>> | undefined;
  const results: { ws: ReturnType<typeof summary>; drain: ReturnType<typeof summary> }[] = [];
  try {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'paas-bench-logs-'));
    fs.cpSync(path.join(here, 'app'), dir, { recursive: true });
    const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, stdio: 'pipe' });
    git('init', '-q', '-b', 'main');
    git('-c', 'user.email=b@example.com', '-c', 'user.name=bench', 'commit', '-q', '--allow-empty', '-m', 'x');
    git('add', '-A');
    git('-c', 'user.email=b@example.com', '-c', 'user.name=bench', 'commit', '-q', '-m', 'bench app');
    await api(platform, 'POST', '/api/apps', { name: APP });
    const remote = new URL(`${platform.apiUrl}/git/${APP}.git`);
    remote.username = 'x';
    remote.password = platform.token;
    git('push', '-q', remote.toString(), 'main');
    await api(platform, 'PATCH', `/api/apps/${APP}/config`, { RATE: String(RATE), DURATION: String(DURATION) });

    receiver = await startReceiver();
    await api(platform, 'POST', `/api/apps/${APP}/drains`, { url: `syslog://127.0.0.1:${receiver.port}` });

    for (let run = 1; run <= RUNS; run++) {
      const s = { ws: sink('ws') };
      await receiver.ask('reset');
      const wsUrl = `${platform.apiUrl.replace(/^http/, 'ws')}/api/apps/${APP}/logs/stream?tail=1&lines=0&source=app&ps=writer`;
      const ws = new WebSocket(wsUrl, { headers: { authorization: `Bearer ${platform.token}` } });
      // A message is a batch of lines, `TIME SOURCE[DYNO]: text` each.
      ws.on('message', (data) => {
        const m = JSON.parse(data.toString()) as { lines?: string[]; notice?: string };
        if (m.notice) console.error(`notice: ${m.notice}`);
        for (const line of m.lines ?? []) {
          const sp = line.indexOf(' ');
          const open = line.indexOf('[', sp);
          const close = line.indexOf(']: ', open);
          if (sp < 0 || open < 0 || close < 0) continue;
          record(s.ws, line.slice(open + 1, close), line.slice(close + 3), line.slice(0, sp));
        }
      });
      await new Promise((r, j) => ws.once('open', r).once('error', j));
      // All writers start at the same moment (their containers start one after the other), so
      // that lines/s over first → last line received is the aggregate of N writers.
      await api(platform, 'PATCH', `/api/apps/${APP}/config`, { START_AT: String(Math.ceil(Date.now() / 1000) + LEAD) });
      await api(platform, 'PATCH', `/api/apps/${APP}/formation`, { writer: WRITERS });
      const deadline = Date.now() + (LEAD + DURATION + 90) * 1000;
      while (Date.now() < deadline && (s.ws.done.size < WRITERS || (await receiver.ask<{ done: number }>('status')).done < WRITERS)) await sleep(200);
      await sleep(500);
      ws.close();
      await api(platform, 'PATCH', `/api/apps/${APP}/formation`, { writer: 0 });
      const r = { ws: summary(s.ws), drain: await receiver.ask<ReturnType<typeof summary>>('summary') };
      results.push(r);
      console.error(`run ${run}: ${JSON.stringify(r)}`);
      await sleep(3000);
    }
  } finally {
    receiver?.close();
    // Twice: the first can race containers still being stopped.
    await api(platform, 'DELETE', `/api/apps/${APP}`).catch(() => sleep(5000).then(() => api(platform, 'DELETE', `/api/apps/${APP}`))).catch((err) => console.error(`destroying ${APP}: ${err.message.split('\n')[0]}`));
    await platform.stop();
    if (process.env.BENCH_VERBOSE) console.error(platform.output());
  }

  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const row = (name: string, pick: (r: (typeof results)[number]) => ReturnType<typeof summary>) => {
    const m = (k: Exclude<keyof ReturnType<typeof summary>, 'timeline'>) => median(results.map((r) => pick(r)[k]));
    return `| ${name} | ${Math.round(m('written'))} | ${Math.round(m('rate')).toLocaleString('en')} | ${m('lost')} | ${m('dupes')} | ${m('p50').toFixed(0)} | ${m('p99').toFixed(0)} |`;
  };
  console.log(`${WRITERS} writers × ${RATE} lines/s × ${DURATION} s (200-byte lines), ${RUNS} runs, medians; ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}\n`);
  console.log('| consumer | lines written | lines/s delivered | lost | duplicates | p50 ms | p99 ms |');
  console.log('|---|---|---|---|---|---|---|');
  console.log(row('`logs -t` (websocket)', (r) => r.ws));
  console.log(row('syslog drain (TCP)', (r) => r.drain));
  const e = (k: 'engineP50' | 'engineP99') => median(results.map((r) => r.ws[k])).toFixed(0);
  console.log(`\nOf which write → the engine's timestamp (Docker took the line from the container): p50 ${e('engineP50')} ms, p99 ${e('engineP99')} ms; load average at the end: ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
}

if (process.argv.includes('--syslog-receiver')) syslogReceiver();
else
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
