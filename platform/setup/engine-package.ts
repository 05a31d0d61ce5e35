import fs from 'node:fs';
import { run, say } from './proc.ts';

/**
 * Debian releases whose own docker.io is older than Docker Engine 23, and the next release, whose
 * docker.io the set-up installs instead (only docker.io and docker-cli come from it: see pinFor).
 * Engines before 23 re-execute their own 75 MB binary for every copy into a container and every
 * commit (`docker-untar`, `docker-applyLayer`): each deploy's image layer cost ~0.35 s more on
 * Debian 12's 20.10 than on Debian 13's 26.1 (docs/BENCHMARKS.md "Push to live"). This is what
 * Dokku's installer does too: it adds an apt source for a current engine.
 */
const NEWER_DOCKER_FROM: Record<string, string> = { bookworm: 'trixie' };

const SOURCES_FILE = '/etc/apt/sources.list.d/paas-docker-engine.sources';
const PIN_FILE = '/etc/apt/preferences.d/paas-docker-engine';
const ENGINE_PACKAGES = ['docker.io', 'docker-cli'];

export function sourcesFor(release: string): string {
  return `Types: deb
URIs: http://deb.debian.org/debian
Suites: ${release}
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: ${release}-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
`;
}

/**
 * Nothing else is ever taken from that release while this one has it: a stanza naming packages wins
 * over the catch-all. Its security suite has a codename of its own (`trixie-security`), so each
 * rule is written for both.
 */
export function pinFor(release: string): string {
  const suites = [release, `${release}-security`];
  const stanza = (packages: string, priority: number) =>
    suites.map((suite) => `Package: ${packages}\nPin: release n=${suite}\nPin-Priority: ${priority}\n`);
  return [...stanza('*', 1), ...stanza(ENGINE_PACKAGES.join(' '), 990)].join('\n');
}

/** `VERSION_CODENAME` of a Debian /etc/os-release, or undefined on any other system. */
export function debianCodename(osRelease: string): string | undefined {
  const field = (name: string) => osRelease.match(new RegExp(`^${name}="?([^"\\n]*)"?$`, 'm'))?.[1];
  return field('ID') === 'debian' ? field('VERSION_CODENAME') : undefined;
}

function readOsRelease(): string {
  try {
    return fs.readFileSync('/etc/os-release', 'utf8');
  } catch {
    return '';
  }
}

/** Installs the Docker engine from the system's packages (as root), from the next Debian release where the system's own is too old. */
export async function installDockerEngine(): Promise<void> {
  const newerFrom = NEWER_DOCKER_FROM[debianCodename(readOsRelease()) ?? ''];
  if (newerFrom) {
    say(`-----> Installing Docker engine (docker.io from Debian ${newerFrom}: this release's is older than Engine 23)`);
    fs.writeFileSync(SOURCES_FILE, sourcesFor(newerFrom));
    fs.writeFileSync(PIN_FILE, pinFor(newerFrom));
  } else {
    say('-----> Installing Docker engine (docker.io)');
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await run('apt-get', ['-q', 'update'], { env });
  await run('apt-get', ['-q', 'install', '-y', ...(newerFrom ? ENGINE_PACKAGES : ['docker.io'])], { env });
}
