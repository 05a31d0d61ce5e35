import { execFileSync } from 'node:child_process';

export function insideGitRepo(): boolean {
  try {
    execFileSync('git', ['rev-parse', '--git-dir'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Adds (or repoints) the `paas` remote of the current repo. */
export function setPaasRemote(gitUrl: string): void {
  const has = (() => {
    try {
      execFileSync('git', ['remote', 'get-url', 'paas'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  execFileSync('git', has ? ['remote', 'set-url', 'paas', gitUrl] : ['remote', 'add', 'paas', gitUrl], { stdio: 'ignore' });
}
