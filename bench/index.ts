/**
 * `npm run bench [-- FILTER...] [-- --json] [-- --against REF]`: builds dist/ and the bench, then
 * runs every `bench/*.bench.ts` (or those whose file name contains a FILTER) on the compiled
 * dist/ (see bench/dist.ts) and prints, per suite, the median throughput of each case and its
 * ratio to the suite's baseline case (its ceiling), all measured in the same run. `--json` adds
 * one JSON object on the last line: the figures cases report (decode_ratio, classify_rps, ...),
 * the machine and the date. `--against REF` measures each case of this tree beside the same case
 * built from the git revision REF (bench/ref-build.ts), in alternating pairs, and prints the
 * ratio this / REF: what a change did, in one run. Without `--against`, each suite runs in a
 * process of its own (`runSuiteProcess`). bench/README.md explains each figure.
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
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

import { BENCH_USAGE, suiteArgs, UsageError } from './args';
import { DIST, distBuiltAt, ROOT, useDist } from './dist';
import { buildRef } from './ref-build';
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

/**
 * Warm-up: every case for at least WARM_UP_CALLS calls and twice a round's time, so that the
 * rounds see the steady state of a long-running process (optimised code, a grown heap). A case
 * of 10,820 conns through the whole pipeline needs several calls for that: its first calls ran
 * at 0.2-0.7 x its later rate, and a single-call warm-up left them inside the median.
 */
function warmUp(cases: readonly BenchCase[], minMs: number, sink: { n: number }): void {
  for (const c of cases) {
    for (let calls = 0; calls < WARM_UP_CALLS; calls++) if (c.run() !== undefined) sink.n++;
    measure(c, minMs * 2, sink);
  }
}

function baselineOf(suite: BenchSuite): BenchCase {
  const base = suite.cases.find((c) => c.name === suite.baseline);
  if (base === undefined) throw new Error(`bench ${suite.name}: baseline case ${suite.baseline} does not exist`);
  return base;
}

const spread = (xs: readonly number[], f: (n: number) => string): string => `[${f(Math.min(...xs))} .. ${f(Math.max(...xs))}]`;

/** Runs a suite, prints its table and adds the figures its cases report to `figures`. */
export function runSuite(suite: BenchSuite, figures: Record<string, number> = {}): void {
  const rounds = suite.rounds ?? 7;
  const minMs = suite.minRoundMs ?? 250;
  const sink = { n: 0 };
  const base = baselineOf(suite);
  warmUp(suite.cases, minMs, sink);
  const samples = new Map<string, number[]>(suite.cases.map((c) => [c.name, []]));
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < suite.cases.length; i++) {
      const c = suite.cases[(i + r) % suite.cases.length];
      if (c !== undefined) samples.get(c.name)?.push(measure(c, minMs, sink));
    }
  }
  const baseSamples = samples.get(base.name) ?? [];
  console.log(`\n${suite.name}: ${suite.unit} per CPU second, median of ${rounds} rounds (>= ${minMs} ms CPU each); ratio = median over the rounds of case / ${base.name}`);
  const width = Math.max(...suite.cases.map((c) => c.name.length));
  for (const c of suite.cases) {
    const xs = samples.get(c.name) ?? [];
    const m = median(xs);
    // Per round, the case and its ceiling ran one after the other, on the machine as it was then.
    const ratios = xs.map((x, r) => x / (baseSamples[r] ?? Number.NaN));
    const ratio = median(ratios);
    console.log(`  ${c.name.padEnd(width)}  ${fmt(m).padStart(9)} ${suite.unit}/s  ${spread(xs, fmt)}  ratio ${ratio.toFixed(3)} ${spread(ratios, (x) => x.toFixed(2))}`);
    if (c.report?.rps !== undefined) figures[c.report.rps] = Math.round(m);
    if (c.report?.ratio !== undefined) figures[c.report.ratio] = Math.round(ratio * 1000) / 1000;
  }
  if (sink.n === 0) console.log('  (no case returned a value)');
}

/**
 * Runs every case of `suite` (this tree) beside the same case of `ref` (the suite loaded from
 * another build) in alternating order, round after round, and prints per case the median of the
 * rounds' ratios this / REF. The two measurements of a pair are taken one right after the other,
 * so a machine whose speed drifts between rounds (a shared VM: 2-3x) moves both alike; the
 * ratio of a pair is what one run can tell about a change, the absolute figures are not.
 * `ratios` gets each reported figure's ratio under its `rps` key.
 */
export function runAgainst(suite: BenchSuite, ref: BenchSuite, refName: string, ratios: Record<string, number> = {}): void {
  // One pair's ratio scatters by 0.5-1.5 on this kind of machine (the ceilings, the same code in
  // both trees, show it): three times the rounds of a plain run.
  const rounds = 3 * (suite.rounds ?? 7);
  const minMs = suite.minRoundMs ?? 250;
  const sink = { n: 0 };
  const pairs = suite.cases.flatMap((c) => {
    const r = ref.cases.find((x) => x.name === c.name);
    return r === undefined ? [] : [{ c, r, mine: [] as number[], theirs: [] as number[], ratio: [] as number[] }];
  });
  warmUp(pairs.flatMap((p) => [p.c, p.r]), minMs, sink);
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < pairs.length; i++) {
      const p = pairs[(i + round) % pairs.length];
      if (p === undefined) continue;
      // Which of the two goes first alternates, so neither always inherits the other's garbage.
      const refFirst = round % 2 === 1;
      const theirs0 = refFirst ? measure(p.r, minMs, sink) : 0;
      const mine = measure(p.c, minMs, sink);
      const theirs = refFirst ? theirs0 : measure(p.r, minMs, sink);
      p.mine.push(mine);
      p.theirs.push(theirs);
      p.ratio.push(mine / theirs);
    }
  }
  console.log(`\n${suite.name}: ${suite.unit} per CPU second, this tree and ${refName} in alternating pairs, ${rounds} rounds (>= ${minMs} ms CPU each); ratio = median over the rounds of this / ${refName}`);
  const width = Math.max(...suite.cases.map((c) => c.name.length));
  for (const c of suite.cases) {
    const p = pairs.find((x) => x.c === c);
    if (p === undefined) {
      console.log(`  ${c.name.padEnd(width)}  (not in ${refName})`);
      continue;
    }
    const ratio = median(p.ratio);
    console.log(`  ${c.name.padEnd(width)}  ${fmt(median(p.mine)).padStart(9)} vs ${fmt(median(p.theirs)).padStart(9)} ${suite.unit}/s  ratio ${ratio.toFixed(3)} ${spread(p.ratio, (x) => x.toFixed(2))}`);
    if (c.report?.rps !== undefined) ratios[c.report.rps] = Math.round(ratio * 1000) / 1000;
  }
  if (sink.n === 0) console.log('  (no case returned a value)');
}

/** The suite a compiled bench file exports, evaluated anew (with the bench modules it loads, inputs among them) against the dist/ `useDist` gave. */
function loadSuite(file: string): BenchSuite | undefined {
  const keep = new Set([__filename, path.join(__dirname, 'dist.js'), path.join(__dirname, 'median.js')]);
  for (const key of Object.keys(require.cache)) if (key.startsWith(`${__dirname}${path.sep}`) && !keep.has(key)) Reflect.deleteProperty(require.cache, key);
  const mod: unknown = createRequire(__filename)(path.join(__dirname, file));
  const suite = typeof mod === 'object' && mod !== null && 'default' in mod ? mod.default : undefined;
  return isSuite(suite) ? suite : undefined;
}

function machine(): string {
  const cpus = os.cpus();
  const load = os.loadavg().map((x) => x.toFixed(1)).join(' ');
  return `${cpus.length} x ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, load average ${load}`;
}

function main(): void {
  const { json, against, filters } = suiteArgs(process.argv.slice(2));
  const isBench = (f: string): boolean => f.endsWith('.bench.js') || f.endsWith('.bench.ts');
  const files = readdirSync(__dirname).filter(isBench).filter((f) => filters.length === 0 || filters.some((x) => f.includes(x))).sort();
  if (files.length === 0) {
    console.error(`no bench/*.bench.ts matches ${filters.join(' ')}`);
    process.exitCode = 1;
    return;
  }
  const ref = against === undefined ? undefined : buildRef(ROOT, against);
  const refName = ref === undefined ? '' : `${against ?? ''} (${ref.sha.slice(0, 7)})`;
  const started = new Date();
  // Set in a suite's own process (runSuiteProcess): where its figures go.
  const figuresFile = process.env[SUITE_CHILD];
  const apart = figuresFile === undefined && ref === undefined && files.length > 1;
  if (figuresFile === undefined) {
    console.log(`${started.toISOString()}  node ${process.version}, ${process.platform}/${process.arch}, ${machine()}`);
    console.log(`measuring dist/ built ${distBuiltAt().toISOString()}${ref === undefined ? '' : ` against ${refName}`}, one core (one thread), per CPU second of the process, medians${apart ? ', each suite in a process of its own' : ''}`);
  }
  const figures: Record<string, number> = {};
  if (apart) {
    for (const f of files) Object.assign(figures, runSuiteProcess(f));
    printFigures(json, figures, started);
    return;
  }
  for (const f of files) {
    useDist(DIST);
    const suite = loadSuite(f);
    if (suite === undefined) {
      console.error(`${f}: default export is not a defineBench(...) suite`);
      process.exitCode = 1;
      continue;
    }
    if (ref === undefined) {
      runSuite(suite, figures);
      continue;
    }
    useDist(path.join(ref.root, 'dist'));
    const theirs = loadSuite(f);
    useDist(DIST);
    if (theirs === undefined) console.log(`\n${suite.name}: not in ${refName}`);
    else runAgainst(suite, theirs, refName, figures);
  }
  if (figuresFile !== undefined) writeFileSync(figuresFile, JSON.stringify(figures));
  else if (ref === undefined) printFigures(json, figures, started);
  else if (json) console.log(JSON.stringify({ against: ref.sha, ratios_to_ref: figures, date: started.toISOString(), node: process.version, machine: machine() }));
}

function printFigures(json: boolean, figures: Record<string, number>, started: Date): void {
  if (json) console.log(JSON.stringify({ ...figures, date: started.toISOString(), node: process.version, machine: machine() }));
}

/**
 * Set in a suite's own process: the file its figures go to. Each suite of a plain run gets a
 * fresh process (the same node flags), so that no suite measures in a heap and with compiled
 * code that the suites before it left: third in one process, the decode suite's ratio had a
 * median of 0.375 against 0.505 alone (bench/README.md, "Suites in processes of their own").
 */
const SUITE_CHILD = 'ZEEK_RST_BENCH_FIGURES_FILE';

function runSuiteProcess(file: string): Record<string, number> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'zeek-rst-bench-'));
  const figuresFile = path.join(dir, 'figures.json');
  try {
    const r = spawnSync(process.execPath, [...process.execArgv, __filename, file], { stdio: 'inherit', env: { ...process.env, [SUITE_CHILD]: figuresFile } });
    if (r.status !== 0) throw new Error(`bench suite ${file}: its process ended with ${r.status === null ? `signal ${r.signal ?? 'unknown'}` : `exit ${r.status}`}`);
    const figures: unknown = JSON.parse(readFileSync(figuresFile, 'utf8'));
    if (typeof figures !== 'object' || figures === null) throw new Error(`bench suite ${file}: no figures`);
    return figures as Record<string, number>;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Commands that are not in-process suites: `npm run bench -- bulk ...` (bench/bulk.ts), `npm run bench -- e2e ...` (bench/e2e.ts), `npm run bench -- restore ...` (bench/restore.ts), `npm run bench -- state ...` (bench/state.ts). */
const COMMANDS: Readonly<Record<string, () => Promise<{ main: (args: readonly string[]) => Promise<void> }>>> = {
  bulk: () => import('./bulk'),
  e2e: () => import('./e2e'),
  restore: () => import('./restore'),
  state: () => import('./state'),
};

if (require.main === module) {
  const [first, ...rest] = process.argv.slice(2);
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    console.log(BENCH_USAGE);
    process.exit(0);
  }
  const command = first === undefined ? undefined : COMMANDS[first];
  const run = command === undefined ? (): Promise<void> => Promise.resolve().then(main) : async (): Promise<void> => (await command()).main(rest);
  run().catch((err: unknown) => {
    if (err instanceof UsageError) {
      console.error(`${err.message} (npm run bench -- --help)`);
      process.exitCode = 2;
      return;
    }
    console.error(err instanceof Error ? err.stack ?? err.message : String(err));
    process.exitCode = 1;
  });
}
