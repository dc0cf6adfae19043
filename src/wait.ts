/**
 * Waits on a condition up to a deadline, polling it; never a bare sleep. The condition may
 * return a boolean, or a value (anything but undefined/false) that is handed back. A check that
 * throws counts as "not yet"; the timeout names what was awaited and carries the last error.
 * Used by `run` (internal topics), the stack scripts and the tests.
 */
export interface WaitOptions {
  /** Give up after this long (ms). */
  readonly timeoutMs: number;
  /** Pause between two checks (ms), default 100. */
  readonly intervalMs?: number;
  /**
   * What is awaited, for the timeout message ("topic t1 to hold 3 messages"); a function is called
   * at the timeout, so it can describe the state then (a child's log at that moment).
   */
  readonly what: string | (() => string);
}

export class WaitTimeoutError extends Error {
  override readonly name = 'WaitTimeoutError';
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function waitFor<T>(
  check: () => T | false | undefined | Promise<T | false | undefined>,
  options: WaitOptions,
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  const intervalMs = options.intervalMs ?? 100;
  let lastError: unknown;
  let attempts = 0;
  for (;;) {
    attempts += 1;
    try {
      const value = await check();
      if (value !== false && value !== undefined) return value;
      lastError = undefined;
    } catch (err: unknown) {
      lastError = err; // a check that throws counts as "not yet"; the last error goes in the message
    }
    const left = deadline - Date.now();
    if (left <= 0) {
      const why = lastError instanceof Error ? `; last error: ${lastError.message}` : '';
      const what = typeof options.what === 'function' ? options.what() : options.what;
      throw new WaitTimeoutError(`timed out after ${options.timeoutMs} ms (${attempts} checks) waiting for ${what}${why}`, { cause: lastError });
    }
    await pause(Math.min(intervalMs, left));
  }
}
