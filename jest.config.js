// Unit tests sit next to the code and need nothing running; integration tests talk to the real
// Kafka broker and Elasticsearch node that `npm run stack` starts (global setup). Outage tests
// stop and restart those real services, so they must not run beside anything else: their project
// exists only when ZEEK_RST_TEST_OUTAGE=1, and `npm test` runs it alone, after the others.
const transform = { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }] };

const stackProject = {
  testEnvironment: 'node',
  transform,
  globalSetup: '<rootDir>/test/helpers/global-setup.ts',
  globalTeardown: '<rootDir>/test/helpers/global-teardown.ts',
  setupFilesAfterEnv: ['<rootDir>/test/helpers/integration-timeout.ts'],
};

/** @type {import('jest').Config} */
module.exports = {
  testSequencer: '<rootDir>/test/helpers/sequencer.mjs',
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      transform,
      testMatch: ['<rootDir>/src/**/*.test.ts', '<rootDir>/test/unit/**/*.test.ts', '<rootDir>/test/corpus/**/*.test.ts'],
    },
    { ...stackProject, displayName: 'integration', testMatch: ['<rootDir>/test/integration/**/*.test.ts'] },
    // Against the secure stack (TLS, SASL/SCRAM, ACLs, x-pack security): the same global setup
    // starts it beside the plain one, in parallel (README, "Production").
    { ...stackProject, displayName: 'secure', testMatch: ['<rootDir>/test/secure/**/*.test.ts'] },
    ...(process.env.ZEEK_RST_TEST_OUTAGE === '1'
      ? [{ ...stackProject, displayName: 'outage', testMatch: ['<rootDir>/test/outage/**/*.test.ts'] }]
      : []),
  ],
};
