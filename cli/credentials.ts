import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const file = () => path.join(process.env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config'), 'paas', 'credentials.json');

export function apiUrl(): string {
  return (process.env.PAAS_API_URL || savedCredentials()?.apiUrl || 'http://localhost:8080').replace(/\/+$/, '');
}

export function savedCredentials(): { apiUrl: string; token: string } | undefined {
  try {
    return JSON.parse(fs.readFileSync(file(), 'utf8'));
  } catch {
    return undefined;
  }
}

export function token(): string | undefined {
  return process.env.PAAS_TOKEN || savedCredentials()?.token;
}

export function saveCredentials(creds: { apiUrl: string; token: string }): string {
  fs.mkdirSync(path.dirname(file()), { recursive: true, mode: 0o700 });
  fs.writeFileSync(file(), JSON.stringify(creds, null, 2) + '\n', { mode: 0o600 });
  return file();
}

/** As Heroku's CLI does: a netrc entry lets plain `git push` authenticate with the same token. */
export function saveNetrc(host: string, tokenValue: string): string {
  const netrc = path.join(os.homedir(), '.netrc');
  let lines: string[] = [];
  try {
    lines = fs.readFileSync(netrc, 'utf8').split('\n');
  } catch {
    /* no netrc yet */
  }
  const kept: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    // Drop our previous single-line entry for this host; other entries are left as they are.
    if (lines[i].trim().startsWith(`machine ${host} `) || lines[i].trim() === `machine ${host}`) continue;
    kept.push(lines[i]);
  }
  while (kept.length && kept[kept.length - 1] === '') kept.pop();
  kept.push(`machine ${host} login paas password ${tokenValue}`, '');
  fs.writeFileSync(netrc, kept.join('\n'), { mode: 0o600 });
  return netrc;
}
