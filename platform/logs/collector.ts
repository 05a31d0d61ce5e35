import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import type { LogHub } from './hub.ts';
import { followContainer } from './follower.ts';

interface Labelled {
  id: string;
  app: string;
  dyno: string;
  type: string;
  release: string;
}

/** Release-phase output is written by the roll-out itself (its container is gone the moment it exits). */
const SKIP_TYPES = new Set(['release']);

/**
 * Collects the output of every app container of this platform (label paas.owner): those running
 * or stopped when it starts (adopted), and each one the engine starts later (its event stream),
 * whoever started it: runner, scaling, one-off runs. It only reads what the engine's json-file
 * driver already stored, so a slow reader never holds a container's stdout.
 * Also turns container lifecycle events into `paas[DYNO]` lines (exit status, crashes).
 */
export function createCollector(docker: Docker, owner: string, hub: LogHub) {
  const following = new Map<string, Promise<void>>();
  const stopping = new Set<string>();
  const abort = new AbortController();
  let events: Readable | undefined;

  const labelled = (id: string, labels: Record<string, string> | undefined): Labelled | undefined => {
    if (!labels?.['paas.app'] || !labels['paas.dyno'] || labels['paas.owner'] !== owner) return undefined;
    return { id, app: labels['paas.app'], dyno: labels['paas.dyno'], type: labels['paas.process'] ?? '', release: labels['paas.release'] ?? '' };
  };

  const open = (id: string) => async (since: string | undefined) =>
    (await docker.getContainer(id).logs({
      follow: true,
      stdout: true,
      stderr: true,
      timestamps: true,
      ...(since ? { since: since as unknown as number } : {}),
    })) as unknown as Readable;

  const follow = (c: Labelled): Promise<void> => {
    if (SKIP_TYPES.has(c.type)) return Promise.resolve();
    const existing = following.get(c.id);
    if (existing) return existing;
    const run = (async () => {
      for (;;) {
        try {
          await followContainer(c, hub, open(c.id), abort.signal);
        } catch (err) {
          if ((err as { statusCode?: number }).statusCode === 404) return;
          if (!abort.signal.aborted) console.error(`log collector: reading ${c.app} ${c.dyno} failed:`, (err as Error).message);
        }
        if (abort.signal.aborted) return;
        // The stream also ends when the engine restarts; keep reading while the container runs.
        const info = await docker.getContainer(c.id).inspect().catch(() => undefined);
        if (!info?.State.Running) return;
        await new Promise((r) => setTimeout(r, 1000));
      }
    })().finally(() => following.delete(c.id));
    following.set(c.id, run);
    return run;
  };

  const onEvent = async (e: { Type?: string; Action?: string; status?: string; Actor?: { ID: string; Attributes?: Record<string, string> } }) => {
    const action = e.Action ?? e.status ?? '';
    const c = e.Actor && labelled(e.Actor.ID, e.Actor.Attributes);
    if (!c || SKIP_TYPES.has(c.type)) return;
    if (action === 'start') {
      stopping.delete(c.id);
      hub.write(c.app, 'paas', c.dyno, `Starting process (v${c.release})`);
      void follow(c);
    } else if (action === 'kill') {
      stopping.add(c.id);
    } else if (action === 'die') {
      // Let the last lines of its output come first.
      const reading = following.get(c.id);
      if (reading) await Promise.race([reading, new Promise((r) => setTimeout(r, 2000))]);
      const status = e.Actor?.Attributes?.exitCode ?? '?';
      hub.write(c.app, 'paas', c.dyno, `Process exited with status ${status}`);
      const intended = stopping.delete(c.id) || c.type === 'run' || c.dyno.startsWith('run.');
      if (!intended) hub.write(c.app, 'paas', c.dyno, 'State changed from up to crashed');
    } else if (action === 'destroy') {
      stopping.delete(c.id);
    }
  };

  const watchEvents = async () => {
    while (!abort.signal.aborted) {
      try {
        const filters = JSON.stringify({ type: ['container'], label: [`paas.owner=${owner}`], event: ['start', 'kill', 'die', 'destroy'] });
        events = (await docker.getEvents({ filters } as unknown as Docker.GetEventsOptions)) as unknown as Readable;
        // Containers that started before the event stream opened (adopted ones, or while it was down).
        void sweep();
        let rest = '';
        await new Promise<void>((resolve) => {
          events!.on('data', (chunk: Buffer) => {
            rest += chunk.toString('utf8');
            let nl;
            while ((nl = rest.indexOf('\n')) >= 0) {
              const raw = rest.slice(0, nl).trim();
              rest = rest.slice(nl + 1);
              if (!raw) continue;
              try {
                void onEvent(JSON.parse(raw)).catch(() => {});
              } catch {
                /* not an event */
              }
            }
          });
          events!.once('end', resolve).once('close', resolve).once('error', () => resolve());
        });
      } catch (err) {
        if (!abort.signal.aborted) console.error('log collector: engine events unavailable:', (err as Error).message);
      }
      if (!abort.signal.aborted) await new Promise((r) => setTimeout(r, 1000));
    }
  };

  const sweep = async () => {
    const filters = JSON.stringify({ label: [`paas.owner=${owner}`, 'paas.dyno'] });
    const containers = await docker.listContainers({ all: true, filters }).catch(() => undefined);
    if (!containers) return;
    for (const s of containers) {
      const c = labelled(s.Id, s.Labels);
      if (c) void follow(c);
    }
    return containers.map((s) => s.Id);
  };

  return {
    /** Starts collecting; resolves to the containers being read (undefined when the engine did not answer). */
    async start(): Promise<string[] | undefined> {
      void watchEvents();
      return sweep();
    },
    /** Reads a container now (e.g. one the runner just started), before its start event arrives. */
    follow(instance: { id: string; app: string; dyno: string; type: string; release: number }) {
      void follow({ ...instance, release: String(instance.release) });
    },
    stop(): void {
      abort.abort();
      events?.destroy();
    },
  };
}
