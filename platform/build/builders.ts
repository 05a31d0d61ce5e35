import crypto from 'node:crypto';
import type Docker from 'dockerode';
import type { Platform } from '../platform.ts';
import type { App } from '../store/schema.ts';
import { BACKGROUND_CPU_SHARES, BUILDER_IMAGE } from '../docker.ts';
import { holderOf, holderSpec, joining, type Holder } from '../runner/sandboxes.ts';

/** The app's build cache (CACHE_DIR), kept between builds. */
const cacheVolume = (p: Platform, app: App) => `paas-cache-${p.owner}-${app.name}`;
const standbyName = (p: Platform, app: App) => `paas-builder-${p.owner}-${app.name}`;
const networkName = (p: Platform, app: App) => `paas-buildnet-${p.owner}-${app.name}`;
const pending = new Map<string, Promise<void>>();
/** The builder each app's current build took: dropped by `recycle` once the push is over. */
const taken = new Map<string, Docker.Container>();

/**
 * Builder containers for an app's buildpack builds. Starting a container costs the engine a second
 * or more, so once a build is over the app's next builder is started at once and waits, blocked
 * reading its stdin (`tar -x`), until the next push hands it its input: the push does not wait for
 * a container to start. A builder is never reused: each build gets a fresh one.
 */
export const builders = {
  /** A started builder for this build, waiting for its input on stdin. */
  async take(p: Platform, app: App): Promise<Docker.Container> {
    const container = await startedBuilder(p, app);
    taken.set(standbyName(p, app), container);
    return container;
  },

  /**
   * Once the push is over (released or failed): removes the builder the build took and starts the
   * app's next one, in the background. Not sooner: dropping a builder's writable layer (the whole
   * slug and more) and starting a container each hold the engine for a second, and the new
   * release's web container is starting meanwhile. A push that took no builder leaves nothing.
   */
  recycle(p: Platform, app: App): void {
    const name = standbyName(p, app);
    const used = taken.get(name);
    if (!used) return;
    taken.delete(name);
    void used.remove({ force: true, v: true }).catch(() => {});
    const done = buildNetwork(p, app)
      .then((network) => create(p, app, name, network.holder))
      .then((c) => c.start())
      .catch(() => {}) // a missing standby only costs the next build the start-up
      .finally(() => pending.delete(name));
    pending.set(name, done);
  },

  /** At start-up: removes the builders a stopped platform left mid-push (standbys stay, for the next push). */
  async sweep(p: Platform): Promise<void> {
    const left = await p.docker.listContainers({ all: true, filters: JSON.stringify({ label: [`paas.owner=${p.owner}`, 'paas.role=build'] }) });
    for (const c of left.filter((c) => !c.Names.some((n) => n.startsWith('/paas-builder-')))) {
      await p.docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => {});
    }
  },

  /** Removes the app's standby builder and build cache (the app is being destroyed). */
  async remove(p: Platform, app: App): Promise<string[]> {
    await pending.get(standbyName(p, app));
    const removed: string[] = [];
    const remove = async (what: string, act: () => Promise<unknown>) => {
      try {
        await act();
        removed.push(what);
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode !== 404) throw err;
      }
    };
    await remove(`standby builder ${standbyName(p, app)}`, () => p.docker.getContainer(standbyName(p, app)).remove({ force: true, v: true }));
    await remove(`build network ${networkName(p, app)}`, () => p.docker.getContainer(networkName(p, app)).remove({ force: true }));
    await remove(`build cache volume ${cacheVolume(p, app)}`, () => p.docker.getVolume(cacheVolume(p, app)).remove({ force: true }));
    return removed;
  },
};

async function startedBuilder(p: Platform, app: App): Promise<Docker.Container> {
  await pending.get(standbyName(p, app));
  const standby = p.docker.getContainer(standbyName(p, app));
  const [info, image, network] = await Promise.all([standby.inspect().catch(() => undefined), p.docker.getImage(BUILDER_IMAGE).inspect(), buildNetwork(p, app)]);
  // (A standby started before its network's holder was restarted is cut off.)
  const joined = info?.HostConfig.NetworkMode === joining(network.holder).NetworkMode && Date.parse(info.State.StartedAt) >= network.since;
  if (info?.State.Running && info.Image === image.Id && joined) {
    await standby.rename({ name: `paas-build-${crypto.randomBytes(6).toString('hex')}` });
    return p.docker.getContainer(info.Id); // (by id: `standby` is its old name)
  }
  if (info) await standby.remove({ force: true, v: true }).catch(() => {});
  const container = await create(p, app, `paas-build-${crypto.randomBytes(6).toString('hex')}`, network.holder);
  await container.start();
  return container;
}

/**
 * BUILD_DIR (/app) and CACHE_DIR (/cache) are two directories of one volume, the app's build cache,
 * linked into place: on one filesystem a buildpack can hard-link what it keeps in its cache (node
 * and npm, ~2,000 files and 100 MB) into the slug instead of copying it, and renames are renames.
 * Creating those files on the container's overlay root took 0.5-1 s; copying node's 100 MB made
 * the engine's next fsync (creating the run image) wait for them to reach the disk. The build dir
 * the last build left is removed first, while the builder waits for a push. (A volume without
 * cache/ is from before this layout and starts afresh.)
 */
const SET_UP = [
  'cd /workspace',
  '{ [ -d cache ] || find . -mindepth 1 -maxdepth 1 -exec rm -rf {} +; }',
  'rm -rf app',
  'mkdir -p app cache',
  'rm -rf /app',
  'ln -s /workspace/app /app',
  'ln -s /workspace/cache /cache',
  'tar -x -i --keep-directory-symlink -C /',
  'exec bash /build-driver.sh',
].join(' && ');

/**
 * The network namespace the app's builders join (`container:ID`), held by a sleeping container of
 * its own: making one costs the engine a re-execution of dockerd (~0.25 s of CPU, its
 * `libnetwork-setkey` hook), which every build would otherwise pay while the app's current
 * release is serving. One build runs at a time per app and a builder's processes end with it, so
 * the next one finds the namespace as a fresh container would. On the default bridge, as builders
 * were before: builds reach the internet (npm, pip), not the apps' networks.
 */
async function buildNetwork(p: Platform, app: App): Promise<{ holder: Holder; since: number }> {
  const holder = p.docker.getContainer(networkName(p, app));
  let info = await holder.inspect().catch(() => undefined);
  if (!info?.State.Running) {
    const made = (status: number) => (err: unknown) => {
      if ((err as { statusCode?: number }).statusCode !== status) throw err; // (else a recycle did it meanwhile)
    };
    if (!info) await p.docker.createContainer(holderSpec(networkName(p, app), { 'paas.app': app.name, 'paas.owner': p.owner, 'paas.role': 'build-network' })).catch(made(409));
    await holder.start().catch(made(304)); // stopped with the engine: a new namespace
    info = await holder.inspect();
  }
  return { holder: holderOf(info), since: Date.parse(info.State.StartedAt) };
}

/** A builder joined to the namespace `holder` holds (buildNetwork's). */
async function create(p: Platform, app: App, name: string, holder: Holder): Promise<Docker.Container> {
  await p.docker.createVolume({ Name: cacheVolume(p, app), Labels: { 'paas.app': app.name, 'paas.owner': p.owner } });
  return p.docker.createContainer({
    name,
    Image: BUILDER_IMAGE,
    // Everything the build needs arrives on stdin as concatenated tars (see buildpack-build.ts).
    Cmd: ['bash', '-c', SET_UP],
    WorkingDir: '/',
    OpenStdin: true,
    StdinOnce: true,
    Labels: { 'paas.app': app.name, 'paas.owner': p.owner, 'paas.role': 'build' },
    HostConfig: { Binds: [`${cacheVolume(p, app)}:/workspace`], ...joining(holder), Memory: 2048 * 1024 * 1024, PidsLimit: 4096, CpuShares: BACKGROUND_CPU_SHARES },
  });
}
