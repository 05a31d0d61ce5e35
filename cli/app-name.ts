import { execFileSync } from 'node:child_process';
import { CliError } from './errors.ts';

/** `-a NAME`, else the app of the git remote named `paas` in the current directory. */
export function resolveApp(opt: string | undefined): string {
  if (opt) return opt;
  const fromRemote = appFromRemote();
  if (fromRemote) return fromRemote;
  throw new CliError('no app given: use -a NAME, or run inside a git repo with a `paas` remote (`paas git:remote -a NAME`)');
}

function appFromRemote(): string | undefined {
  try {
    const url = execFileSync('git', ['remote', 'get-url', 'paas'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return /\/git\/([^/]+?)\.git\/?$/.exec(url)?.[1];
  } catch {
    return undefined;
  }
}
