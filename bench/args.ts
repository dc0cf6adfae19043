/** Command-line reading shared by the bench commands (bench/bulk.ts, e2e.ts, state.ts). */

/** The value after `name` in `args` (`--conns 1000` -> '1000'), or undefined when `name` is absent. */
export function option(args: readonly string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i === -1 ? undefined : args[i + 1];
}

/** What the in-process suites are run with: `npm run bench -- [FILTER...] [--json] [--against REF]`. */
export interface SuiteArgs {
  readonly json: boolean;
  /** The revision after `--against`; '' when `--against` has no value (or is followed by an option). */
  readonly against: string | undefined;
  /** Every other argument: a suite runs when its file name contains one of them (all suites without any). */
  readonly filters: readonly string[];
}

export function suiteArgs(args: readonly string[]): SuiteArgs {
  const at = args.indexOf('--against');
  const value = at === -1 ? undefined : args[at + 1];
  const against = at === -1 ? undefined : value === undefined || value.startsWith('--') ? '' : value;
  // The revision is taken only when it is one: `--against --json` leaves `--json` an option.
  const taken = new Set(at === -1 ? [] : against === '' ? [at] : [at, at + 1]);
  return { json: args.includes('--json'), against, filters: args.filter((a, i) => a !== '--json' && !taken.has(i)) };
}
