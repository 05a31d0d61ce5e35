import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { request, startBackend, table, waitFor, type Backend } from './test-helpers.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const tsx = path.join(root, 'node_modules', '.bin', 'tsx');

let child: ChildProcess | undefined;
let dataDir: string | undefined;
const backends: Backend[] = [];
afterEach(async () => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  child = undefined;
  while (backends.length) await backends.pop()!.close();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

function writeRoutes(dir: string, content: object) {
  const file = path.join(dir, 'routes.json');
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(content));
  fs.renameSync(`${file}.tmp`, file);
}

describe('router process (tsx router/main.ts)', () => {
  it('serves the persisted table, reports over IPC, writes access lines, follows route changes and drains on SIGTERM', async () => {
    let release: () => void = () => {};
    const a = await startBackend('a', (req, res) => {
      if (req.url === '/slow') release = () => res.end('slow done');
      else res.end('from a');
    });
    const b = await startBackend('b');
    backends.push(a, b);
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'router-main-'));
    writeRoutes(dataDir, table({ demo: { hosts: ['demo.localhost'], backends: [{ dyno: 'web.1', port: a.port }] } }, 1));

    const proc = spawn(tsx, ['router/main.ts'], {
      cwd: root,
      env: { ...process.env, PAAS_DATA_DIR: dataDir, PAAS_HTTP_PORT: '0', PAAS_BIND: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    child = proc;
    let stdout = '';
    let stderr = '';
    proc.stdout!.on('data', (c) => (stdout += c));
    proc.stderr!.on('data', (c) => (stderr += c));
    const messages: any[] = [];
    proc.on('message', (m) => messages.push(m));
    const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));

    const listening = await waitFor(() => messages.find((m) => m.type === 'listening'), 20_000, `listening message (stderr: ${stderr})`);
    const port: number = listening.port;
    expect(port).toBeGreaterThan(0);
    expect(stderr).toContain(`router listening on http://127.0.0.1:${port}`);
    // Sent right after `listening`; a second IPC message may arrive in a later read.
    await waitFor(() => messages.find((m) => m.type === 'routes' && m.version === 1), 5_000, 'routes version 1');

    const res = await request(port);
    expect(res.body).toBe('from a');
    await waitFor(() => stdout.includes('\n'), 5_000, 'an access line');
    const line = JSON.parse(stdout.split('\n')[0]);
    expect(line).toMatchObject({ app: 'demo', dyno: 'web.1' });
    expect(line.text).toMatch(/^at=info method=GET path="\/" host=demo\.localhost .*status=200 /);

    writeRoutes(dataDir, table({ demo: { hosts: ['demo.localhost', 'new.example.com'], backends: [{ dyno: 'web.2', port: b.port }] } }, 2));
    await waitFor(() => messages.some((m) => m.type === 'routes' && m.version === 2), 5_000, 'routes version 2');
    expect((await request(port, { host: 'new.example.com' })).json().backend).toBe('b');

    writeRoutes(dataDir, table({ demo: { hosts: ['demo.localhost'], backends: [{ dyno: 'web.1', port: a.port }] } }, 3));
    await waitFor(() => messages.some((m) => m.type === 'routes' && m.version === 3), 5_000, 'routes version 3');
    const slow = request(port, { path: '/slow' });
    await waitFor(() => a.requests.some((r) => r.url === '/slow'));
    proc.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 100));
    release();
    expect((await slow).body).toBe('slow done');
    expect(await exited).toBe(0);
  }, 60_000);

  it('exits non-zero with a message when the port is taken', async () => {
    const a = await startBackend('a');
    backends.push(a);
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'router-main-'));
    const proc = spawn(tsx, ['router/main.ts'], {
      cwd: root,
      env: { ...process.env, PAAS_DATA_DIR: dataDir, PAAS_HTTP_PORT: String(a.port), PAAS_BIND: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    let stderr = '';
    proc.stderr!.on('data', (c) => (stderr += c));
    const code = await new Promise<number | null>((resolve) => proc.on('exit', (c) => resolve(c)));
    expect(code).toBe(1);
    expect(stderr).toMatch(/cannot listen on 127\.0\.0\.1:\d+: .*EADDRINUSE/);
  }, 60_000);
});
