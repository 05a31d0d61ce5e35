import { describe, expect, it } from 'vitest';
import { byDyno } from './ps.ts';

describe('byDyno', () => {
  it('orders dynos by type, then by number (web.2 before web.10), one-offs by name', () => {
    const names = ['web.10', 'worker.1', 'run.ab12', 'web.2', 'run.1f00', 'web.1'];
    expect(names.map((dyno) => ({ dyno })).sort(byDyno).map((d) => d.dyno)).toEqual(['run.1f00', 'run.ab12', 'web.1', 'web.2', 'web.10', 'worker.1']);
  });
});
