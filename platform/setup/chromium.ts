// The browser for the dashboard's end-to-end tests: Debian's `chromium`, installed with apt-get when
// we are root and it is missing. Only the tests need it, so only they call this (not `npm start`).
import { pathToFileURL } from 'node:url';
import { findExecutable, isRoot, run, say } from './proc.ts';

export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-background-networking', '--disable-gpu', '--disable-component-update', '--disable-sync', '--no-first-run'];

let pending: Promise<string> | undefined;

/** The path of a chromium binary, installing Debian's package first if needed. */
export function ensureChromium(): Promise<string> {
  pending ??= install();
  return pending;
}

async function install(): Promise<string> {
  const found = findExecutable('chromium');
  if (found) return found;
  if (!isRoot()) {
    throw new Error('The dashboard tests need a browser and chromium is not installed. Install it with:\n  sudo apt-get install -y chromium');
  }
  say('-----> Installing chromium for the dashboard tests');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // A fresh machine may have empty package lists; try without an update first (faster when they exist).
  try {
    await run('apt-get', ['-q', 'install', '-y', '--no-install-recommends', 'chromium'], { env });
  } catch {
    await run('apt-get', ['-q', 'update'], { env });
    await run('apt-get', ['-q', 'install', '-y', '--no-install-recommends', 'chromium'], { env });
  }
  const installed = findExecutable('chromium');
  if (!installed) throw new Error('apt-get installed chromium but no chromium binary was found.');
  return installed;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  ensureChromium().then(
    (bin) => say(`-----> chromium: ${bin}`),
    (err: unknown) => {
      process.stderr.write(` !     ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
