/**
 * Jest global setup of the `integration` and `secure` projects (one module, so jest runs it
 * once): brings up the stacks the run needs, in parallel (the plain one, and the secure one of
 * scripts/stack/secure.ts), or reuses running ones, and hands their endpoints to the test
 * workers through environment variables. Whether teardown stops them again: global-teardown.ts.
 */
import { stackLog, type StackProfile } from '../../scripts/stack/config';
import { ensureStackUp } from '../../scripts/stack/stack';
import { SECURE_TEST_ENV, TEST_ES_URL_ENV, TEST_KAFKA_BROKERS_ENV } from './stack-env';

/** Set when this jest process started services itself; read by global-teardown.ts. */
export const STARTED_BY_SETUP_ENV = 'ZEEK_RST_TEST_STACK_STARTED';
export const SECURE_STARTED_BY_SETUP_ENV = 'ZEEK_RST_TEST_SECURE_STACK_STARTED';

/** The projects named by `--selectProjects` on jest's command line; undefined = all of them. */
export function selectedProjects(argv: readonly string[]): readonly string[] | undefined {
  const selected: string[] = [];
  let found = false;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] ?? '';
    if (arg.startsWith('--selectProjects=')) {
      found = true;
      selected.push(...arg.slice('--selectProjects='.length).split(','));
    } else if (arg === '--selectProjects') {
      found = true;
      for (let j = i + 1; j < argv.length && !(argv[j] ?? '-').startsWith('-'); j += 1) selected.push(argv[j] ?? '');
    }
  }
  return found ? selected : undefined;
}

export default async function globalSetup(): Promise<void> {
  const selected = selectedProjects(process.argv);
  const wantsPlain = selected === undefined || selected.some((p) => p === 'integration' || p === 'outage');
  const wantsSecure = selected === undefined || selected.includes('secure');
  const started = Date.now();
  const timed = async <T>(profile: StackProfile, up: Promise<T>): Promise<T> => {
    const result = await up;
    stackLog(profile)(`ready after ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return result;
  };
  const [plain, secure] = await Promise.all([
    wantsPlain ? timed('plain', ensureStackUp({ log: stackLog('plain') })) : undefined,
    wantsSecure ? timed('secure', ensureStackUp({ profile: 'secure', log: stackLog('secure') })) : undefined,
  ]);
  if (plain !== undefined) {
    process.env[TEST_KAFKA_BROKERS_ENV] = plain.endpoints.kafkaBrokers.join(',');
    process.env[TEST_ES_URL_ENV] = plain.endpoints.esUrl;
    process.env[STARTED_BY_SETUP_ENV] = plain.started.join(',');
  }
  if (secure?.secure !== undefined) {
    process.env[SECURE_TEST_ENV.kafkaBrokers] = secure.endpoints.kafkaBrokers.join(',');
    process.env[SECURE_TEST_ENV.esUrl] = secure.endpoints.esUrl;
    process.env[SECURE_TEST_ENV.credentialsFile] = secure.secure.credentialsFile;
    process.env[SECURE_TEST_ENV.caFile] = secure.secure.caFile;
    process.env[SECURE_TEST_ENV.untrustedCaFile] = secure.secure.untrustedCaFile;
    process.env[SECURE_STARTED_BY_SETUP_ENV] = secure.started.join(',');
  }
}
