/**
 * CPU time of processes, from Linux's /proc (bench/e2e.ts): a process's own, and a whole process
 * tree's (the Elasticsearch launcher runs the node as its child, so the launcher's pid alone shows
 * almost none of the node's work). 0 where /proc cannot be read.
 */
import { readdirSync, readFileSync } from 'node:fs';

/**
 * The fields of /proc/<pid>/stat after the command name (which may hold spaces and parentheses):
 * [0] the state, [1] the parent pid, [11] and [12] user and system time. Undefined once the
 * process is gone.
 */
function statFields(pid: number | string): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** CPU seconds (user + system) the process has used, from /proc (clock ticks of 1/100 s). */
export function cpuSeconds(pid: number): number {
  const fields = statFields(pid);
  return fields === undefined ? 0 : (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Parent pid of every process, from /proc/<pid>/stat (the field after the state). */
export function parentPids(): Map<number, number> {
  const out = new Map<number, number>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    const fields = statFields(e); // undefined: gone meanwhile
    if (fields !== undefined) out.set(Number(e), Number(fields[1]));
  }
  return out;
}

/**
 * CPU seconds of `root` and every living descendant (`parents`: parentPids(), read once for a
 * consistent picture). A descendant that has exited no longer counts: the figure is for
 * long-lived trees such as a server and its workers.
 */
export function treeCpuSeconds(root: number, parents: ReadonlyMap<number, number> = parentPids()): number {
  let total = 0;
  for (const pid of parents.keys()) {
    let p: number | undefined = pid;
    for (let depth = 0; p !== undefined && p > 1 && depth < 64; depth++) {
      if (p === root) {
        total += cpuSeconds(pid);
        break;
      }
      p = parents.get(p);
    }
  }
  return total;
}
