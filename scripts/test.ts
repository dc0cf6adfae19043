/**
 * `npm test`: the whole suite, in the order that costs the least wall time.
 *
 * 1. The plain and the secure stacks come up (scripts/stack: the first run resolves them through
 *    Maven) while the type check and the linter run: those need no stack.
 * 2. jest: the `unit`, `integration` and `secure` projects, two workers (jest.config.js and
 *    test/integration/load.test.ts say how the long suites are kept apart). Arguments after
 *    `npm test --` go to this jest run.
 * 3. jest, alone: the `outage` project, which stops and restarts the real services.
 * 4. In CI (`CI` set) or with ZEEK_RST_TEST_STOP_STACK=1, the services this run started are
 *    stopped again; a stack that was running before is left as it was.
 *
 * The jest global setup (test/helpers/global-setup.ts) finds both stacks running and reuses them,
 * so jest alone (`npx jest ...`) still works as before. The exit code is the first failure's.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { ensureStackUp, stopStack, type ServiceName, type UpResult } from './stack/stack';
import { stackLog, testRunStopsStack, type StackProfile } from './stack/config';

const ROOT = path.resolve(__dirname, '..');
const bin = (name: string): string => path.join(ROOT, 'node_modules', '.bin', name);

/** Runs a command with inherited output; resolves with its exit code (1 for a signal). */
function step(label: string, command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const started = Date.now();
  process.stderr.write(`[test] ${label}: ${[path.basename(command), ...args].join(' ')}\n`);
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: ROOT, env, stdio: 'inherit' });
    child.on('error', (err) => {
      process.stderr.write(`[test] ${label}: ${err.message}\n`);
      resolve(1);
    });
    child.on('exit', (code) => {
      process.stderr.write(`[test] ${label}: exit ${code ?? 'by signal'} after ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
      resolve(code ?? 1);
    });
  });
}

async function main(): Promise<number> {
  const jestArgs = process.argv.slice(2);
  const started = Date.now();
  const up = (profile: StackProfile): Promise<UpResult> => ensureStackUp({ profile, log: stackLog(profile) });
  // Started at once; awaited after the static checks (a failure then is reported, not lost).
  const stacks = Promise.allSettled([up('plain'), up('secure')]);
  const startedServices: [StackProfile, readonly ServiceName[]][] = [];
  let code = 0;
  try {
    code = (await step('typecheck', bin('tsc'), ['-p', 'tsconfig.json', '--noEmit'])) || (await step('lint', bin('eslint'), ['--max-warnings', '0', '.']));
    const [plain, secure] = await stacks;
    for (const [profile, r] of [['plain', plain], ['secure', secure]] as const) {
      if (r.status === 'fulfilled') startedServices.push([profile, r.value.started]);
      else stackLog(profile)(r.reason instanceof Error ? r.reason.message : String(r.reason));
    }
    if (plain.status === 'rejected' || secure.status === 'rejected') {
      code = 1;
      return code;
    }
    process.stderr.write(`[test] stacks ready after ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    if (code !== 0) return code;
    code = await step('jest', bin('jest'), ['--forceExit', '--maxWorkers=2', ...jestArgs]);
    if (code !== 0) return code;
    code = await step('jest outage', bin('jest'), ['--selectProjects', 'outage', '--forceExit'], { ...process.env, ZEEK_RST_TEST_OUTAGE: '1' });
    return code;
  } finally {
    // Even after a failure: CI leaves no process behind.
    await stacks;
    if (testRunStopsStack()) {
      for (const [profile, services] of startedServices) {
        if (services.length > 0) await stopStack({ profile, only: services, log: stackLog(profile) }).catch(() => undefined);
      }
    }
    process.stderr.write(`[test] ${code === 0 ? 'passed' : 'failed'} after ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`[test] ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
