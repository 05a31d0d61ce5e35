import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { sandboxPool } from './sandboxes.ts';

/** A fake engine holding one running spare, slow to answer (as a busy engine is). */
function engineWithSpare(owner: string, app: string) {
  const names = new Map<string, string>([[`paas-spare-${owner}-${app}`, 'sandbox-1']]);
  const tick = () => new Promise((r) => setTimeout(r, 5));
  const container = (ref: string) => ({
    async inspect() {
      await tick();
      const id = names.get(ref) ?? [...names.values()].find((v) => v === ref); // by name or by id
      if (!id) throw Object.assign(new Error('no such container'), { statusCode: 404 });
      return { Id: id, State: { Running: true }, NetworkSettings: { Networks: { net: { IPAddress: '10.0.0.2' } } } };
    },
    async rename({ name }: { name: string }) {
      await tick();
      for (const [n, id] of names) if (id === ref || n === ref) names.delete(n);
      names.set(name, ref);
    },
  });
  return { getContainer: container } as unknown as Docker;
}

describe('sandbox pool', () => {
  it('hands the spare to one dyno only, however many start at once', async () => {
    const pool = sandboxPool(engineWithSpare('me', 'demo'), 'me');
    const taken = await Promise.all(Array.from({ length: 5 }, () => pool.take('demo')));
    expect(taken.filter(Boolean)).toEqual([{ id: 'sandbox-1', ip: '10.0.0.2' }]);
    // The spare has its new name: none is left to take until the pool is refilled.
    expect(await pool.take('demo')).toBeUndefined();
  });
});
