/**
 * Open-loop constant-rate load through the router, in a process of its own: the bench's script
 * spawns `paas` and `git push` for each operation, and a spawn blocks the spawning process's event
 * loop for 6–18 ms (fork of a process of this size), which a generator in the same process counted
 * as latency of the requests due then — at the very start of every operation.
 *
 * The bench uses `LoadProcess`; run as a child (`fork`), this file is the generator itself.
 */
import { fork, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

export interface Sample {
  at: number; // scheduled send time (epoch ms)
  latency: number; // ms from scheduled time to the end of the response (fractional: see now())
  status: number;
  error?: string;
  dyno?: string;
}

export const failed = (s: Sample) => s.error !== undefined || s.status < 200 || s.status >= 300;

interface LoadOptions {
  port: number;
  host: string;
  /** Requests per second. */
  rate: number;
  /** A request not answered by then counts as failed. */
  timeoutMs: number;
}

/**
 * Epoch ms with a fraction: a steady p99 of 2–3 ms (as on a KVM machine of 2026-11-26) in Date.now()'s
 * whole milliseconds made "during ÷ steady" jump between 1.5, 2.0 and 2.5 by rounding alone.
 */
const now = () => performance.timeOrigin + performance.now();

/** The generator: each request leaves at its scheduled time on a keep-alive agent; latency counts from that time. */
class Generator {
  samples: Sample[] = [];
  private running = false;
  private inflight = new Set<Promise<void>>();
  private loop?: Promise<void>;
  // Idle sockets are dropped after 2 s, below the router's 5 s keep-alive timeout: otherwise a
  // request sent on a socket the router is closing at that moment fails with ECONNRESET, a race
  // of every keep-alive client that says nothing about the platform.
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 32, timeout: 2000 });

  constructor(private readonly opts: LoadOptions) {}

  start() {
    this.running = true;
    const period = 1000 / this.opts.rate;
    const t0 = now();
    let k = 0;
    this.loop = (async () => {
      while (this.running) {
        const due = now();
        while (t0 + k * period <= due) {
          const p = this.one(t0 + k * period);
          this.inflight.add(p);
          void p.finally(() => this.inflight.delete(p));
          k++;
        }
        await sleep(Math.max(0, t0 + k * period - now()));
      }
    })();
  }

  async stop(): Promise<Sample[]> {
    this.running = false;
    await this.loop;
    await Promise.all([...this.inflight]);
    this.agent.destroy();
    return this.samples;
  }

  private one(at: number): Promise<void> {
    return new Promise((resolve) => {
      let settled = false;
      const done = (status: number, error?: string, body?: string) => {
        if (settled) return;
        settled = true;
        const dyno = body && /on (web\.\d+)/.exec(body)?.[1];
        this.samples.push({ at, latency: now() - at, status, error: error ?? (status >= 200 && status < 300 ? undefined : body?.slice(0, 100).trim()), dyno: dyno || undefined });
        resolve();
      };
      const req = http.get({ host: '127.0.0.1', port: this.opts.port, path: '/', headers: { host: this.opts.host }, agent: this.agent }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (body += d));
        res.on('end', () => done(res.statusCode ?? 0, undefined, body));
        res.on('error', (e) => done(0, (e as NodeJS.ErrnoException).code ?? e.message));
      });
      req.on('error', (e) => done(0, (e as NodeJS.ErrnoException).code ?? e.message));
      req.setTimeout(this.opts.timeoutMs, () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    });
  }
}

/**
 * The load, generated in a child process (in the bench's session, so at its CPU weight). One child
 * serves every window in turn, warm as the generator was when it lived in the bench's process.
 */
export class LoadProcess {
  private constructor(private readonly child: ChildProcess) {}

  static async spawn(opts: LoadOptions): Promise<LoadProcess> {
    const child = fork(fileURLToPath(import.meta.url), [JSON.stringify(opts)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const load = new LoadProcess(child);
    await load.ask('ready');
    return load;
  }

  private ask(command: 'ready' | 'start' | 'stop'): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const exited = (code: number | null) => reject(new Error(`load generator exited (${code}) on ${command}`));
      this.child.once('exit', exited);
      this.child.once('message', (m) => {
        this.child.off('exit', exited);
        resolve(m);
      });
      if (command !== 'ready') this.child.send(command);
    });
  }

  /** Starts a window of load: resolves once the first request is on its way. */
  async start(): Promise<void> {
    await this.ask('start');
  }

  /** Ends the window: stops sending, waits for the requests in flight, and returns its samples. */
  async stop(): Promise<Sample[]> {
    return (await this.ask('stop')) as Sample[];
  }

  close(): void {
    this.child.disconnect();
  }
}

if (process.send && process.argv[1] === fileURLToPath(import.meta.url)) {
  const opts = JSON.parse(process.argv[2]) as LoadOptions;
  let generator: Generator | undefined;
  process.on('message', async (command) => {
    if (command === 'start') {
      generator = new Generator(opts);
      generator.start();
      process.send!('started');
    } else if (command === 'stop' && generator) {
      process.send!(await generator.stop());
    }
  });
  process.send('ready');
}
