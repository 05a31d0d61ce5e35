import { execFile, spawn } from 'node:child_process';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { invalid } from '../errors.ts';

const run = promisify(execFile);

/** A pushed commit, read straight from the bare repo (and the push's quarantine, before it is accepted). */
export interface Source {
  repoDir: string;
  commit: string;
  gitEnv: Record<string, string>;
  hasDockerfile: boolean;
  procfile: string | undefined;
}

function env(source: Pick<Source, 'repoDir' | 'gitEnv'>) {
  return { ...process.env, ...source.gitEnv, GIT_DIR: source.repoDir };
}

export async function openSource(repoDir: string, commit: string, gitEnv: Record<string, string>): Promise<Source> {
  const base = { repoDir, gitEnv };
  const { stdout } = await run('git', ['ls-tree', '-r', '-z', '--full-tree', commit], { env: env(base), maxBuffer: 256 * 1024 * 1024 });
  const entries = stdout.split('\0').filter(Boolean).map((line) => {
    const [meta, file] = line.split('\t');
    const [mode, , sha] = meta.split(' ');
    return { mode, sha, file };
  });
  for (const e of entries.filter((e) => e.mode === '120000')) {
    const target = (await run('git', ['cat-file', 'blob', e.sha], { env: env(base) })).stdout;
    if (escapesTree(e.file, target)) throw invalid(`symlink ${e.file} points outside the repository (${target}); refusing to build it`);
  }
  const procfileEntry = entries.find((e) => e.file === 'Procfile');
  const procfile = procfileEntry ? (await run('git', ['cat-file', 'blob', procfileEntry.sha], { env: env(base) })).stdout : undefined;
  return { repoDir, commit, gitEnv, hasDockerfile: entries.some((e) => e.file === 'Dockerfile'), procfile };
}

export function escapesTree(file: string, target: string): boolean {
  if (path.posix.isAbsolute(target)) return true;
  const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(file), target));
  return resolved === '..' || resolved.startsWith('../');
}

/** The commit's tree as a tar stream, optionally under a directory prefix (e.g. `app/`). */
export function archive(source: Source, prefix = ''): Readable {
  const child = spawn('git', ['archive', '--format=tar', ...(prefix ? [`--prefix=${prefix}`] : []), source.commit], {
    env: env(source),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  child.on('exit', (code) => {
    if (code !== 0) child.stdout.destroy(new Error(`git archive failed: ${stderr.trim()}`));
  });
  return child.stdout;
}
