import type Docker from 'dockerode';
import { describe, expect, it, vi } from 'vitest';
import { appOfSandbox, joining, sandboxPool } from './sandboxes.ts';

interface FakeContainer {
  name: string;
  hostConfig: Record<string, unknown>;
  running: boolean;
  networks: Record<string, { IPAddress: string }>;
}

/** A fake engine, slow to answer (as a busy engine is): only what the pool asks of it. */
function fakeEngine() {
  const containers = new Map<string, FakeContainer>();
  let next = 0;
  const tick = () => new Promise((r) => setTimeout(r, 5));
  const get = (id: string) => {
    const c = containers.get(id);
    if (!c) throw Object.assign(new Error('no such container'), { statusCode: 404 });
    return c;
  };
  const docker = {
    async createContainer(opts: { name: string; HostConfig: { NetworkMode: string } }) {
      await tick();
      const id = `sandbox-${++next}`;
      containers.set(id, { name: opts.name, hostConfig: opts.HostConfig, running: false, networks: { [opts.HostConfig.NetworkMode]: { IPAddress: `10.9.0.${next}` } } });
      return { id, start: async () => void (get(id).running = true) };
    },
    getContainer: (id: string) => ({
      async inspect() {
        await tick();
        const c = get(id);
        return { Id: id, State: { Running: c.running }, HostConfig: c.hostConfig, NetworkSettings: { Networks: c.networks } };
      },
      async rename({ name }: { name: string }) {
        await tick();
        get(id).name = name;
      },
      async remove() {
        containers.delete(id);
      },
    }),
    getNetwork: (net: string) => ({
      async connect({ Container }: { Container: string }) {
        await tick();
        get(Container).networks[net] = { IPAddress: `10.1.0.${Container.split('-')[1]}` };
      },
      async disconnect({ Container }: { Container: string }) {
        await tick();
        delete get(Container).networks[net];
      },
    }),
  };
  return { docker: docker as unknown as Docker, containers };
}

async function filledPool(size: number) {
  const engine = fakeEngine();
  const pool = sandboxPool(engine.docker, 'me', { size, ensureNetwork: async (name) => name });
  pool.fill();
  for (let i = 0; i < 100 && engine.containers.size < size; i++) await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, 20));
  return { ...engine, pool };
}

describe('sandbox pool', () => {
  it('hands each sandbox to one dyno only, however many start at once, moved to the app’s network', async () => {
    const { pool, containers } = await filledPool(3);
    expect(containers.size).toBe(3);
    const taken = await Promise.all(Array.from({ length: 5 }, () => pool.take('demo', 'paas-app-demo')));
    const got = taken.filter(Boolean);
    expect(got).toHaveLength(3);
    expect(new Set(got.map((s) => s!.id)).size).toBe(3);
    for (const s of got) {
      const c = containers.get(s!.id)!;
      expect(Object.keys(c.networks)).toEqual(['paas-app-demo']);
      expect(s!.ip).toBe(c.networks['paas-app-demo'].IPAddress);
      expect(appOfSandbox(c.name)).toBe('demo');
    }
    // Nothing left to take until the pool is refilled.
    expect(await pool.take('demo', 'paas-app-demo')).toBeUndefined();
  });

  it('moves one sandbox onto an app’s network ahead of its deploy, for that app’s next process only', async () => {
    const { pool, containers } = await filledPool(2);
    pool.reserve('demo', 'paas-app-demo');
    await new Promise((r) => setTimeout(r, 100));
    const ahead = [...containers].find(([, c]) => appOfSandbox(c.name) === 'demo')?.[0];
    expect(containers.get(ahead!)!.networks).toHaveProperty('paas-app-demo');
    const other = await pool.take('other', 'paas-app-other');
    expect(other?.id).not.toBe(ahead);
    expect((await pool.take('demo', 'paas-app-demo'))?.id).toBe(ahead);
    expect(await pool.take('demo', 'paas-app-demo')).toBeUndefined();
  });

  it('lends the reserved sandbox to a release phase and still hands it to the app’s next process', async () => {
    const { pool } = await filledPool(2);
    expect(await pool.reservedFor('demo')).toBeUndefined();
    pool.reserve('demo', 'paas-app-demo');
    const lent = await pool.reservedFor('demo');
    expect(lent).toBeDefined();
    expect(await pool.reservedFor('demo')).toEqual(lent);
    expect(await pool.take('demo', 'paas-app-demo')).toEqual(lent);
    expect(await pool.reservedFor('demo')).toBeUndefined();
  });

  it('gives a reservation made while the pool is still empty the sandbox being made', async () => {
    const engine = fakeEngine();
    const pool = sandboxPool(engine.docker, 'me', { size: 3, ensureNetwork: async (name) => name });
    pool.fill();
    pool.reserve('demo', 'paas-app-demo');
    const taken = await pool.take('demo', 'paas-app-demo');
    expect(taken).toBeDefined();
    expect(Object.keys(engine.containers.get(taken!.id)!.networks)).toEqual(['paas-app-demo']);
  });

  it('refills 5 s after the last take, put off again by every sandbox removed meanwhile', async () => {
    vi.useFakeTimers();
    try {
      const engine = fakeEngine();
      const pool = sandboxPool(engine.docker, 'me', { size: 2, ensureNetwork: async (name) => name });
      pool.fill();
      await vi.advanceTimersByTimeAsync(1000);
      expect(engine.containers.size).toBe(2);
      const taking = pool.take('demo', 'paas-app-demo');
      await vi.advanceTimersByTimeAsync(4000);
      await pool.remove((await taking)!.id); // its dyno stopped: a scale-down
      expect(engine.containers.size).toBe(1);
      await vi.advanceTimersByTimeAsync(3000); // 7 s after the take
      expect(engine.containers.size).toBe(1);
      await vi.advanceTimersByTimeAsync(3000); // 5 s after the removal
      expect(engine.containers.size).toBe(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it('makes no spare for a deploy while one is ready: the rest are made after its process starts', async () => {
    const { pool, containers } = await filledPool(3);
    pool.fill(1);
    pool.reserve('demo', 'paas-app-demo');
    await pool.reservedFor('demo');
    pool.fill(1); // the roll-out after the build asks again
    await new Promise((r) => setTimeout(r, 100));
    expect(containers.size).toBe(3);
  });

  it('has a dyno joining a sandbox share its namespace and its shim (one group per sandbox)', async () => {
    const { pool } = await filledPool(2);
    const [a, b] = await Promise.all([pool.take('demo', 'paas-app-demo'), pool.take('demo', 'paas-app-demo')]);
    expect(joining(a!)).toEqual({ NetworkMode: `container:${a!.id}`, Annotations: { 'io.containerd.runc.v2.group': a!.group } });
    expect(a!.group).toMatch(/^paas-pool-me-[0-9a-f]{8}$/);
    expect(b!.group).not.toBe(a!.group);
    // A holder made before groups existed: the namespace only.
    expect(joining({ id: 'old' })).toEqual({ NetworkMode: 'container:old' });
  });

  it('removes a sandbox that stopped and hands out the next one', async () => {
    const { pool, containers } = await filledPool(2);
    const [first] = [...containers.keys()];
    containers.get(first)!.running = false;
    const taken = await pool.take('demo', 'paas-app-demo');
    expect(taken?.id).not.toBe(first);
    expect(containers.has(first)).toBe(false);
  });

  it('keeps none with a size of 0', async () => {
    const { pool, containers } = await filledPool(0);
    expect(containers.size).toBe(0);
    expect(await pool.take('demo', 'paas-app-demo')).toBeUndefined();
  });

  it('tells the app of a taken sandbox from its name, and only of a taken one', () => {
    expect(appOfSandbox('/paas-sandbox-my-app-0a1b2c3d')).toBe('my-app');
    expect(appOfSandbox('paas-sandbox-demo-ffffffff')).toBe('demo');
    expect(appOfSandbox('paas-pool-abc-0a1b2c3d')).toBeUndefined();
    expect(appOfSandbox('paas-sandbox-demo')).toBeUndefined();
  });
});
