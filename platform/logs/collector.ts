import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import type { LogHub } from './hub.ts';
import { followContainer, type Follower } from './follower.ts';

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
 * whoever started it: runner, scaling, one-off runs. It reads the engine's json-file logs from
 * disk (the platform runs beside the engine, as root): what the driver already stored, so a slow
 * reader never holds a container's stdout, and without the engine's own log streaming, which
 * tops out at a few thousand lines/s.
 * Also turns container lifecycle events into `paas[DYNO]` lines (exit status, crashes).
 */
export function createCollector(docker: Docker, owner: string, hub: LogHub) {
  const following = new Map<string, Follower>();
  const stopping = new Set<string>();
  const abort = new AbortController();
  let events: Readable | undefined;

  const labelled = (id: string, labels: Record<string, string> | undefined): Labelled | undefined => {
    if (!labels?.['paas.app'] || !labels['paas.dyno'] || labels['paas.owner'] !== owner) return undefined;
    return { id, app: labels['paas.app'], dyno: labels['paas.dyno'], type: labels['paas.process'] ?? '', release: labels['paas.release'] ?? '' };
  };

  const locate = async (c: Labelled) => {
    const info = await docker.getContainer(c.id).inspect().catch((err: { statusCode?: number; message: string }) => {
      if (err.statusCode !== 404 && !abort.signal.aborted) console.error(`log collector: inspecting ${c.app} ${c.dyno} failed:`, err.message);
      return undefined;
    });
    if (!info) return undefined;
    if (!info.LogPath) {
      console.error(`log collector: ${c.app} ${c.dyno} has no log file (log driver ${info.HostConfig?.LogConfig?.Type ?? '?'}; json-file expected)`);
      return undefined;
    }
    return { logPath: info.LogPath, running: info.State.Running };
  };

  /** Reads a container's log file until it stops (to its end at once when it is not running). */
  const follow = (c: Labelled): void => {
    if (SKIP_TYPES.has(c.type) || abort.signal.aborted) return;
    const existing = following.get(c.id);
    if (existing && !existing.finishing) return;
    // Started again while its last run is read to the end: that reader ends first.
    const reader = followContainer(c, hub, async () => (await existing?.done.catch(() => {}), locate(c)));
    following.set(c.id, reader);
    void reader.done
      .catch((err: Error) => {
        if (!abort.signal.aborted) console.error(`log collector: reading ${c.app} ${c.dyno} failed:`, err.message);
      })
      .finally(() => {
        if (following.get(c.id) === reader) following.delete(c.id);
      });
  };

  const onEvent = async (e: { Type?: string; Action?: string; status?: string; Actor?: { ID: string; Attributes?: Record<string, string> } }) => {
    const action = e.Action ?? e.status ?? '';
    const c = e.Actor && labelled(e.Actor.ID, e.Actor.Attributes);
    if (!c || SKIP_TYPES.has(c.type)) return;
    if (action === 'start') {
      stopping.delete(c.id);
      hub.write(c.app, 'paas', c.dyno, `Starting process (v${c.release})`);
      follow(c);
    } else if (action === 'kill') {
      stopping.add(c.id);
    } else if (action === 'die') {
      // Let the last lines of its output come first.
      const reader = following.get(c.id);
      reader?.finish();
      if (reader) await Promise.race([reader.done.catch(() => {}), new Promise((r) => setTimeout(r, 2000))]);
      const status = e.Actor?.Attributes?.exitCode ?? '?';
      hub.write(c.app, 'paas', c.dyno, `Process exited with status ${status}`);
      const intended = stopping.delete(c.id) || c.type === 'run' || c.dyno.startsWith('run.');
      if (!intended) hub.write(c.app, 'paas', c.dyno, 'State changed from up to crashed');
    } else if (action === 'destroy') {
      stopping.delete(c.id);
      // Its files are gone: what is open is read to the end, and let go.
      following.get(c.id)?.finish();
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
      if (!c) continue;
      follow(c);
      // Stopped while the engine's events were not heard: its reader ends at the end of the file.
      if (s.State !== 'running') following.get(c.id)?.finish();
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
      follow({ ...instance, release: String(instance.release) });
    },
    stop(): void {
      abort.abort();
      events?.destroy();
      for (const reader of following.values()) reader.stop();
    },
  };
}
