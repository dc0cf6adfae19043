/**
 * The V8 options `bin/zeek-rst` starts node with, from its shebang line (`env -S`), and the check
 * `run` makes that they are in effect.
 *
 * `--max-semi-space-size=64` gives V8 a young generation of 64 MB semi-spaces instead of 16 MB.
 * Every record allocates short-lived objects (parsed JSON, Avro records, documents, bulk JSON),
 * and the state keeps some of them for the late window; with a larger young generation fewer
 * scavenges run, and fewer of the short-lived objects are still alive when one does. `npm run
 * bench`, both young generations alternated 4 times: classify_rps 39.6k -> 48.1k conn records/s,
 * header_rps 386k -> 458k header records/s (bench/README.md). It costs up to about 100 MB of
 * RSS, which the e2e bench's RSS figures include.
 */

/** The option and the value bin/zeek-rst passes (bin/zeek-rst's shebang; node-flags.test.ts keeps the two equal). */
export const SEMI_SPACE_OPTION = '--max-semi-space-size';
export const SEMI_SPACE_MB = 64;
/** The option as node's command line carries it. */
export const SEMI_SPACE_ARG = `${SEMI_SPACE_OPTION}=${SEMI_SPACE_MB}`;

/** Whether node was started with a semi-space size: on its command line or in NODE_OPTIONS. */
export function semiSpaceGiven(execArgv: readonly string[] = process.execArgv, nodeOptions: string | undefined = process.env.NODE_OPTIONS): boolean {
  // V8 reads `_` and `-` alike in option names.
  const given = (arg: string): boolean => (arg.split('=')[0] ?? '').replace(/_/g, '-') === SEMI_SPACE_OPTION;
  return execArgv.some(given) || (nodeOptions ?? '').split(/\s+/).some(given);
}
