// Loaded by the `integration` jest project (setupFilesAfterEnv): a per-project `testTimeout`
// in jest.config.js is not applied by jest 30, and a consumer group join alone can take seconds.
jest.setTimeout(120_000);
