/** Command-line reading shared by the bench commands (bench/bulk.ts, e2e.ts, restore.ts, state.ts). */

/** A command line the bench cannot run: printed without a stack, exit code 2. */
export class UsageError extends Error {}

/** The value after `name` in `args` (`--conns 1000` -> '1000'), or undefined when `name` is absent. */
export function option(args: readonly string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i === -1 ? undefined : args[i + 1];
}

/** What the in-process suites are run with: `npm run bench -- [FILTER...] [--json] [--against REF]`. */
export interface SuiteArgs {
  readonly json: boolean;
  /** The revision after `--against`. */
  readonly against: string | undefined;
  /** Every other argument: a suite runs when its file name contains one of them (all suites without any). */
  readonly filters: readonly string[];
}

/** Reads the arguments; throws a UsageError when `--against` is not followed by a revision. */
export function suiteArgs(args: readonly string[]): SuiteArgs {
  const at = args.indexOf('--against');
  const against = at === -1 ? undefined : args[at + 1];
  if (at !== -1 && (against === undefined || against.startsWith('--'))) throw new UsageError('--against needs a git revision (e.g. --against HEAD~1)');
  const taken = new Set(at === -1 ? [] : [at, at + 1]);
  return { json: args.includes('--json'), against, filters: args.filter((a, i) => a !== '--json' && !taken.has(i)) };
}

/** The positive integer after `name`, `fallback` when absent; throws a message naming the option otherwise. */
export function positiveInt(args: readonly string[], name: string, fallback: number): number {
  const text = option(args, name);
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`${name} must be a positive integer, got ${JSON.stringify(text)}`);
  return n;
}

/** The comma-separated positive integers after `name` (`--concurrency 1,2,4`), `fallback` when absent. */
export function positiveInts(args: readonly string[], name: string, fallback: readonly number[]): number[] {
  const text = option(args, name);
  if (text === undefined) return [...fallback];
  const ns = text.split(',').map(Number);
  if (text === '' || ns.some((n) => !Number.isSafeInteger(n) || n < 1)) throw new UsageError(`${name} must be a list of positive integers such as 1,2,4, got ${JSON.stringify(text)}`);
  return ns;
}

export const BENCH_USAGE = `npm run bench -- [COMMAND] [OPTIONS]

In-process suites (bench/*.bench.ts, on the compiled dist/):
  npm run bench                           every suite, each case beside its ceiling
  npm run bench -- decode headers         the suites whose file name contains a word
  npm run bench -- --json                 also the figures as one JSON object on the last line
  npm run bench -- headers --against REF  this tree beside the git revision REF, in alternating pairs

Commands:
  e2e    workload through Kafka, run and Elasticsearch (starts the local stack if it is down)
         --conns N (200000) --ceiling-docs N (min(conns, 200000)) --concurrency 1,2,4,8
         --instances 1[,2,...] --cpu-prof DIR --run-log FILE --keep --json
  bulk   raw Elasticsearch bulk ceiling of ECS documents, into ZEEK_RST_ES_NODE
         (default the local stack's node: npm run stack -- up)
         --docs N (100000) --concurrency 1,2,4,8 --json
  state  changelog bytes and heap per conn, in process
         --conns N (400000) --against REF --json
  restore
         a restart's restore of the changelog against the local Kafka (starts it if it is down)
         --conns N (100000, all pending) --rounds N (3) --tick --keep --json

bench/README.md explains every figure.`;
