import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type Docker from 'dockerode';
import { findExecutable, isRoot, run, say } from './proc.ts';
import { followToEnd, imageExists } from './images.ts';

const SUITE = 'bookworm';
const MIRROR = 'http://deb.debian.org/debian';
const PULL_IMAGE = 'debian:bookworm-slim';
const PULL_TIMEOUT_MS = 5_000;

const SOURCES_LIST = `deb ${MIRROR} ${SUITE} main
deb ${MIRROR} ${SUITE}-updates main
deb http://deb.debian.org/debian-security ${SUITE}-security main
`;
// Same trimming as Debian's official slim images: later apt installs skip docs, man pages and translations.
const DPKG_SLIM = `path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
`;
const APT_SLIM = `Acquire::Languages "none";
APT::Install-Recommends "false";
`;

/** Tag of the base image; it names the recipe, not how it was obtained (pull or debootstrap). */
export function baseImageTag(): string {
  const hash = crypto.createHash('sha256').update([SUITE, MIRROR, PULL_IMAGE, SOURCES_LIST, DPKG_SLIM, APT_SLIM].join('\0'));
  return `paas/base:${SUITE}-${hash.digest('hex').slice(0, 12)}`;
}

export async function ensureBaseImage(docker: Docker, dataDir: string): Promise<string> {
  const tag = baseImageTag();
  if (await imageExists(docker, tag)) return tag;
  say(`-----> Building base image ${tag} (first run only)`);
  if (await tryPull(docker, tag)) return tag;
  await debootstrapImport(docker, dataDir, tag);
  return tag;
}

async function tryPull(docker: Docker, tag: string): Promise<boolean> {
  try {
    const signal = AbortSignal.timeout(PULL_TIMEOUT_MS);
    const stream = await docker.pull(PULL_IMAGE, { abortSignal: signal });
    await followToEnd(docker, stream, signal);
    const [repo, version] = splitTag(tag);
    await docker.getImage(PULL_IMAGE).tag({ repo, tag: version });
    say(`       pulled ${PULL_IMAGE}`);
    return true;
  } catch {
    say(`       no registry answers for ${PULL_IMAGE}; using debootstrap (~1-2 min)`);
    return false;
  }
}

async function debootstrapImport(docker: Docker, dataDir: string, tag: string): Promise<void> {
  let debootstrap = findExecutable('debootstrap');
  if (!isRoot()) throw new Error('Building the base image needs root (debootstrap). Run the set-up once as root: sudo npm start');
  if (!debootstrap) {
    say('       installing debootstrap');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    await run('apt-get', ['-q', 'update'], { env });
    await run('apt-get', ['-q', 'install', '-y', 'debootstrap'], { env });
    debootstrap = findExecutable('debootstrap');
    if (!debootstrap) throw new Error('apt-get installed debootstrap but no debootstrap binary was found.');
  }

  const tmpRoot = path.join(dataDir, 'tmp');
  fs.mkdirSync(tmpRoot, { recursive: true });
  // Leftovers of a killed run; the pid in the name keeps a concurrent set-up's rootfs safe.
  for (const name of fs.readdirSync(tmpRoot)) {
    const owner = /^rootfs-(\d+)-/.exec(name)?.[1];
    if (owner && !fs.existsSync(`/proc/${owner}`)) await removeRootfs(path.join(tmpRoot, name));
  }
  const rootfs = fs.mkdtempSync(path.join(tmpRoot, `rootfs-${process.pid}-`));
  try {
    await run(debootstrap, ['--variant=minbase', SUITE, rootfs, MIRROR]);
    slimRootfs(rootfs);
    await importDir(docker, rootfs, tag);
  } finally {
    await removeRootfs(rootfs);
  }
}

function slimRootfs(rootfs: string): void {
  const write = (rel: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(rootfs, rel)), { recursive: true });
    fs.writeFileSync(path.join(rootfs, rel), text);
  };
  write('etc/apt/sources.list', SOURCES_LIST);
  write('etc/dpkg/dpkg.cfg.d/paas-slim', DPKG_SLIM);
  write('etc/apt/apt.conf.d/paas-slim', APT_SLIM);
  for (const dir of ['var/cache/apt/archives', 'var/lib/apt/lists', 'usr/share/man', 'usr/share/info', 'usr/share/locale']) {
    const abs = path.join(rootfs, dir);
    for (const entry of fs.existsSync(abs) ? fs.readdirSync(abs, { withFileTypes: true }) : []) {
      if (entry.isFile() || entry.isDirectory()) {
        if (entry.name === 'partial' || entry.name === 'locale.alias') continue;
        fs.rmSync(path.join(abs, entry.name), { recursive: true, force: true });
      }
    }
  }
  // Docker provides these per container.
  for (const rel of ['etc/resolv.conf', 'etc/hostname']) fs.rmSync(path.join(rootfs, rel), { force: true });
}

/** `docker import` of a directory: tar it (numeric owners, so root stays root) and stream it to the engine. */
async function importDir(docker: Docker, dir: string, tag: string): Promise<void> {
  const tar = spawn('tar', ['--numeric-owner', '-C', dir, '-c', '.'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  tar.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const tarDone = new Promise<void>((resolve, reject) => {
    tar.on('error', reject);
    tar.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`tar failed (exit ${code}): ${stderr.trim()}`))));
  });
  const [repo, version] = splitTag(tag);
  const stream = await docker.importImage(tar.stdout!, {
    repo,
    tag: version,
    changes: ['ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'CMD ["bash"]'],
  });
  await Promise.all([followToEnd(docker, stream), tarDone]);
  if (!(await imageExists(docker, tag))) throw new Error(`docker import did not produce ${tag}`);
}

/** debootstrap mounts /proc and /sys inside the target; a killed run can leave them mounted, and rm must never descend into them. */
async function removeRootfs(rootfs: string): Promise<void> {
  for (const mnt of mountsUnder(rootfs)) await run('umount', ['-l', mnt]).catch(() => undefined);
  const left = mountsUnder(rootfs);
  if (left.length > 0) {
    say(`       warning: left ${rootfs} in place (still mounted: ${left.join(', ')})`);
    return;
  }
  fs.rmSync(rootfs, { recursive: true, force: true });
}

function mountsUnder(dir: string): string[] {
  return fs
    .readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[1]?.replace(/\\040/g, ' '))
    .filter((mnt): mnt is string => !!mnt && (mnt === dir || mnt.startsWith(`${dir}/`)))
    .sort((a, b) => b.length - a.length);
}

export function splitTag(tag: string): [string, string] {
  const i = tag.lastIndexOf(':');
  return [tag.slice(0, i), tag.slice(i + 1)];
}
