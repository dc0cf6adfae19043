/**
 * Deadline-based waiting for tests: poll a condition until it holds or the deadline passes,
 * never a bare sleep. `waitFor(() => seen.length >= 3 && seen, { timeoutMs: 30_000, what: '3 messages' })`
 * returns the condition's value; on timeout it throws naming what was awaited and the last error.
 */
export { waitFor, WaitTimeoutError, type WaitOptions } from '../../src/wait';
