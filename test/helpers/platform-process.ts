import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runProcess, type ProcessResult } from './run-process.ts';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Per test run (set by test/global-setup.ts), so one run's clean-up never touches another's. */
export const ownersFile = () => process.env.PAAS_TEST_OWNERS_FILE ?? path.join(os.tmpdir(), 'paas-test-owners-unmanaged');

export interface RunningPlatform {
  dataDir: string;
  /** The `paas.owner` label of everything this platform creates on the engine. */
  owner: string;
  apiUrl: string;
  httpPort: number;
  token: string;
  output: () => string;
  /** The platform and the CLI runs against it each have a session of their own (see startPlatform). */
  ownSessions: boolean;
  /** SIGTERM and wait for a clean exit. */
  stop(): Promise<number | null>;
  /** SIGKILL, as a crash would. */
  kill(): Promise<void>;
}

/**
 * Starts the real platform (`platform/main.ts`) on free ports and waits until /healthz answers.
 * `ownSessions` (benchmarks): the platform, and every `paas` run against it, in a session of its
 * own, as `npm start` and a user's commands each run in their own terminal. The kernel weighs CPU
 * per session (autogroups): in the caller's, they would take the CPU from the caller's load
 * generator as nothing does in production. Tests leave it off, so that interrupting the run
 * interrupts its platforms too.
 */
export async function startPlatform(opts: { dataDir?: string; env?: NodeJS.ProcessEnv; ownSessions?: boolean } = {}): Promise<RunningPlatform> {
  const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'paas-e2e-'));
  const token = 'e2e-admin-token-' + path.basename(dataDir);
  const owner = crypto.createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 12);
  // The suite's teardown removes what test platforms leave on the engine (test/global-setup.ts).
  fs.appendFileSync(ownersFile(), owner + '\n');
  fs.rmSync(path.join(dataDir, 'ports.json'), { force: true });
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'platform/main.ts')], {
    cwd: ROOT,
    env: { ...process.env, PAAS_DATA_DIR: dataDir, PAAS_API_PORT: '0', PAAS_HTTP_PORT: '0', PAAS_ADMIN_TOKEN: token, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: opts.ownSessions ?? false,
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));

  const ports = await waitFor(async () => {
    if (child.exitCode !== null) throw new Error(`platform exited early:\n${out}`);
    try {
      return JSON.parse(fs.readFileSync(path.join(dataDir, 'ports.json'), 'utf8')) as { api: number; http: number };
    } catch {
      return undefined;
    }
  }, 60_000, () => out);
  const apiUrl = `http://127.0.0.1:${ports.api}`;
  await waitFor(async () => ((await fetch(`${apiUrl}/healthz`).catch(() => undefined))?.ok ? true : undefined), 30_000, () => out);
  return {
    dataDir,
    owner,
    apiUrl,
    httpPort: ports.http,
    token,
    output: () => out,
    ownSessions: opts.ownSessions ?? false,
    async stop() {
      child.kill('SIGTERM');
      return exited;
    },
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

export async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs: number, context: () => string = () => ''): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms\n${context()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export type CliResult = ProcessResult;

/** Runs the real `paas` binary. */
export function paas(platform: RunningPlatform, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<CliResult> {
  return runProcess(process.execPath, [path.join(ROOT, 'cli/bin/paas.mjs'), ...args], {
    // Not the project's own repo: apps:create would add a remote to it.
    cwd: opts.cwd ?? os.tmpdir(),
    env: { ...process.env, PAAS_API_URL: platform.apiUrl, PAAS_TOKEN: platform.token, ...opts.env },
    input: opts.input,
    ownSession: platform.ownSessions,
  });
}
