import { describe, expect, it } from 'vitest';
import { Deadlines } from './deadlines.ts';
import { waitFor } from './test-helpers.ts';

describe('Deadlines', () => {
  it('fires armed deadlines once, never disarmed ones, and stops its timer when nothing is armed', async () => {
    const d = new Deadlines(40);
    const fired: string[] = [];
    const item = (name: string) => ({ expire: () => void fired.push(name) });
    const a = item('a');
    const b = item('b');
    const c = item('c');
    d.arm(a);
    d.arm(b);
    d.arm(c);
    d.disarm(b);
    d.arm(c); // re-armed: still fires once
    await waitFor(() => fired.length === 2);
    expect(fired.sort()).toEqual(['a', 'c']);
    // A later deadline fires too (the timer restarts after going idle).
    d.arm(b);
    await waitFor(() => fired.length === 3);
    expect(fired).toContain('b');
    d.close();
  });
});
