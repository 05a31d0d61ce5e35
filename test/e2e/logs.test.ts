import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paas, ROOT, startPlatform, waitFor, type RunningPlatform } from '../helpers/platform-process.ts';
import { addRemote, fixtureRepo, push, routerGet } from '../helpers/git-app.ts';

const APP = 'logs-e2e';
const LONG = 120_000;

/** A free TCP port on loopback (the platform keeps its API port across the restart, so `logs -t` can reconnect). */
const freePort = () => new Promise<number>((resolve) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => {
    const { port } = s.address() as net.AddressInfo;
    s.close(() => resolve(port));
  });
});

/** `paas logs -t` in the background, its output collected. */
function follow(platform: RunningPlatform, args: string[]): { child: ChildProcess; out: () => string } {
  const child = spawn(process.execPath, [path.join(ROOT, 'cli/bin/paas.mjs'), 'logs', '-t', '-a', APP, ...args], {
    cwd: os.tmpdir(),
    env: { ...process.env, PAAS_API_URL: platform.apiUrl, PAAS_TOKEN: platform.token },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return { child, out: () => out };
}

/** Syslog over TCP with octet counting, as a drain receiver would parse it; `stalled` accepts and never reads. */
function syslogReceiver(opts: { stalled?: boolean } = {}) {
  const messages: string[] = [];
  const sockets: net.Socket[] = [];
  const server = net.createServer((s) => {
    sockets.push(s);
    if (opts.stalled) return s.pause();
    let buf = Buffer.alloc(0);
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const sp = buf.indexOf(0x20);
        if (sp < 0) break;
        const len = Number(buf.toString('latin1', 0, sp));
        if (buf.length < sp + 1 + len) break;
        messages.push(buf.toString('utf8', sp + 1, sp + 1 + len));
        buf = buf.subarray(sp + 1 + len);
      }
    });
  });
  const listening = new Promise<number>((r) => server.listen(0, '127.0.0.1', () => r((server.address() as net.AddressInfo).port)));
  return {
    messages,
    listening,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

describe('the log stream', () => {
  let platform: RunningPlatform;
  let apiPort: number;
  const cli = (...args: string[]) => paas(platform, [...args, '-a', APP]);
  const logs = async (...args: string[]) => {
    const r = await cli('logs', '-n', '10000', ...args);
    expect(r.code, r.stderr).toBe(0);
    return r.stdout;
  };
  /** Polls `paas logs ARGS` until every pattern matches. */
  const logsUntil = (patterns: RegExp[], ...args: string[]) =>
    waitFor(async () => {
      const out = await logs(...args);
      return patterns.every((p) => p.test(out)) ? out : undefined;
    }, LONG, () => `missing one of ${patterns.join(', ')}`);
  const cleanups: (() => unknown)[] = [];

  beforeAll(async () => {
    apiPort = await freePort();
    platform = await startPlatform({ env: { PAAS_API_PORT: String(apiPort) } });
    const dir = fixtureRepo('logger-app');
    expect((await paas(platform, ['apps:create', APP])).code).toBe(0);
    addRemote(dir, platform, APP);
    const pushed = await push(dir);
    expect(pushed.code, pushed.output).toBe(0);
  });
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
    await paas(platform, ['apps:destroy', APP, '--confirm', APP]);
    await platform?.stop();
  });

  it('collects the web process, release phase, build output and platform events, each with its source and dyno', async () => {
    const out = await logsUntil([
      /^\S+ app\[web\.1\]: web listening on 5000$/m,
      /^\S+ app\[web\.1\]: web stderr line$/m,
      /^\S+ app\[release\.1\]: release phase says hi$/m,
      /^\S+ build\[[0-9a-f]{8}\]: -----> Discovering process types$/m,
      /^\S+ paas\[api\]: Deployed v1: Deploy [0-9a-f]{7} by admin$/m,
    ]);
    expect(out).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00 /);
  });

  it('adds router access lines and the app lines of each request', async () => {
    expect((await routerGet(platform, `${APP}.localhost`, '/hello')).status).toBe(200);
    await logsUntil([/^\S+ router\[web\.1\]: at=info method=GET path="\/hello" host=logs-e2e\.localhost .*status=200/m, /^\S+ app\[web\.1\]: web got \/hello$/m]);
    const routerOnly = await logs('--source', 'router');
    expect(routerOnly.trim().split('\n').every((l) => / router\[/.test(l))).toBe(true);
  });

  it('collects a worker once scaled, and filters by process type and dyno', async () => {
    const scaled = await cli('ps:scale', 'worker=1');
    expect(scaled.code, scaled.stderr).toBe(0);
    await logsUntil([/^\S+ app\[worker\.1\]: worker tick 2$/m, /^\S+ app\[worker\.1\]: worker bytes \uFFFD\uFFFD 2$/m], '--ps', 'worker');
    const worker = await logs('--ps', 'worker.1', '--source', 'app');
    expect(worker.trim().split('\n').every((l) => / app\[worker\.1\]: /.test(l))).toBe(true);
    const web = await logs('--ps', 'web');
    expect(web).not.toMatch(/worker tick/);
    expect(await logs('--source', 'paas')).toMatch(/paas\[api\]: Scaled to worker=1 by admin/);
    const bad = await cli('logs', '--source', 'kernel');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/source must be one of app, router, paas, build/);
  });

  it('collects a detached one-off run from its first line, and its exit', async () => {
    const started = await paas(platform, ['run:detached', '-a', APP, 'echo', 'detached says hi']);
    expect(started.code, started.stderr).toBe(0);
    const dyno = /(run\.[0-9a-f]{4})/.exec(started.stdout)![1].replace('.', '\\.');
    const said = new RegExp(`^\\S+ app\\[${dyno}\\]: detached says hi$`, 'm');
    const exited = new RegExp(`^\\S+ paas\\[${dyno}\\]: Process exited with status 0$`, 'm');
    const out = await logsUntil([said, exited]);
    expect(out.search(said)).toBeLessThan(out.search(exited));
  });

  it('follows new lines with logs -t', async () => {
    const t = follow(platform, ['--ps', 'web', '--source', 'app', '-n', '1']);
    cleanups.push(() => t.child.kill());
    await waitFor(async () => (t.out().trim() ? true : undefined), LONG, t.out);
    await routerGet(platform, `${APP}.localhost`, '/followed');
    await waitFor(async () => (/app\[web\.1\]: web got \/followed/.test(t.out()) ? true : undefined), LONG, t.out);
    t.child.kill();
  });

  it('splits long lines and keeps a burst whole and in order', async () => {
    await routerGet(platform, `${APP}.localhost`, '/burst?n=2000');
    const out = await logsUntil([/burst 0001999 /, /app\[web\.1\]: L{10240}$/m], '--ps', 'web.1', '--source', 'app');
    const seq = [...out.matchAll(/burst (\d{7}) /g)].map((m) => Number(m[1]));
    expect(seq).toEqual(Array.from({ length: 2000 }, (_, i) => i));
    const longPieces = out.split('\n').filter((l) => /app\[web\.1\]: L+$/.test(l)).map((l) => l.replace(/^.*: /, '').length);
    expect(longPieces).toEqual([10240, 10240, 30000 - 20480]);
  });

  it('sends the stream to a syslog drain and an HTTP drain, in order', async () => {
    const syslog = syslogReceiver();
    cleanups.push(syslog.close);
    const bodies: string[] = [];
    const httpServer = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        if (req.headers['content-type'] === 'application/logplex-1') bodies.push(body);
        res.end();
      });
    });
    await new Promise<void>((r) => httpServer.listen(0, '127.0.0.1', r));
    cleanups.push(() => httpServer.close());
    const syslogUrl = `syslog://127.0.0.1:${await syslog.listening}`;
    const httpUrl = `http://127.0.0.1:${(httpServer.address() as net.AddressInfo).port}/drain`;

    const bad = await cli('drains:add', 'ftp://example.com/x');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/unsupported drain scheme "ftp"/);
    expect((await cli('drains:add', syslogUrl)).code).toBe(0);
    expect((await cli('drains:add', httpUrl)).code).toBe(0);
    const listed = await cli('drains');
    expect(listed.stdout).toContain(syslogUrl);
    expect(listed.stdout).toContain(httpUrl);

    for (let i = 1; i <= 5; i++) await routerGet(platform, `${APP}.localhost`, `/drained/${i}`);
    const want = [1, 2, 3, 4, 5].map((i) => `web got /drained/${i}`);
    const inOrder = (msgs: string[]) => {
      const got = msgs.filter((m) => / app web\.1 - - web got \/drained\//.test(m)).map((m) => m.replace(/^.* - - /, '').trim());
      return got.length >= 5 ? got : undefined;
    };
    expect(await waitFor(async () => inOrder(syslog.messages), LONG)).toEqual(want);
    expect(await waitFor(async () => inOrder(bodies.flatMap((b) => b.split('\n').filter(Boolean).map((l) => l.replace(/^\d+ /, '')))), LONG)).toEqual(want);
    // The router's access lines come on their own path (batched on its stdout), maybe after the app's.
    const routerLine = /^<190>1 \S+ logs-e2e router web\.1 - - at=info method=GET path="\/drained\/1"/;
    expect(await waitFor(async () => syslog.messages.find((m) => routerLine.test(m)), LONG, () => syslog.messages.join('\n'))).toBeTruthy();

    expect((await cli('drains:remove', syslogUrl)).code).toBe(0);
    expect((await cli('drains:remove', httpUrl)).code).toBe(0);
    expect((await cli('drains')).stdout).not.toContain(syslogUrl);
  });

  it('drops lines for a stalled drain, says so in the stream, and the app keeps serving', async () => {
    const stalled = syslogReceiver({ stalled: true });
    cleanups.push(stalled.close);
    const url = `syslog://127.0.0.1:${await stalled.listening}`;
    expect((await cli('drains:add', url)).code).toBe(0);
    await waitFor(async () => {
      await routerGet(platform, `${APP}.localhost`, '/burst?n=20000');
      const drains = JSON.parse((await cli('drains', '--json')).stdout) as { url: string; stats: { dropped: number } }[];
      return drains.find((d) => d.url === url)!.stats.dropped > 0 ? true : undefined;
    }, LONG);
    await logsUntil([/paas\[logplex\]: Error L10 \(output buffer overflow\): \d+ messages dropped since /], '--source', 'paas');
    expect((await routerGet(platform, `${APP}.localhost`, '/still-up')).status).toBe(200);
    expect((await cli('drains:remove', url)).code).toBe(0);
  });

  it('keeps the history across a platform restart and resumes collection without duplicates or gaps', async () => {
    await routerGet(platform, `${APP}.localhost`, '/before-restart');
    await logsUntil([/web got \/before-restart/]);
    const t = follow(platform, ['--ps', 'web.1', '--source', 'app', '-n', '1']);
    cleanups.push(() => t.child.kill());
    await waitFor(async () => (t.out().trim() ? true : undefined), LONG, t.out);

    expect(await platform.stop()).toBe(0);
    // The worker keeps ticking while the platform is down.
    await new Promise((r) => setTimeout(r, 3000));
    platform = await startPlatform({ dataDir: platform.dataDir, env: { PAAS_API_PORT: String(apiPort) } });

    const out = await logsUntil([/web got \/before-restart/]);
    expect(out.match(/web got \/before-restart/g)).toHaveLength(1);

    // logs -t reconnected by itself, and prints what comes next exactly once.
    await routerGet(platform, `${APP}.localhost`, '/after-restart');
    await waitFor(async () => (/web got \/after-restart/.test(t.out()) ? true : undefined), LONG, t.out);
    expect(t.out().match(/web got \/after-restart/g)).toHaveLength(1);
    t.child.kill();

    // The worker's ticks, including those written while the platform was down: each once, none missing.
    const lastTick = Number([...out.matchAll(/worker tick (\d+)$/gm)].at(-1)![1]);
    await logsUntil([new RegExp(`worker tick ${lastTick + 3}$`, 'm')], '--ps', 'worker');
    const ticks = [...(await logs('--ps', 'worker', '--source', 'app')).matchAll(/worker tick (\d+)$/gm)].map((m) => Number(m[1]));
    expect(ticks.length).toBeGreaterThan(3);
    expect(ticks).toEqual(Array.from({ length: ticks.length }, (_, i) => ticks[0] + i));
  });
});
