import fs from 'node:fs/promises';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { App } from '../store/schema.ts';

const run = promisify(execFile);

export const repoPath = (dataDir: string, appName: string) => path.join(dataDir, 'repos', `${appName}.git`);

/** One bare repository per app; fsck on receive so a corrupt or malicious pack is refused. */
export async function createRepo(dataDir: string, app: App): Promise<void> {
  const dir = repoPath(dataDir, app.name);
  await fs.mkdir(path.dirname(dir), { recursive: true });
  await run('git', ['init', '--quiet', '--bare', '--initial-branch=main', dir]);
  for (const [key, value] of [
    ['receive.fsckObjects', 'true'],
    ['http.receivepack', 'true'],
    ['receive.denyDeletes', 'false'],
    ['receive.denyNonFastForwards', 'false'],
  ]) {
    await run('git', ['config', '--file', path.join(dir, 'config'), key, value]);
  }
}

export async function removeRepo(dataDir: string, app: App): Promise<string[]> {
  const dir = repoPath(dataDir, app.name);
  await fs.rm(dir, { recursive: true, force: true });
  return [`git repository ${path.relative(dataDir, dir)}`];
}
