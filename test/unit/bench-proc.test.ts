/**
 * The bench's process CPU (bench/proc.ts), on a real process tree: a parent that only waits,
 * whose child burns a known amount of CPU and then stays alive.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { cpuSeconds, parentPids, treeCpuSeconds } from '../../bench/proc';

// The child spins until it has used 0.5 s of CPU, says so, and waits to be killed.
const CHILD = "const t=process.cpuUsage();while(((u)=>u.user+u.system)(process.cpuUsage(t))<5e5);process.stdout.write('done\\n');setInterval(()=>{},1e6);";
const PARENT = `const c=require('node:child_process').spawn(process.execPath,['-e',${JSON.stringify(CHILD)}],{stdio:['ignore','inherit','ignore']});process.on('SIGTERM',()=>{c.kill();process.exit(0);});setInterval(()=>{},1e6);`;

describe('bench process CPU', () => {
  let parent: ChildProcess | undefined;
  afterEach(() => {
    parent?.kill('SIGTERM');
  });

  it("counts a child's CPU in its parent's tree, not in the parent's own", async () => {
    parent = spawn(process.execPath, ['-e', PARENT], { stdio: ['ignore', 'pipe', 'ignore'] });
    const pid = parent.pid;
    if (pid === undefined) throw new Error('no parent pid');
    const out = parent.stdout;
    if (out === null) throw new Error('no stdout');
    let text = '';
    while (!text.includes('done')) {
      const [chunk] = (await once(out, 'data')) as [Buffer];
      text += chunk.toString('utf8');
    }
    const parents = parentPids();
    const children = [...parents].filter(([, ppid]) => ppid === pid).map(([child]) => child);
    expect(children).toHaveLength(1);
    // /proc counts in ticks of 10 ms: 0.5 s of the child's CPU shows as at least 0.45 s.
    expect(treeCpuSeconds(pid, parents)).toBeGreaterThanOrEqual(cpuSeconds(pid) + 0.45);
    expect(cpuSeconds(children[0] ?? 0)).toBeGreaterThanOrEqual(0.45);
    // A pid that is no process: nothing.
    expect(treeCpuSeconds(2 ** 30, parents)).toBe(0);
  }, 30_000);
});
