import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const routerMain = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'router', 'main.ts');

export interface RouterProcess {
  port: Promise<number>;
  stop(): Promise<void>;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * A router left by a platform that was killed keeps serving until now; it holds the port, so it
 * is asked to finish its in-flight requests and go. Only a process running router/main.ts is touched.
 */
async function retirePreviousRouter(pidFile: string): Promise<void> {
  const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return;
  const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  if (!cmdline.includes(routerMain)) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 15_000;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
}

/**
 * The router is its own process so that it keeps serving while the platform restarts.
 * Its stdout carries one JSON access line per request, handed to `onAccess`; it acknowledges each
 * route table it loads, handed to `onRoutes`.
 */
export async function startRouter(dataDir: string, onAccess: (line: string) => void, onRoutes: (version: number) => void): Promise<RouterProcess> {
  const pidFile = path.join(dataDir, 'router.pid');
  await retirePreviousRouter(pidFile).catch(() => {});
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', routerMain], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    env: process.env,
    // A session of its own: with the kernel's autogroups (on by default) a session weighs as one on
    // the CPU, and in the platform's the router shared that weight with the push it is receiving
    // (git, the platform's own work) — it waited up to 28 ms for a CPU while a deploy began. It
    // gets no terminal signals then: the platform stops it (stop()).
    detached: true,
  });
  fs.writeFileSync(pidFile, `${child.pid}\n`);
  child.on('message', (m: { type?: string; version?: number }) => {
    if (m?.type === 'routes' && typeof m.version === 'number') onRoutes(m.version);
  });
  let buffered = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    let nl;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      onAccess(buffered.slice(0, nl));
      buffered = buffered.slice(nl + 1);
    }
  });
  const port = new Promise<number>((resolve, reject) => {
    child.on('message', (m: { type?: string; port?: number }) => {
      if (m?.type === 'listening' && typeof m.port === 'number') resolve(m.port);
    });
    child.on('exit', (code) => reject(new Error(`router exited with code ${code} before listening`)));
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return {
    port,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
