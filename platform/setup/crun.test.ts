import { describe, expect, it } from 'vitest';
import { isAtLeast, parseCrunVersion, v2ControllersInHybrid } from './crun.ts';
import { useFakeCgroupRoots } from './fake-cgroup-root.ts';

describe('crun version', () => {
  it('reads the version from `crun --version`', () => {
    expect(parseCrunVersion('crun version 1.21\ncommit: 10269840\nrundir: /run/crun\nspec: 1.0.0\n')).toEqual([1, 21]);
    expect(parseCrunVersion('crun version 1.8.1\ncommit: 1.8.1-1+deb12u1\n')).toEqual([1, 8, 1]);
    expect(parseCrunVersion('runc version 1.1.5\n')).toBeUndefined();
  });

  it('takes 1.14.3 and later (earlier ones refuse the OCI version Engine 26 writes)', () => {
    const min = [1, 14, 3];
    expect(isAtLeast([1, 21], min)).toBe(true);
    expect(isAtLeast([1, 14, 3], min)).toBe(true);
    expect(isAtLeast([2], min)).toBe(true);
    expect(isAtLeast([1, 14], min)).toBe(false);
    expect(isAtLeast([1, 8, 1], min)).toBe(false);
    expect(isAtLeast([0, 99], min)).toBe(false);
  });
});

describe('v2ControllersInHybrid', () => {
  const fakeRoot = useFakeCgroupRoots();

  it('lists the controllers a hybrid layout left on its cgroup v2 hierarchy', () => {
    expect(v2ControllersInHybrid(fakeRoot({ 'cpu/cpu.shares': '1024', 'unified/cgroup.controllers': 'hugetlb\n' }))).toEqual(['hugetlb']);
    expect(v2ControllersInHybrid(fakeRoot({ 'unified/cgroup.controllers': 'hugetlb misc\n' }))).toEqual(['hugetlb', 'misc']);
  });

  it('lists none for a hybrid layout with an empty v2 hierarchy, or a pure v1 or v2 one', () => {
    expect(v2ControllersInHybrid(fakeRoot({ 'unified/cgroup.controllers': '\n' }))).toEqual([]);
    expect(v2ControllersInHybrid(fakeRoot({ 'cpu/cpu.shares': '1024' }))).toEqual([]);
    expect(v2ControllersInHybrid(fakeRoot({ 'cgroup.controllers': 'cpu memory pids\n' }))).toEqual([]);
  });
});
