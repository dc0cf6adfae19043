/**
 * `npm run bench [-- FILTER...] [-- --json]`: builds dist/ and the bench, then runs every
 * `bench/*.bench.ts` (or those whose file name contains a FILTER) on the compiled dist/ (see
 * bench/dist.ts) and prints, per suite, the median throughput of each case and its ratio to the
 * suite's baseline case (its ceiling), all measured in the same run. `--json` adds one JSON
 * object on the last line: the figures cases report (decode_ratio, classify_rps, ...), the
 * machine and the date. bench/README.md explains each figure.
 *
 * Convention for a bench file (e.g. bench/classify.bench.ts):
 *
 *     import { defineBench } from './index';
 *     export default defineBench({
 *       name: 'classify',
 *       unit: 'records',            // what `items` counts
 *       baseline: 'JSON.parse',     // the case the others are compared with
 *       cases: [
 *         { name: 'JSON.parse', items: N, run: () => ... },   // one call processes N items
 *         { name: 'classify', items: N, run: () => ..., report: { rps: 'classify_rps', ratio: 'classify_ratio' } },
 *       ],
 *     });
 *
 * Build inputs at module load (outside `run`); return something from `run` so the work cannot
 * be optimised away. Each round runs every case (in rotating order) for at least `minRoundMs` of CPU time;
 * the median over `rounds` rounds is reported, with the slowest and fastest round.
 */
import { readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { distBuiltAt } from './dist';
import { median } from './median';

export interface BenchCase {
  readonly name: string;
  /** Items processed by one call of `run` (records, messages, ...). */
  readonly items: number;
  readonly run: () => unknown;
  /** Keys under which `--json` reports this case's median items/s and its ratio to the baseline. */
  readonly report?: { readonly rps?: string; readonly ratio?: string };
}

export interface BenchSuite {
  readonly name: string;
  /** What an item is, for the printout ("records"). */
  readonly unit: string;
  /** Name of the case the ratios are relative to. */
  readonly baseline: string;
  readonly cases: readonly BenchCase[];
  /** Rounds to take the median over. Default 7. */
  readonly rounds?: number;
  /** Minimum time per case per round, ms. Default 250. */
  readonly minRoundMs?: number;
}

/** Identity, for type checking a bench file's default export. */
export function defineBench(suite: BenchSuite): BenchSuite {
  return suite;
}

function isSuite(x: unknown): x is BenchSuite {
  return typeof x === 'object' && x !== null && 'name' in x && 'cases' in x && Array.isArray(x.cases) && 'baseline' in x;
}

/** CPU time of this process (user + system), µs. */
function cpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/**
 * Runs `c` for at least `minMs` of CPU time; returns items per CPU second. CPU time, not wall
 * time: on a machine shared with other work the wall clock also counts the time the thread
 * waited for a core, which varied 2-3x between rounds; the CPU time the work took does not.
 * (It includes V8's helper threads, garbage collection among them, as a core would run them.)
 */
function measure(c: BenchCase, minMs: number, sink: { n: number }): number {
  let calls = 0;
  const start = cpuUs();
  let elapsedUs = 0;
  const minUs = minMs * 1000;
  while (elapsedUs < minUs) {
    const out = c.run();
    if (out !== undefined) sink.n++;
    calls++;
    elapsedUs = cpuUs() - start;
  }
  return (calls * c.items) / (elapsedUs / 1e6);
}

const fmt = (n: number): string => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} k` : n.toFixed(0));

const WARM_UP_CALLS = 5;

/** Runs a suite, prints its table and adds the figures its cases report to `figures`. */
export function runSuite(suite: BenchSuite, figures: Record<string, number> = {}): void {
  const rounds = suite.rounds ?? 7;
  const minMs = suite.minRoundMs ?? 250;
  const sink = { n: 0 };
  const base = suite.cases.find((c) => c.name === suite.baseline);
  if (base === undefined) throw new Error(`bench ${suite.name}: baseline case ${suite.baseline} does not exist`);
  // Warm-up: every case for at least WARM_UP_CALLS calls and twice a round's time, so that the
  // rounds see the steady state of a long-running process (optimised code, a grown heap). A case
  // of 10,820 conns through the whole pipeline needs several calls for that: its first calls ran
  // at 0.2-0.7 x its later rate, and a single-call warm-up left them inside the median.
  for (const c of suite.cases) {
    for (let calls = 0; calls < WARM_UP_CALLS; calls++) if (c.run() !== undefined) sink.n++;
    measure(c, minMs * 2, sink);
  }
  const samples = new Map<string, number[]>(suite.cases.map((c) => [c.name, []]));
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < suite.cases.length; i++) {
      const c = suite.cases[(i + r) % suite.cases.length];
      if (c !== undefined) samples.get(c.name)?.push(measure(c, minMs, sink));
    }
  }
  const baseMedian = median(samples.get(base.name) ?? []);
  console.log(`\n${suite.name}: ${suite.unit} per CPU second, median of ${rounds} rounds (>= ${minMs} ms CPU each); ratio = case / ${base.name}`);
  const width = Math.max(...suite.cases.map((c) => c.name.length));
  for (const c of suite.cases) {
    const xs = samples.get(c.name) ?? [];
    const m = median(xs);
    const lo = Math.min(...xs);
    const hi = Math.max(...xs);
    const ratio = m / baseMedian;
    console.log(`  ${c.name.padEnd(width)}  ${fmt(m).padStart(9)} ${suite.unit}/s  [${fmt(lo)} .. ${fmt(hi)}]  ratio ${ratio.toFixed(3)}`);
    if (c.report?.rps !== undefined) figures[c.report.rps] = Math.round(m);
    if (c.report?.ratio !== undefined) figures[c.report.ratio] = Math.round(ratio * 1000) / 1000;
  }
  if (sink.n === 0) console.log('  (no case returned a value)');
}

function machine(): string {
  const cpus = os.cpus();
  const load = os.loadavg().map((x) => x.toFixed(1)).join(' ');
  return `${cpus.length} x ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, load average ${load}`;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const json = args.includes('--json');
  const filters = args.filter((a) => a !== '--json');
  const isBench = (f: string): boolean => f.endsWith('.bench.js') || f.endsWith('.bench.ts');
  const files = readdirSync(__dirname).filter(isBench).filter((f) => filters.length === 0 || filters.some((x) => f.includes(x))).sort();
  if (files.length === 0) {
    console.error(`no bench/*.bench.ts matches ${filters.join(' ')}`);
    process.exitCode = 1;
    return;
  }
  const started = new Date();
  console.log(`${started.toISOString()}  node ${process.version}, ${process.platform}/${process.arch}, ${machine()}`);
  console.log(`measuring dist/ built ${distBuiltAt().toISOString()}, one core (one thread), per CPU second of the process, medians`);
  const figures: Record<string, number> = {};
  for (const f of files) {
    const mod: unknown = await import(path.join(__dirname, f));
    const suite = typeof mod === 'object' && mod !== null && 'default' in mod ? mod.default : undefined;
    if (!isSuite(suite)) {
      console.error(`${f}: default export is not a defineBench(...) suite`);
      process.exitCode = 1;
      continue;
    }
    runSuite(suite, figures);
  }
  if (json) {
    console.log(JSON.stringify({ ...figures, date: started.toISOString(), node: process.version, machine: machine() }));
  }
}

/** Commands that are not in-process suites: `npm run bench -- bulk ...` (bench/bulk.ts), `npm run bench -- e2e ...` (bench/e2e.ts). */
const COMMANDS: Readonly<Record<string, () => Promise<{ main: (args: readonly string[]) => Promise<void> }>>> = {
  bulk: () => import('./bulk'),
  e2e: () => import('./e2e'),
};

if (require.main === module) {
  const [first, ...rest] = process.argv.slice(2);
  const command = first === undefined ? undefined : COMMANDS[first];
  if (command !== undefined) {
    void command().then((m) => m.main(rest)).catch((err: unknown) => {
      console.error(err instanceof Error ? err.stack ?? err.message : String(err));
      process.exitCode = 1;
    });
  } else void main();
}
