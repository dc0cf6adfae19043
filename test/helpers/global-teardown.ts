/**
 * Jest global teardown of the `integration` and `secure` projects. It stops a stack only when this jest run
 * started it (and only the services it started) AND runs in CI (CI set) or ZEEK_RST_TEST_STOP_STACK=1: CI then leaves no process
 * behind, while on a developer's machine the stack stays up for the next run (startup costs
 * ~20 s), and a stack that someone else started — a shell, another jest run in the same
 * checkout — is never stopped under their feet. Stop it by hand with `npm run stack -- down`.
 */
import { stackLog, testRunStopsStack } from '../../scripts/stack/config';
import { SERVICES, stopStack } from '../../scripts/stack/stack';
import { SECURE_STARTED_BY_SETUP_ENV, STARTED_BY_SETUP_ENV } from './global-setup';

export default async function globalTeardown(): Promise<void> {
  if (!testRunStopsStack()) return;
  for (const [profile, env] of [['plain', STARTED_BY_SETUP_ENV], ['secure', SECURE_STARTED_BY_SETUP_ENV]] as const) {
    const startedList = (process.env[env] ?? '').split(',');
    const started = SERVICES.filter((service) => startedList.includes(service));
    if (started.length === 0) continue;
    await stopStack({
      only: started,
      profile,
      log: stackLog(profile),
    });
  }
}
