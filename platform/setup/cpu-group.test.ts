import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cpuSetsOf, keepOffFirstCpu, moveToCpuGroup, parseCpuList, sharesToWeight } from './cpu-group.ts';
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

describe('keepOffFirstCpu', () => {
  it('reads CPU lists as the kernel writes them', () => {
    expect(parseCpuList('0-1\n')).toEqual([0, 1]);
    expect(parseCpuList('0,2-4,7')).toEqual([0, 2, 3, 4, 7]);
    expect(parseCpuList('3')).toEqual([3]);
  });

  it('on cgroup v1, makes a cpuset group with every CPU but the first and the root’s memory nodes, and moves the process in', () => {
    const root = fakeRoot({ 'cpuset/cpuset.cpus': '0-3', 'cpuset/cpuset.effective_cpus': '0-3\n', 'cpuset/cpuset.effective_mems': '0\n' });
    expect(keepOffFirstCpu(4242, 'paas-engine', root)).toEqual({ cpus: '1,2,3' });
    expect(read(root, 'cpuset/paas-engine/cpuset.mems')).toBe('0');
    expect(read(root, 'cpuset/paas-engine/cpuset.cpus')).toBe('1,2,3');
    expect(read(root, 'cpuset/paas-engine/cgroup.procs')).toBe('4242');
  });

  it('on cgroup v2, turns the cpuset controller on for the root’s children', () => {
    const root = fakeRoot({ 'cgroup.subtree_control': 'cpu memory\n', 'cpuset.cpus.effective': '0-1\n' });
    expect(keepOffFirstCpu(4242, 'paas-engine', root)).toEqual({ cpus: '1' });
    expect(read(root, 'cgroup.subtree_control')).toBe('+cpuset');
    expect(read(root, 'paas-engine/cpuset.cpus')).toBe('1');
  });

  it('leaves a single-CPU machine, or one without a cpuset controller, as it is', () => {
    const single = fakeRoot({ 'cpuset/cpuset.cpus': '0', 'cpuset/cpuset.effective_cpus': '0\n', 'cpuset/cpuset.effective_mems': '0\n' });
    expect(keepOffFirstCpu(4242, 'paas-engine', single)).toEqual({ skipped: 'a single CPU' });
    expect(fs.existsSync(path.join(single, 'cpuset/paas-engine'))).toBe(false);
    expect(keepOffFirstCpu(4242, 'paas-engine', fakeRoot({}))).toMatchObject({ skipped: expect.stringMatching(/ENOENT/) });
  });
});

describe('cpuSetsOf', () => {
  it('reads back the CPUs keepOffFirstCpu gave the group, with all of the machine’s (cgroup v1 and v2)', () => {
    const v1 = fakeRoot({ 'cpuset/cpuset.cpus': '0-3', 'cpuset/cpuset.effective_cpus': '0-3\n', 'cpuset/cpuset.effective_mems': '0\n' });
    keepOffFirstCpu(4242, 'paas-engine', v1);
    expect(cpuSetsOf('paas-engine', v1)).toEqual({ engine: '1,2,3', all: '0-3' });
    const v2 = fakeRoot({ 'cgroup.subtree_control': '', 'cpuset.cpus.effective': '0-1\n' });
    keepOffFirstCpu(4242, 'paas-engine', v2);
    expect(cpuSetsOf('paas-engine', v2)).toEqual({ engine: '1', all: '0-1' });
  });

  it('is undefined without the group, or when the group has every CPU', () => {
    expect(cpuSetsOf('paas-engine', fakeRoot({ 'cpuset/cpuset.cpus': '0-1', 'cpuset/cpuset.effective_cpus': '0-1\n' }))).toBeUndefined();
    expect(cpuSetsOf('paas-engine', fakeRoot({ 'cpuset/cpuset.cpus': '0-1', 'cpuset/cpuset.effective_cpus': '0-1\n', 'cpuset/paas-engine/cpuset.cpus': '0-1\n' }))).toBeUndefined();
    expect(cpuSetsOf('paas-engine', fakeRoot({}))).toBeUndefined();
  });
});
