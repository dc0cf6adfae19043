// Loaded by the `integration` jest project (setupFilesAfterEnv): a per-project `testTimeout`
// in jest.config.js is not applied by jest 30, and a consumer group join alone can take seconds.
jest.setTimeout(120_000);

/**
 * An outage test as a whole: it restarts or thaws a real node, which takes tens of seconds, more
 * while `npm test` runs the other projects beside it (scripts/test.ts). That time is the stack's;
 * each wait inside the test keeps its own deadline for what the pipeline must do.
 */
export const OUTAGE_TEST_TIMEOUT_MS = 300_000;
