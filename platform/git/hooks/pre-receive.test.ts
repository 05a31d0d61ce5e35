import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const hook = path.join(path.dirname(fileURLToPath(import.meta.url)), 'pre-receive');
const UPDATE = `${'a'.repeat(40)} ${'b'.repeat(40)} refs/heads/main\n`;

/** Runs the real hook (sh + curl) as git would: the ref updates on stdin, the platform's address in the environment. */
function runHook(url: string, env: Record<string, string> = {}): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(hook, [], { env: { PATH: process.env.PATH, PAAS_HOOK_URL: url, PAAS_HOOK_TOKEN: 'secret', ...env } });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('close', (code) => resolve({ code, output }));
    child.stdin.end(UPDATE);
  });
}

describe('the pre-receive hook', () => {
  let server: http.Server | undefined;
  afterEach(() => server?.close());

  /** A platform stand-in answering with `body`; resolves to its URL and what it was sent. */
  const platform = async (body: string) => {
    const seen: { authorization?: string; body: string } = { body: '' };
    server = http.createServer((req, res) => {
      seen.authorization = req.headers.authorization;
      req.setEncoding('utf8').on('data', (d) => (seen.body += d));
      req.on('end', () => res.end(body));
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/internal/git/pre-receive`, seen };
  };

  it('sends the quarantine directories and the ref updates with its secret, shows the output, exits with the status', async () => {
    const { url, seen } = await platform('-----> Building\n       done\n\u001e0\n');
    const result = await runHook(url, { GIT_OBJECT_DIRECTORY: '/r/objects/incoming-x', GIT_QUARANTINE_PATH: '/r/objects/incoming-x' });
    expect(result).toEqual({ code: 0, output: '-----> Building\n       done\n' });
    expect(seen.authorization).toBe('Bearer secret');
    expect(seen.body).toBe(`/r/objects/incoming-x\n\n/r/objects/incoming-x\n${UPDATE}`);
  });

  it('rejects the push when the deploy failed, after a last line without a newline', async () => {
    const { url } = await platform(' !     Build failed\u001e1\n');
    expect(await runHook(url)).toEqual({ code: 1, output: ' !     Build failed\n' });
  });

  it('rejects the push when the platform cannot be reached or ends without a status', async () => {
    const { url } = await platform('-----> Building\n');
    const cut = await runHook(url);
    expect(cut.code).toBe(1);
    expect(cut.output).toContain('the platform ended the deploy without a status');

    server!.close();
    const unreachable = await runHook(url);
    expect(unreachable.code).toBe(1);
    expect(unreachable.output).toMatch(/curl: \(7\)/);
  });
});
