import { spawn } from 'node:child_process';

export interface ProcessResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a program to its end and collects its output (no shell). `ownSession`: in a session of its
 * own (a new process group too), as from another terminal; startPlatform's `ownSessions` says why.
 */
export function runProcess(file: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string; ownSession?: boolean } = {}): Promise<ProcessResult> {
  return new Promise((resolve) => {
    const child = spawn(file, args, { cwd: opts.cwd, env: opts.env, detached: opts.ownSession ?? false, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (err) => resolve({ code: 1, stdout, stderr: stderr + err.message }));
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), stdout, stderr }));
    child.stdin.end(opts.input ?? '');
  });
}
