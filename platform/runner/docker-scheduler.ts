import crypto from 'node:crypto';
import type Docker from 'dockerode';
import type { AttachedProcess, Instance, InstanceSpec, Scheduler } from './scheduler.ts';
import { FrameSplitter, runToExit } from '../container-io.ts';
import { PlatformError } from '../errors.ts';
import { BACKGROUND_CPU_SHARES } from '../docker.ts';
import type { CpuSets } from '../setup/cpu-group.ts';
import { startSlot } from './start-slots.ts';
import { addressOf, appOfSandbox, HARDENED, isSandbox, joining, sandboxPool, type NetworkPlacement, type Sandbox } from './sandboxes.ts';

const network = (app: string) => `paas-app-${app}`;

const PROFILE = 'for f in /app/.profile.d/*.sh; do [ -r "$f" ] && . "$f"; done';
/**
 * Runs a Procfile command as Heroku does (bash -c, after sourcing .profile.d), passing the command
 * as an argument ($0) rather than splicing it into the script; an argv runs as it is.
 */
const SHELL_LAUNCHER = `${PROFILE}; if command -v bash >/dev/null; then exec bash -c "$0"; fi; exec sh -c "$0"`;
const ARGV_LAUNCHER = `${PROFILE}; exec "$@"`;

function cmd(command: string | string[] | null): string[] | undefined {
  if (command === null) return undefined;
  if (typeof command === 'string') return ['/bin/sh', '-c', SHELL_LAUNCHER, command];
  return ['/bin/sh', '-c', ARGV_LAUNCHER, 'paas-run', ...command];
}

/** The engine is not there (stopped, restarting): nothing about the app is wrong. */
function engineDown(err: unknown): boolean {
  const e = err as { code?: string; statusCode?: number; message?: string };
  return ['ECONNREFUSED', 'ENOENT', 'ECONNRESET', 'EPIPE'].includes(e?.code ?? '') || /shutting down|socket hang up/i.test(e?.message ?? '');
}

/**
 * `owner` tells this platform's containers from another's on the same engine (say, a test run's);
 * `poolSize` is how many network sandboxes it keeps started ahead of need.
 *
 * `cpus`: when the engine is kept off some of the machine's CPUs (platform/setup/cpu-group.ts), every
 * container is made on the engine's, so its set-up (the runtime's mounts and namespaces, done by
 * the kernel without yielding the CPU for milliseconds at a time) and its process's boot leave the
 * other CPUs to what serves requests; a process gets every CPU once it is up (`up()`: a web one
 * healthy, before the router sends it anything), and goes back to the engine's before it is stopped,
 * for its teardown. One-offs waited on interactively get every CPU once started; background ones
 * (release phase, `run:detached`) and sandboxes keep the engine's.
 */
export function dockerScheduler(docker: Docker, owner: string, poolSize: number, cpus?: CpuSets): Scheduler {
  /**
   * Networks made once: concurrent starts (a scale to 10) share one lookup, and CheckDuplicate
   * keeps the engine from making a second network of the same name.
   */
  const networks = new Map<string, Promise<string>>();
  const ensureNetwork = (name: string, labels: Record<string, string>): Promise<string> => {
    let ready = networks.get(name);
    if (!ready) {
      ready = (async () => {
        const existing = await docker.listNetworks({ filters: JSON.stringify({ name: [name] }) });
        if (existing.some((n) => n.Name === name)) return name;
        try {
          await docker.createNetwork({ Name: name, Driver: 'bridge', CheckDuplicate: true, Labels: labels });
        } catch (err) {
          if ((err as { statusCode?: number }).statusCode !== 409) throw err;
        }
        return name;
      })();
      networks.set(name, ready);
      ready.catch(() => networks.delete(name));
    }
    return ready;
  };
  /** Each app's own network: its containers reach each other, and no other app's. */
  const appNetwork = (app: string) => ensureNetwork(network(app), { 'paas.app': app, 'paas.owner': owner });
  const sandboxes = sandboxPool(docker, owner, { size: poolSize, ensureNetwork, cpus: cpus?.engine });
  /** Moves a container to other CPUs; it runs on where it was if that fails (gone meanwhile, say). */
  const moveTo = (id: string, set: string | undefined) => (set ? docker.getContainer(id).update({ CpusetCpus: set }).then(() => {}, () => {}) : Promise.resolve());
  let swept = false;

  /** `sandbox`: the network the dyno joined, if it joined one (gone: the dyno is cut off, as good as dead). */
  const toInstance = (info: Docker.ContainerInspectInfo, sandbox?: { running: boolean; ip: string | undefined }): Instance => {
    const labels = info.Config.Labels ?? {};
    const ip = labels['paas.sandbox'] ? sandbox?.ip : addressOf(info.NetworkSettings.Networks);
    const running = info.State.Running && (!labels['paas.sandbox'] || !!sandbox?.running);
    return {
      id: info.Id,
      app: labels['paas.app'],
      release: Number(labels['paas.release']),
      type: labels['paas.process'],
      dyno: labels['paas.dyno'],
      running,
      exitCode: running ? undefined : info.State.ExitCode,
      ip: ip || undefined,
      startedAt: info.State.StartedAt,
      confined: running && !!cpus && info.HostConfig.CpusetCpus === cpus.engine,
    };
  };

  const create = async (spec: InstanceSpec, io: { tty?: boolean; stdin?: boolean } = {}, sandbox?: Sandbox): Promise<Docker.Container> => {
    if (sandbox) return createIn(joining(sandbox), spec, io, { 'paas.sandbox': sandbox.id });
    const net = await appNetwork(spec.app);
    try {
      return await createIn({ NetworkMode: net }, spec, io);
    } catch (err) {
      // Removed behind our back (docker network prune): make it again, once.
      if ((err as { statusCode?: number }).statusCode !== 404 || !networks.delete(net)) throw err;
      return createIn({ NetworkMode: await appNetwork(spec.app) }, spec, io);
    }
  };

  /** `network`: the app's network, or the sandbox's namespace it joins (joining()). */
  const createIn = (network: NetworkPlacement, spec: InstanceSpec, io: { tty?: boolean; stdin?: boolean }, labels: Record<string, string> = {}) =>
    docker.createContainer({
      Tty: io.tty ?? false,
      OpenStdin: io.stdin ?? false,
      StdinOnce: io.stdin ?? false,
      AttachStdin: io.stdin ?? false,
      name: `paas-${spec.app}-${spec.dyno}-v${spec.release}-${crypto.randomBytes(3).toString('hex')}`,
      Image: spec.image,
      Cmd: cmd(spec.command),
      Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
      User: '1000:1000',
      Labels: { 'paas.app': spec.app, 'paas.release': String(spec.release), 'paas.process': spec.type, 'paas.dyno': spec.dyno, 'paas.owner': owner, ...labels },
      HostConfig: {
        ...HARDENED,
        ...network,
        Memory: spec.memoryMb * 1024 * 1024,
        MemorySwap: spec.memoryMb * 1024 * 1024,
        PidsLimit: 512,
        ...(spec.background ? { CpuShares: BACKGROUND_CPU_SHARES } : {}),
        ...(cpus ? { CpusetCpus: cpus.engine } : {}),
        LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '2' } },
      },
    });

  /** Creates and starts one process, in `sandbox`'s namespace if given; on failure leaves nothing behind. */
  const startIn = async (spec: InstanceSpec, sandbox?: Sandbox): Promise<Instance> => {
    let container: Docker.Container | undefined;
    try {
      container = await create(spec, {}, sandbox);
      // Joining a ready namespace costs the engine no network set-up: it does not queue behind starts that do.
      await (sandbox ? container.start() : startSlot(() => container!.start()));
      return toInstance(await container.inspect(), sandbox && { running: true, ip: sandbox.ip });
    } catch (err) {
      // A container that never ran is nobody's dyno: do not leave it for the next pass to count as a crash.
      await container?.remove({ force: true }).catch(() => {});
      if (sandbox) await sandboxes.remove(sandbox.id);
      throw err;
    }
  };

  /** Creates, attaches to and starts a one-off, in `sandbox`'s namespace if given; on failure leaves nothing behind. */
  const attachIn = async (spec: InstanceSpec, tty: boolean, sandbox?: Sandbox): Promise<AttachedProcess> => {
    let container: Docker.Container | undefined;
    let exited: Promise<number> | undefined;
    const remove = async () => {
      await container?.remove({ force: true }).catch(() => {});
      if (sandbox) await sandboxes.remove(sandbox.id);
    };
    try {
      container = await create(spec, { tty, stdin: true }, sandbox);
      const stream = await container.attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true });
      // 'next-exit': waiting on a container that has not started yet would return at once.
      exited = container.wait({ condition: 'next-exit' }).then((r: { StatusCode: number }) => r.StatusCode);
      await container.start();
      void moveTo(container.id, cpus?.all);
      const started = container;
      return { stream, resize: (cols, rows) => started.resize({ w: cols, h: rows }).catch(() => {}), exited, remove };
    } catch (err) {
      exited?.catch(() => {}); // the container it waits on is being removed
      await remove();
      throw err;
    }
  };

  /**
   * Runs `task` (a process's start) in a sandbox taken from the pool, or on the app's network when
   * none is ready. A sandbox killed a moment ago fails the task: then it runs on the network itself.
   */
  const inSandbox = async <T>(app: string, task: (sandbox?: Sandbox) => Promise<T>): Promise<T> => {
    const sandbox = await sandboxes.take(app, await appNetwork(app));
    return sandbox ? task(sandbox).catch((err) => (engineDown(err) ? Promise.reject(err) : task())) : task();
  };

  /** Apps whose network is being made ahead of a deploy (removeApp waits for them). */
  const preparing = new Map<string, Promise<void>>();

  return {
    prepare(app) {
      sandboxes.fill(1);
      const ready: Promise<void> = appNetwork(app)
        .then((net) => sandboxes.reserve(app, net))
        .catch(() => {}) // the first start makes it then
        .finally(() => preparing.get(app) === ready && preparing.delete(app));
      preparing.set(app, ready);
    },

    async start(spec) {
      try {
        return await inSandbox(spec.app, (sandbox) => startIn(spec, sandbox));
      } catch (err) {
        if (engineDown(err)) throw new PlatformError(503, 'engine_unavailable', `the Docker engine is not answering (${(err as Error).message})`);
        throw err;
      }
    },

    async runOnce(spec, onLine, timeoutMs) {
      // Not labelled with the sandbox: it stays the next web's (a platform killed meanwhile removes it).
      const sandbox = await sandboxes.reservedFor(spec.app);
      const container = sandbox ? await createIn(joining(sandbox), spec, {}).catch(() => create(spec)) : await create(spec);
      try {
        return await runToExit(docker, container, onLine, timeoutMs);
      } finally {
        await container.remove({ force: true }).catch(() => {});
      }
    },

    up(id) {
      return moveTo(id, cpus?.all);
    },

    async list(app) {
      const filters = { label: [`paas.owner=${owner}`, ...(app ? [`paas.app=${app}`] : [])] };
      const summaries = await docker.listContainers({ all: true, filters: JSON.stringify(filters) });
      const state = (s: Docker.ContainerInfo) => ({ running: s.State === 'running', ip: addressOf(s.NetworkSettings.Networks) });
      const held = new Map(summaries.filter((s) => isSandbox(s.Labels)).map((s) => [s.Id, state(s)]));
      // A sandbox taken from the pool carries no app label: an app's listing asks for its dynos' by id.
      const unlisted = [...new Set(summaries.map((s) => s.Labels['paas.sandbox']).filter((id) => id && !held.has(id)))];
      if (unlisted.length) {
        for (const s of await docker.listContainers({ all: true, filters: JSON.stringify({ id: unlisted }) })) held.set(s.Id, state(s));
      }
      if (!swept && !app) {
        // The first full listing is the supervisor's first pass, at start-up.
        swept = true;
        for (const id of sandboxes.adopt(summaries)) void sandboxes.remove(id);
        // Processes running: more will start (crashes, deploys, scaling) — have sandboxes ready.
        if (summaries.some((s) => s.Labels['paas.dyno'])) sandboxes.fill();
      }
      const dynos = summaries.filter((s) => s.Labels['paas.dyno']);
      const infos = await Promise.all(dynos.map((s) => docker.getContainer(s.Id).inspect().catch(() => undefined)));
      return infos.filter((i): i is Docker.ContainerInspectInfo => !!i).map((i) => toInstance(i, held.get(i.Config.Labels?.['paas.sandbox'] ?? '')));
    },

    async get(id) {
      const info = await docker.getContainer(id).inspect().catch(() => undefined);
      if (!info) return undefined;
      const held = info.Config.Labels?.['paas.sandbox'];
      const sandbox = held ? await docker.getContainer(held).inspect().catch(() => undefined) : undefined;
      return toInstance(info, sandbox && { running: sandbox.State.Running, ip: addressOf(sandbox.NetworkSettings.Networks) });
    },

    watchExits(onExit) {
      let closed = false;
      let stream: NodeJS.ReadableStream | undefined;
      const subscribe = async () => {
        while (!closed) {
          try {
            stream = (await docker.getEvents({ filters: JSON.stringify({ type: ['container'], event: ['die'], label: [`paas.owner=${owner}`] }) })) as NodeJS.ReadableStream;
            let rest = '';
            for await (const chunk of stream) {
              rest += chunk.toString();
              let nl;
              while ((nl = rest.indexOf('\n')) >= 0) {
                const event = JSON.parse(rest.slice(0, nl));
                rest = rest.slice(nl + 1);
                const attributes = event?.Actor?.Attributes;
                // A sandbox's end is its dyno's: the dyno has lost its network.
                const app = attributes?.['paas.dyno'] ? attributes['paas.app'] : isSandbox(attributes) ? appOfSandbox(attributes.name) : undefined;
                if (app) onExit(app);
              }
            }
          } catch {
            /* the engine restarted or the stream broke: subscribe again */
          }
          if (!closed) await new Promise((r) => setTimeout(r, 1000));
        }
      };
      void subscribe();
      return () => {
        closed = true;
        (stream as unknown as { destroy?: () => void } | undefined)?.destroy?.();
      };
    },

    async stop(id, graceSeconds) {
      const container = docker.getContainer(id);
      const info = await container.inspect().catch(() => undefined);
      const sandbox = info?.Config.Labels?.['paas.sandbox'];
      if (cpus && info?.State.Running && info.HostConfig.CpusetCpus !== cpus.engine) await moveTo(id, cpus.engine);
      await container.stop({ t: graceSeconds }).catch(() => {});
      await container.remove({ force: true }).catch(() => {});
      if (sandbox) await sandboxes.remove(sandbox);
    },

    attach(spec, tty) {
      // A one-off takes a sandbox as a dyno does: `paas run` then waits for no namespace to be made.
      return inSandbox(spec.app, (sandbox) => attachIn(spec, tty, sandbox));
    },

    async recentOutput(id, lines) {
      const buf = (await docker.getContainer(id).logs({ stdout: true, stderr: true, tail: lines, follow: false })) as unknown as Buffer;
      return new FrameSplitter().push(buf).map((f) => f.payload.toString('utf8')).join('');
    },

    async removeApp(app) {
      await preparing.get(app);
      const removed: string[] = [];
      for (const inst of await this.list(app)) {
        await docker.getContainer(inst.id).remove({ force: true }).catch(() => {});
        removed.push(`container ${inst.dyno} (v${inst.release})`);
      }
      await sandboxes.release(app);
      const held = await sandboxes.ofApp(app);
      for (const id of held) await sandboxes.remove(id);
      if (held.length) removed.push(`${held.length} network sandbox${held.length === 1 ? '' : 'es'}`);
      networks.delete(network(app));
      const nets = await docker.listNetworks({ filters: JSON.stringify({ name: [network(app)] }) });
      for (const n of nets.filter((n) => n.Name === network(app))) {
        await docker.getNetwork(n.Id).remove().catch(() => {});
        removed.push(`network ${n.Name}`);
      }
      return removed;
    },
  };
}
