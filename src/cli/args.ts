/**
 * Command-line parsing shared by every command: node:util's parseArgs with its errors turned into
 * usage errors (exit status 2), and the value checks several commands need.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { HEADER_FRAMINGS, type HeaderFraming } from '../config/schema';
import { ZeekRstError } from '../errors';

export function parseCommandArgs<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (err: unknown) {
    throw new ZeekRstError('ZRST_USAGE', `${err instanceof Error ? err.message : String(err)} (see --help)`);
  }
}

/** `text` as an integer >= 1, or `fallback` when the option was not given. */
export function positiveInt(text: string | undefined, name: string, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new ZeekRstError('ZRST_USAGE', `${name} must be a positive integer, got '${text}'`);
  return n;
}

export function isFraming(x: string): x is HeaderFraming {
  return (HEADER_FRAMINGS as readonly string[]).includes(x);
}
