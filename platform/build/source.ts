import { execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { promisify } from 'node:util';
import { invalid } from '../errors.ts';

const run = promisify(execFile);

/** One entry of the pushed commit's tree (`git ls-tree -l`). */
export interface TreeEntry {
  mode: string;
  sha: string;
  /** bytes; -1 for a submodule */
  size: number;
}

/** A pushed commit, read straight from the bare repo (and the push's quarantine, before it is accepted). */
export interface Source {
  repoDir: string;
  commit: string;
  gitEnv: Record<string, string>;
  /** Every file of the tree by its path (directories are implied by the paths). */
  files: Map<string, TreeEntry>;
  hasDockerfile: boolean;
  procfile: string | undefined;
}

function env(source: Pick<Source, 'repoDir' | 'gitEnv'>) {
  return { ...process.env, ...source.gitEnv, GIT_DIR: source.repoDir };
}

export async function openSource(repoDir: string, commit: string, gitEnv: Record<string, string>): Promise<Source> {
  const base = { repoDir, gitEnv };
  const { stdout } = await run('git', ['ls-tree', '-r', '-z', '-l', '--full-tree', commit], { env: env(base), maxBuffer: 256 * 1024 * 1024 });
  const files = new Map<string, TreeEntry>();
  for (const line of stdout.split('\0')) {
    if (!line) continue;
    const tab = line.indexOf('\t');
    const [mode, , sha, size] = line.slice(0, tab).split(/ +/);
    files.set(line.slice(tab + 1), { mode, sha, size: size === '-' ? -1 : Number(size) });
  }
  for (const [file, e] of files) {
    if (e.mode !== '120000') continue;
    const target = await readBlob(base, e.sha);
    if (escapesTree(file, target)) throw invalid(`symlink ${file} points outside the repository (${target}); refusing to build it`);
  }
  const procfileEntry = files.get('Procfile');
  const procfile = procfileEntry ? await readBlob(base, procfileEntry.sha) : undefined;
  return { repoDir, commit, gitEnv, files, hasDockerfile: files.has('Dockerfile'), procfile };
}

/** A file's contents as text, by its blob id from the tree. */
export async function readBlob(source: Pick<Source, 'repoDir' | 'gitEnv'>, sha: string, maxBuffer = 1024 * 1024): Promise<string> {
  return (await run('git', ['cat-file', 'blob', sha], { env: env(source), maxBuffer })).stdout;
}

export function escapesTree(file: string, target: string): boolean {
  if (path.posix.isAbsolute(target)) return true;
  const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(file), target));
  return resolved === '..' || resolved.startsWith('../');
}

/**
 * The commit's tree as a tar stream, optionally under a directory prefix (e.g. `app/`). It may be
 * read later than it is opened: the output goes through a buffer of our own at once, since Node
 * discards what a child wrote to a pipe nobody reads when it exits. Closing it early stops `git`.
 */
export function archive(source: Source, prefix = ''): Readable {
  const child = spawn('git', ['archive', '--format=tar', ...(prefix ? [`--prefix=${prefix}`] : []), source.commit], {
    env: env(source),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = child.stdout.pipe(new PassThrough());
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  child.on('exit', (code) => {
    if (code !== 0) out.destroy(new Error(`git archive failed: ${stderr.trim()}`));
  });
  out.on('close', () => {
    if (child.exitCode === null) child.kill();
  });
  return out;
}
