import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { moveToCpuGroup, sharesToWeight } from './cpu-group.ts';
import { useFakeCgroupRoots } from './fake-cgroup-root.ts';

const fakeRoot = useFakeCgroupRoots();
const read = (root: string, file: string) => fs.readFileSync(path.join(root, file), 'utf8');

describe('moveToCpuGroup', () => {
  it('on cgroup v1, makes the group under the cpu controller with its shares and moves the process in', () => {
    const root = fakeRoot({ 'cpu/cpu.shares': '1024', 'cpu/cgroup.procs': '' });
    expect(moveToCpuGroup(4242, 'paas-engine', 256, root)).toEqual({ group: path.join(root, 'cpu/paas-engine') });
    expect(read(root, 'cpu/paas-engine/cpu.shares')).toBe('256');
    expect(read(root, 'cpu/paas-engine/cgroup.procs')).toBe('4242');
  });

  it('on cgroup v2, turns the cpu controller on for the root’s children and sets the weight', () => {
    const root = fakeRoot({ 'cgroup.subtree_control': 'memory pids\n', 'cgroup.procs': '' });
    expect(moveToCpuGroup(4242, 'paas-engine', 256, root)).toEqual({ group: path.join(root, 'paas-engine') });
    expect(read(root, 'cgroup.subtree_control')).toBe('+cpu');
    expect(read(root, 'paas-engine/cpu.weight')).toBe('10');
    expect(read(root, 'paas-engine/cgroup.procs')).toBe('4242');
  });

  it('says why when there is no CPU controller to use, and touches nothing', () => {
    const root = fakeRoot({});
    const result = moveToCpuGroup(4242, 'paas-engine', 256, root);
    expect(result).toMatchObject({ skipped: expect.stringMatching(/ENOENT/) });
    expect(fs.readdirSync(root)).toEqual([]);
  });
});

describe('sharesToWeight', () => {
  it('maps cgroup v1 shares onto the v2 weight scale as runc does', () => {
    expect(sharesToWeight(2)).toBe(1);
    expect(sharesToWeight(256)).toBe(10);
    expect(sharesToWeight(1024)).toBe(39);
    expect(sharesToWeight(262144)).toBe(10000);
  });
});
