/**
 * Jest global setup of the `integration` project: brings the local stack up (or reuses a running
 * one) and hands its endpoints to the test workers through environment variables.
 * Whether teardown stops it again: see global-teardown.ts.
 */
import { ensureStackUp } from '../../scripts/stack/stack';
import { TEST_ES_URL_ENV, TEST_KAFKA_BROKERS_ENV } from './stack-env';

/** Set when this jest process started services itself; read by global-teardown.ts. */
export const STARTED_BY_SETUP_ENV = 'ZEEK_RST_TEST_STACK_STARTED';

export default async function globalSetup(): Promise<void> {
  const { endpoints, started } = await ensureStackUp({
    log: (line) => {
      process.stderr.write(`[stack] ${line}\n`);
    },
  });
  process.env[TEST_KAFKA_BROKERS_ENV] = endpoints.kafkaBrokers.join(',');
  process.env[TEST_ES_URL_ENV] = endpoints.esUrl;
  process.env[STARTED_BY_SETUP_ENV] = started.join(',');
}
