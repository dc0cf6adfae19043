/**
 * The local stack's endpoints as the integration tests see them: jest's global setup
 * (test/helpers/global-setup.ts) brings the stack up and exports these variables to the workers.
 */
export const TEST_KAFKA_BROKERS_ENV = 'ZEEK_RST_TEST_KAFKA_BROKERS';
export const TEST_ES_URL_ENV = 'ZEEK_RST_TEST_ES_URL';
/** The secure stack (scripts/stack/secure.ts), for the `secure` project: see secure-stack.ts. */
export const SECURE_TEST_ENV = Object.freeze({
  kafkaBrokers: 'ZEEK_RST_TEST_SECURE_KAFKA_BROKERS',
  esUrl: 'ZEEK_RST_TEST_SECURE_ES_URL',
  credentialsFile: 'ZEEK_RST_TEST_SECURE_CREDENTIALS',
  caFile: 'ZEEK_RST_TEST_SECURE_CA_FILE',
  untrustedCaFile: 'ZEEK_RST_TEST_SECURE_UNTRUSTED_CA_FILE',
});

export interface TestStack {
  /** host:port list for kafkajs, e.g. ['127.0.0.1:19092']. */
  readonly kafkaBrokers: string[];
  /** Elasticsearch node URL, e.g. 'http://127.0.0.1:19200'. */
  readonly esUrl: string;
}

export function testStack(env: NodeJS.ProcessEnv = process.env): TestStack {
  const brokers = env[TEST_KAFKA_BROKERS_ENV];
  const esUrl = env[TEST_ES_URL_ENV];
  if (brokers === undefined || brokers === '' || esUrl === undefined || esUrl === '') {
    throw new Error(
      `${TEST_KAFKA_BROKERS_ENV} / ${TEST_ES_URL_ENV} are not set: integration tests run through jest's ` +
        `'integration' project, whose global setup starts the stack (npx jest --selectProjects integration)`,
    );
  }
  return { kafkaBrokers: brokers.split(',').map((b) => b.trim()).filter((b) => b !== ''), esUrl };
}
