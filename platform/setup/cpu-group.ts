import fs from 'node:fs';
import path from 'node:path';

/** cgroup v1's `cpu.shares` (1024 = one container's default) as cgroup v2's `cpu.weight` (100 = the default), the way runc converts them. */
export const sharesToWeight = (shares: number) => Math.max(1, Math.min(10_000, 1 + Math.floor(((shares - 2) * 9999) / 262142)));

/**
 * Moves a process (and every process it starts later) into a CPU control group of its own,
 * `name` directly under the hierarchy's root, with `shares` of CPU weight (cgroup v1's scale; a
 * container's default is 1024), on cgroup v1's `cpu` controller or cgroup v2's unified hierarchy.
 * Returns where it went, or why it could not (no writable CPU controller: the process keeps the
 * group it has).
 */
export function moveToCpuGroup(pid: number, name: string, shares: number, root = '/sys/fs/cgroup'): { group: string } | { skipped: string } {
  try {
    const v1 = path.join(root, 'cpu');
    if (fs.existsSync(path.join(v1, 'cpu.shares'))) return place(path.join(v1, name), 'cpu.shares', String(shares), pid);
    const controllers = fs.readFileSync(path.join(root, 'cgroup.subtree_control'), 'utf8');
    if (!controllers.split(/\s+/).includes('cpu')) fs.writeFileSync(path.join(root, 'cgroup.subtree_control'), '+cpu');
    return place(path.join(root, name), 'cpu.weight', String(sharesToWeight(shares)), pid);
  } catch (err) {
    return { skipped: (err as Error).message };
  }
}

function place(group: string, file: string, value: string, pid: number): { group: string } {
  fs.mkdirSync(group, { recursive: true });
  fs.writeFileSync(path.join(group, file), value);
  fs.writeFileSync(path.join(group, 'cgroup.procs'), String(pid));
  return { group };
}
