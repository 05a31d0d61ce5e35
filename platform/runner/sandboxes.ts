import crypto from 'node:crypto';
import type Docker from 'dockerode';
import { STACK_IMAGE } from '../docker.ts';
import { startSlot } from './start-slots.ts';

/**
 * containerd's runc shim serves every container that names the same group, as Kubernetes has one
 * shim serve a pod's containers: a container joining a holder's namespace joins its shim too, and
 * its start runs no shim process of its own (~14% of a start's CPU here, and ~10 MB of memory per
 * container). Engines or runtimes that do not know the annotation ignore it.
 */
const SHIM_GROUP = 'io.containerd.runc.v2.group';
const inShimGroup = (group: string) => ({ Annotations: { [SHIM_GROUP]: group } });

/** A container that holds a network namespace for others, as they name it. */
export interface Holder {
  id: string;
  /** Its shim group (holders made before there were groups have none). */
  group?: string;
}

/** A dyno's network namespace, held by a container of its own. */
export interface Sandbox extends Holder {
  ip: string;
}

/** Where a container's network comes from: a network it is put on, or a namespace it joins (and that holder's shim). */
export interface NetworkPlacement {
  NetworkMode: string;
  Annotations?: Record<string, string>;
}

/** The placement of a container joining `holder`: its network namespace, and its shim. */
export const joining = (holder: Holder): NetworkPlacement => ({
  NetworkMode: `container:${holder.id}`,
  ...(holder.group ? inShimGroup(holder.group) : {}),
});

/** A holder as its inspection shows it. */
export const holderOf = (info: Docker.ContainerInspectInfo): Holder => ({
  id: info.Id,
  group: (info.HostConfig as { Annotations?: Record<string, string> }).Annotations?.[SHIM_GROUP],
});

/** What every container of an app gets, whatever runs in it (issue 5's hardening). */
export const HARDENED = {
  Init: true,
  CapDrop: ['ALL'],
  SecurityOpt: ['no-new-privileges'],
  Privileged: false,
  RestartPolicy: { Name: 'no' },
};

/**
 * A container that only holds a network namespace for others to join (`NetworkMode: container:ID`),
 * on `network` if given (else the engine's default), on `cpus` if given (its set-up and teardown).
 */
export const holderSpec = (name: string, labels: Record<string, string>, at: { network?: string; cpus?: string } = {}): Docker.ContainerCreateOptions => ({
  name,
  Image: STACK_IMAGE,
  Cmd: ['sleep', 'infinity'],
  User: '1000:1000',
  Labels: labels,
  HostConfig: {
    ...HARDENED,
    ...(at.network ? { NetworkMode: at.network } : {}),
    ...(at.cpus ? { CpusetCpus: at.cpus } : {}),
    ...inShimGroup(name),
    Memory: 16 * 1024 * 1024,
    MemorySwap: 16 * 1024 * 1024,
    PidsLimit: 8,
    LogConfig: { Type: 'none', Config: {} },
  },
});

/** A container's own address on its network (a sandbox's, or a dyno's without one). */
export const addressOf = (networks: Record<string, { IPAddress: string }> | undefined) => Object.values(networks ?? {}).map((n) => n.IPAddress).find(Boolean);

export const isSandbox = (labels: Record<string, string> | undefined) => labels?.['paas.role'] === 'sandbox';

/** A taken sandbox is named for its app (`paas-sandbox-APP-xxxxxxxx`): the app its end concerns. */
const takenName = (app: string) => `paas-sandbox-${app}-${crypto.randomBytes(4).toString('hex')}`;
export const appOfSandbox = (name: string | undefined) => /^\/?paas-sandbox-(.+)-[0-9a-f]{8}$/.exec(name ?? '')?.[1];

/** After the last process start or sandbox removal, the pool waits this long before it makes more: refills do not slow a scale-up down. */
const REFILL_AFTER_MS = 5000;

export interface PoolOptions {
  /** Spare sandboxes kept started (0: none, every dyno makes its own network). */
  size: number;
  /** Makes a network once (the scheduler's, shared with the apps' networks). */
  ensureNetwork: (name: string, labels: Record<string, string>) => Promise<string>;
  /** The CPUs sandboxes run on (the engine's), if not every one. */
  cpus?: string;
}

/**
 * Network sandboxes, as Kubernetes' pause containers hold a pod's network: a tiny container whose
 * namespace a dyno joins (`NetworkMode: container:ID`). Most of a container's start on this engine
 * is making its network namespace (dockerd re-executes itself three times for it, and runs eleven
 * iptables calls): nine containers with their own take ~6 s on two cores. So the platform keeps a
 * pool of sandboxes started ahead of need on a network of their own, where nothing runs in them;
 * a dyno takes one, moves it to its app's network (connect, then disconnect from the pool's: one
 * re-execution instead of three) and starts in it — nine in ~2.5 s. A deploy moves one ahead, while
 * it builds, so its first process starts at once. A sandbox serves one dyno and is removed with
 * it; a dyno that finds the pool empty makes its own network.
 */
export function sandboxPool(docker: Docker, owner: string, opts: PoolOptions) {
  const poolNetwork = `paas-pool-${owner}`;
  const poolName = () => `paas-pool-${owner}-${crypto.randomBytes(4).toString('hex')}`;
  const isPooled = (name: string) => name.replace(/^\//, '').startsWith(`paas-pool-${owner}-`);
  /** Started, on the pool's network, nobody's yet: oldest first. */
  const ready: string[] = [];
  let making = 0;
  /** Reservations waiting for the sandbox being made (a new platform's first deploy). */
  const waiting: Array<(id: string | undefined) => void> = [];
  let refillTimer: NodeJS.Timeout | undefined;

  const remove = (id: string): Promise<void> => docker.getContainer(id).remove({ force: true }).then(() => {}, () => {});

  const makeOne = async (): Promise<string> => {
    const net = await opts.ensureNetwork(poolNetwork, { 'paas.owner': owner, 'paas.role': 'pool' });
    const container = await docker.createContainer(holderSpec(poolName(), { 'paas.owner': owner, 'paas.role': 'sandbox' }, { network: net, cpus: opts.cpus }));
    // Behind the starts already waiting for the engine: a spare is never more urgent than a dyno.
    await startSlot(() => container.start()).catch(async (err) => {
      await remove(container.id);
      throw err;
    });
    return container.id;
  };

  /**
   * How many the pool is being filled to: one for a deploy's reservation, then all of them. Back
   * to 0 once reached, so a deploy's `fill(1)` makes one only when none is ready (it used to start
   * a spare in the middle of every deploy, its namespace's set-up competing with the new web's).
   */
  let wanted = 0;
  /** Makes what the pool lacks, one at a time, in the background (unless a process started just now). */
  const fill = (upTo = opts.size) => {
    wanted = Math.max(wanted, upTo);
    if (making || refillTimer) return;
    if (ready.length >= wanted) {
      wanted = 0;
      return;
    }
    making++;
    makeOne().then(
      (id) => {
        making--;
        const waiter = waiting.shift();
        if (waiter) return waiter(id); // a deploy's reservation: the pool is not filled while it builds
        ready.push(id);
        fill(wanted);
      },
      // The engine is down or the image gone: the next take or deploy tries again.
      () => {
        making--;
        for (const waiter of waiting.splice(0)) waiter(undefined);
      },
    );
  };

  const claim = async (id: string, app: string, network: string): Promise<Sandbox | undefined> => {
    try {
      await docker.getContainer(id).rename({ name: takenName(app) });
      // Onto the app's network first, then off the pool's: the dyno starts only after both.
      await docker.getNetwork(network).connect({ Container: id });
      await docker.getNetwork(poolNetwork).disconnect({ Container: id, Force: true });
      const info = await docker.getContainer(id).inspect();
      const networks = info.NetworkSettings.Networks ?? {};
      const ip = networks[network]?.IPAddress;
      // Stopped with the engine, or killed: of no use any more.
      if (info.State.Running && ip && Object.keys(networks).length === 1) return { ...holderOf(info), ip };
    } catch {
      /* removed below */
    }
    await remove(id);
    return undefined;
  };

  /** The pool's next sandbox that can be moved onto the app's network (`wait`: also one being made). */
  const claimNext = async (app: string, network: string, wait = false): Promise<Sandbox | undefined> => {
    for (;;) {
      const id = ready.shift() ?? (wait && making ? await new Promise<string | undefined>((r) => waiting.push(r)) : undefined);
      if (!id) return undefined;
      const sandbox = await claim(id, app, network);
      if (sandbox) return sandbox;
    }
  };

  /** Tops the pool up REFILL_AFTER_MS from now (again), not while processes start or stop or a deploy builds. */
  const refillLater = () => {
    clearTimeout(refillTimer);
    refillTimer = setTimeout(() => {
      refillTimer = undefined;
      fill();
    }, REFILL_AFTER_MS).unref();
  };

  /** One sandbox per app moved onto its network ahead of a deploy, while it builds or runs its release phase. */
  const reserved = new Map<string, Promise<Sandbox | undefined>>();

  return {
    /** A sandbox on the app's network, now the caller's; undefined when the pool has none ready. */
    async take(app: string, network: string): Promise<Sandbox | undefined> {
      if (opts.size === 0) return undefined;
      refillLater();
      const mine = reserved.get(app);
      reserved.delete(app);
      return (await mine) ?? claimNext(app, network);
    },

    /** In the background, moves a sandbox onto the app's network for its next process (a deploy is coming). */
    reserve(app: string, network: string): void {
      if (opts.size === 0 || reserved.has(app)) return;
      if (refillTimer) refillLater(); // a refill due now would compete with the build
      reserved.set(app, claimNext(app, network, true));
    },

    /**
     * The sandbox reserved for the app's next process, left reserved: the release phase runs in it
     * and exits before the new web starts there, so neither makes a network namespace of its own.
     */
    reservedFor(app: string): Promise<Sandbox | undefined> {
      return reserved.get(app) ?? Promise.resolve(undefined);
    },

    /** Forgets the app's reserved sandbox, once it is made (before removing the app's sandboxes). */
    async release(app: string): Promise<void> {
      const mine = reserved.get(app);
      reserved.delete(app);
      await mine;
    },

    /**
     * In the background, tops the pool up to `upTo` (a deploy is coming: one, for its reservation;
     * the rest once its process has started, not while it builds).
     */
    fill(upTo = opts.size): void {
      if (opts.size > 0) fill(Math.min(upTo, opts.size));
    },

    /**
     * Removes a sandbox whose dyno is gone. A refill due is put off again: teardowns (a scale-down's,
     * a deploy's old processes) and the namespaces a refill makes would otherwise stall the
     * requests in flight together.
     */
    async remove(id: string): Promise<void> {
      await remove(id);
      if (refillTimer) refillLater();
    },

    /**
     * At start-up, before this platform takes any: keeps the pool's running sandboxes that a previous
     * run left, and returns those to remove — the pool's that no longer run, and taken ones whose
     * dyno never came or is gone (a platform killed between taking a sandbox and creating its dyno).
     */
    adopt(summaries: Docker.ContainerInfo[]): string[] {
      const used = new Set(summaries.map((s) => s.Labels['paas.sandbox']).filter(Boolean));
      const orphans: string[] = [];
      for (const s of summaries.filter((s) => isSandbox(s.Labels) && !used.has(s.Id))) {
        if (s.Names.some(isPooled) && s.State === 'running' && opts.size > ready.length) {
          if (!ready.includes(s.Id)) ready.push(s.Id);
        } else orphans.push(s.Id);
      }
      return orphans;
    },

    /** The app's sandboxes (taken ones carry its name), for removing the app. */
    async ofApp(app: string): Promise<string[]> {
      const all = await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`paas.owner=${owner}`, 'paas.role=sandbox'] }) });
      return all.filter((s) => s.Names.some((n) => appOfSandbox(n) === app)).map((s) => s.Id);
    },
  };
}
