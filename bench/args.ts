/** Command-line reading shared by the bench commands (bench/bulk.ts, e2e.ts, state.ts). */

/** The value after `name` in `args` (`--conns 1000` -> '1000'), or undefined when `name` is absent. */
export function option(args: readonly string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i === -1 ? undefined : args[i + 1];
}
