import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const routerMain = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'router', 'main.ts');

export interface RouterProcess {
  port: Promise<number>;
  stop(): Promise<void>;
}

/**
 * The router is its own process so that it keeps serving while the platform restarts.
 * Its stdout carries one JSON access line per request, handed to `onAccess`.
 */
export function startRouter(onAccess: (line: string) => void): RouterProcess {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', routerMain], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    env: process.env,
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
