import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { createCollector } from './collector.ts';
import { createLogHub } from './hub.ts';
import { openLogStore } from './store.ts';

/** Just enough of dockerode: an event stream, and containers whose json-file logs are files in a temp dir. */
function fakeDocker() {
  const events = new PassThrough();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'paas-collect-'));
  const logPath = (id: string) => path.join(dir, `${id}-json.log`);
  const docker = {
    getEvents: async () => events,
    listContainers: async () => [],
    getContainer: (id: string) => ({
      inspect: async () => {
        if (!fs.existsSync(logPath(id))) fs.writeFileSync(logPath(id), '');
        return { LogPath: logPath(id), State: { Running: true } };
      },
    }),
  } as unknown as Docker;
  const event = (Action: string, id: string, attrs: Record<string, string> = {}) =>
    events.write(JSON.stringify({ Type: 'container', Action, Actor: { ID: id, Attributes: { 'paas.owner': 'me', 'paas.app': 'demo', 'paas.dyno': 'web.1', 'paas.process': 'web', 'paas.release': '3', ...attrs } } }) + '\n');
  const print = (id: string, text: string) => fs.appendFileSync(logPath(id), JSON.stringify({ log: `${text}\n`, stream: 'stdout', time: new Date().toISOString() }) + '\n');
  return { docker, event, print, opened: (id: string) => fs.existsSync(logPath(id)) };
}

const until = async (probe: () => boolean) => {
  const deadline = Date.now() + 5000;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('collector', () => {
  it('reads each container the engine starts, and reports exits and crashes', async () => {
    const hub = createLogHub(openLogStore(path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'paas-collect-')), 'logs.db')));
    const { docker, event, print, opened } = fakeDocker();
    const collector = createCollector(docker, 'me', hub);
    await collector.start();
    const texts = () => hub.history('demo').map((l) => `${l.source}[${l.dyno}]: ${l.text}`);

    event('start', 'c1');
    await until(() => opened('c1'));
    print('c1', 'hello');
    await until(() => texts().includes('app[web.1]: hello'));
    // Stopped on purpose: a kill comes first; its last words are read before the exit is told.
    event('kill', 'c1', { signal: '15' });
    print('c1', 'bye');
    event('die', 'c1', { exitCode: '143' });
    await until(() => texts().includes('paas[web.1]: Process exited with status 143'));

    event('start', 'c2', { 'paas.dyno': 'worker.1', 'paas.process': 'worker' });
    await until(() => opened('c2'));
    event('die', 'c2', { 'paas.dyno': 'worker.1', 'paas.process': 'worker', exitCode: '1' });
    await until(() => texts().includes('paas[worker.1]: State changed from up to crashed'));

    // Another platform's containers, and release-phase ones, are not ours to read here.
    event('start', 'c3', { 'paas.owner': 'someone-else' });
    event('start', 'c4', { 'paas.process': 'release', 'paas.dyno': 'release.1' });
    await new Promise((r) => setTimeout(r, 100));
    expect(opened('c3') || opened('c4')).toBe(false);

    expect(texts()).toEqual([
      'paas[web.1]: Starting process (v3)',
      'app[web.1]: hello',
      'app[web.1]: bye',
      'paas[web.1]: Process exited with status 143',
      'paas[worker.1]: Starting process (v3)',
      'paas[worker.1]: Process exited with status 1',
      'paas[worker.1]: State changed from up to crashed',
    ]);
    collector.stop();
    hub.close();
  });
});
