import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findExecutable, run, say } from './proc.ts';

/**
 * The OCI runtime of an engine the set-up starts itself: crun (Podman's default) instead of runc.
 * runc is a 10 MB Go program the engine runs twice per container start (create, start) besides its
 * init, which copies the whole binary into a memfd every time: ~70 ms of CPU each on this machine,
 * most of it page faults, where crun (C) takes a few. Every container start or stop is a stall for
 * the requests in flight on a small machine, so this is most of what a scale-up costs them
 * (docs/BENCHMARKS.md "Zero-downtime deploys").
 *
 * crun before 1.14.3 refuses the OCI config version that Engine 26 writes (Debian 12 has 1.8.1),
 * and Debian 13's package needs a newer glibc than Debian 12's; so, where no crun that new is
 * installed, the set-up builds Debian 13's source of it once per machine (the upstream release
 * tarball, checked against the SHA-256 in Debian's signed Sources index). Anything in the way
 * leaves the engine on runc, with a line saying why.
 */
const CRUN = {
  version: '1.21',
  url: 'http://deb.debian.org/debian/pool/main/c/crun/crun_1.21.orig.tar.gz',
  sha256: '4bfb700e764a4804a4de3ecf07753f4c391005356d60356df65d80ae0914c486',
};
const MIN_VERSION = [1, 14, 3];
const INSTALL_DIR = `/usr/local/lib/paas/crun-${CRUN.version}`;
const BUILD_PACKAGES = ['gcc', 'make', 'pkgconf', 'gperf', 'python3', 'libcap-dev', 'libseccomp-dev', 'libyajl-dev'];

/** `crun --version`'s first line, as numbers: "crun version 1.21" → [1, 21]. */
export function parseCrunVersion(output: string): number[] | undefined {
  const match = output.match(/^crun version (\d+(?:\.\d+)*)/m);
  return match ? match[1].split('.').map(Number) : undefined;
}

export function isAtLeast(version: number[], min: number[]): boolean {
  for (let i = 0; i < min.length; i++) {
    const part = version[i] ?? 0;
    if (part !== min[i]) return part > min[i];
  }
  return true;
}

async function usable(binary: string): Promise<boolean> {
  try {
    const version = parseCrunVersion(await run(binary, ['--version']));
    return version !== undefined && isAtLeast(version, MIN_VERSION);
  } catch {
    return false;
  }
}

/**
 * crun does not manage cgroups in a hybrid layout whose cgroup v2 hierarchy holds controllers
 * (here `hugetlb`, never mounted as v1). Those are the controllers to mount as v1 hierarchies of their
 * own, as Debian's `cgroupfs-mount` does for every controller; none on a pure v1 or v2 layout.
 */
export function v2ControllersInHybrid(root = '/sys/fs/cgroup'): string[] {
  try {
    return fs.readFileSync(path.join(root, 'unified', 'cgroup.controllers'), 'utf8').split(/\s+/).filter(Boolean);
  } catch {
    return [];
  }
}

async function mountAsV1(controllers: string[], root = '/sys/fs/cgroup'): Promise<void> {
  for (const controller of controllers) {
    const dir = path.join(root, controller);
    fs.mkdirSync(dir, { recursive: true });
    await run('mount', ['-t', 'cgroup', '-o', controller, 'cgroup', dir]);
  }
}

async function build(): Promise<string> {
  say(`-----> Building crun ${CRUN.version} for the engine (once per machine, ~2 min: faster container starts than runc)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await run('apt-get', ['-q', 'update'], { env });
  await run('apt-get', ['-q', 'install', '-y', '--no-install-recommends', ...BUILD_PACKAGES], { env });
  const response = await fetch(CRUN.url);
  if (!response.ok) throw new Error(`${CRUN.url}: HTTP ${response.status}`);
  const tarball = Buffer.from(await response.arrayBuffer());
  const sha256 = crypto.createHash('sha256').update(tarball).digest('hex');
  if (sha256 !== CRUN.sha256) throw new Error(`${CRUN.url}: SHA-256 ${sha256}, expected ${CRUN.sha256}`);

  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'paas-crun-'));
  try {
    fs.writeFileSync(path.join(work, 'crun.tar.gz'), tarball);
    await run('tar', ['-xzf', 'crun.tar.gz'], { cwd: work });
    const src = path.join(work, `crun-${CRUN.version}`);
    await run(path.join(src, 'configure'), ['--disable-systemd', '--disable-criu', '--enable-shared=no'], { cwd: src });
    await run('make', [`-j${os.availableParallelism()}`], { cwd: src });
    fs.mkdirSync(INSTALL_DIR, { recursive: true });
    const binary = path.join(INSTALL_DIR, 'crun');
    fs.copyFileSync(path.join(src, 'crun'), `${binary}.tmp`);
    fs.chmodSync(`${binary}.tmp`, 0o755);
    fs.renameSync(`${binary}.tmp`, binary);
    return binary;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** The crun binary for the engine to run containers with (cgroups made ready for it), or undefined: stay on runc. */
export async function crunForEngine(): Promise<string | undefined> {
  try {
    let binary: string | undefined;
    for (const candidate of [findExecutable('crun'), path.join(INSTALL_DIR, 'crun')]) {
      if (candidate && (await usable(candidate))) {
        binary = candidate;
        break;
      }
    }
    binary ??= await build();
    await mountAsV1(v2ControllersInHybrid());
    return binary;
  } catch (err) {
    say(`       (the engine runs containers with runc: ${(err as Error).message.split('\n')[0]})`);
    return undefined;
  }
}
