import crypto from 'node:crypto';
import type Docker from 'dockerode';
import { STACK_IMAGE } from '../docker.ts';
import { startSlot } from './start-slots.ts';

/** A dyno's network namespace, held by a container of its own. */
export interface Sandbox {
  id: string;
  ip: string;
}

/** What every container of an app gets, whatever runs in it (issue 5's hardening). */
export const HARDENED = {
  Init: true,
  CapDrop: ['ALL'],
  SecurityOpt: ['no-new-privileges'],
  Privileged: false,
  RestartPolicy: { Name: 'no' },
};

/** A container's own address on its network (a sandbox's, or a dyno's without one). */
export const addressOf = (networks: Record<string, { IPAddress: string }> | undefined) => Object.values(networks ?? {}).map((n) => n.IPAddress).find(Boolean);

export const isSandbox = (labels: Record<string, string> | undefined) => labels?.['paas.role'] === 'sandbox';

/**
 * Network sandboxes, as Kubernetes' pause containers hold a pod's network: a tiny container on
 * the app's network whose namespace a dyno joins (`NetworkMode: container:ID`). Most of a
 * container's start on this engine is its network (a namespace, a veth pair on the bridge, and
 * dockerd re-executed as the namespace's set-up hook): 0.8–1.5 s here against 0.3–0.5 s for
 * joining a ready one. So each app keeps one sandbox started ahead of need, and the first process
 * of a deploy, a restart or a crash replacement starts without waiting for its network. A sandbox
 * serves one dyno and is removed with it; a dyno that finds no spare joins the network itself.
 */
export function sandboxPool(docker: Docker, owner: string) {
  const spareName = (app: string) => `paas-spare-${owner}-${app}`;
  const refilling = new Map<string, Promise<void>>();
  const taking = new Set<string>();

  return {
    /** The app's spare sandbox, now the caller's; undefined when none is ready. */
    async take(app: string): Promise<Sandbox | undefined> {
      // One taker at a time (the others start without): two dynos in one namespace would both bind $PORT.
      if (refilling.has(app) || taking.has(app)) return undefined;
      taking.add(app);
      try {
        const info = await docker.getContainer(spareName(app)).inspect().catch(() => undefined);
        if (!info) return undefined;
        const spare = docker.getContainer(info.Id);
        const ip = addressOf(info.NetworkSettings.Networks);
        if (!info.State.Running || !ip) {
          // Stopped with the engine, or killed: of no use any more.
          await spare.remove({ force: true }).catch(() => {});
          return undefined;
        }
        // Renamed, so that the next spare can take the name.
        if (!(await spare.rename({ name: `paas-sandbox-${app}-${crypto.randomBytes(4).toString('hex')}` }).then(() => true, () => false))) return undefined;
        return { id: info.Id, ip };
      } finally {
        taking.delete(app);
      }
    },

    /** Starts the app's next spare in the background, behind the starts already waiting for the engine. */
    refill(app: string, network: string): void {
      if (refilling.has(app)) return;
      const done = docker
        .createContainer({
          name: spareName(app),
          Image: STACK_IMAGE,
          Cmd: ['sleep', 'infinity'],
          User: '1000:1000',
          Labels: { 'paas.app': app, 'paas.owner': owner, 'paas.role': 'sandbox' },
          HostConfig: { ...HARDENED, NetworkMode: network, Memory: 16 * 1024 * 1024, MemorySwap: 16 * 1024 * 1024, PidsLimit: 8, LogConfig: { Type: 'none', Config: {} } },
        })
        .then((c) => startSlot(() => c.start()))
        // 409: the app has its spare already. Otherwise only the next start pays for its network.
        .catch(() => {})
        .finally(() => refilling.delete(app));
      refilling.set(app, done);
    },

    /** Resolves once no spare of the app is being made (before removing them all). */
    async idle(app: string): Promise<void> {
      await refilling.get(app);
    },

    /** Removes a sandbox whose dyno is gone. */
    remove(id: string): Promise<void> {
      return docker.getContainer(id).remove({ force: true }).then(() => {}, () => {});
    },

    /**
     * Sandboxes whose dyno never came or is gone: a platform killed between taking a sandbox and
     * creating its dyno, or between removing the two. Only safe to tell from the containers at
     * start-up, before this platform takes any (a sandbox just taken has no dyno yet).
     */
    orphans(summaries: Docker.ContainerInfo[]): string[] {
      const used = new Set(summaries.map((s) => s.Labels['paas.sandbox']).filter(Boolean));
      return summaries.filter((s) => isSandbox(s.Labels) && !used.has(s.Id) && !s.Names.some((n) => n.startsWith('/paas-spare-'))).map((s) => s.Id);
    },
  };
}
