import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { ROOT, type RunningPlatform } from './platform-process.ts';
import { runProcess } from './run-process.ts';

const git = (cwd: string, args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** A fresh git repo holding a copy of test/fixtures/apps/NAME, committed on main. */
export function fixtureRepo(fixture: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `paas-${fixture}-`));
  fs.cpSync(path.join(ROOT, 'test/fixtures/apps', fixture), dir, { recursive: true });
  git(dir, ['init', '-q', '--initial-branch=main']);
  git(dir, ['config', 'user.email', 'test@example.com']);
  git(dir, ['config', 'user.name', 'Test']);
  commitAll(dir, 'initial');
  return dir;
}

export function commitAll(dir: string, message: string): void {
  git(dir, ['add', '-A']);
  git(dir, ['commit', '-q', '--allow-empty', '-m', message]);
}

export function addRemote(dir: string, platform: RunningPlatform, app: string): void {
  const url = new URL(`${platform.apiUrl}/git/${app}.git`);
  url.username = 'x';
  url.password = platform.token;
  git(dir, ['remote', 'add', 'paas', url.toString()]);
}

/** `git push` (`ownSession`: in a session of its own, as from a user's terminal: startPlatform's `ownSessions`). */
export async function push(dir: string, args: string[] = ['paas', 'main'], { ownSession = false } = {}): Promise<{ code: number; output: string }> {
  const r = await runProcess('git', ['push', ...args], { cwd: dir, env: { ...process.env, GIT_TERMINAL_PROMPT: '0' }, ownSession });
  return { code: r.code, output: r.stdout + r.stderr };
}

/** A GET through the router with the app's Host header (and any others). */
export function routerGet(platform: RunningPlatform, host: string, urlPath = '/', headers: http.OutgoingHttpHeaders = {}): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port: platform.httpPort, path: urlPath, headers: { host, ...headers }, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.setTimeout(30_000, () => req.destroy(new Error('router request timed out')));
  });
}

export { ROOT };
