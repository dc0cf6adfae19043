/**
 * `npm test`: the whole suite, in the order that costs the least wall time.
 *
 * 1. Three stacks come up (scripts/stack: the first run resolves them through Maven) while the
 *    type check and the linter run, which need none: the plain one, the secure one, and the
 *    outage one (a second plain pair on ports of its own).
 * 2. Two jest runs at once:
 *    - the `unit`, `integration` and `secure` projects, two workers, on the plain and secure
 *      stacks (jest.config.js and test/integration/load.test.ts say how the long suites are
 *      kept apart); arguments after `npm test --` go to this run;
 *    - the `outage` project, alone on the outage stack, which it stops, freezes and restarts
 *      (ZEEK_RST_STACK_PROFILE=outage); its output is printed when it ends.
 * 3. In CI (`CI` set) or with ZEEK_RST_TEST_STOP_STACK=1, the services this run started are
 *    stopped again; a stack that was running before is left as it was.
 *
 * The jest global setup (test/helpers/global-setup.ts) finds the stacks running and reuses them,
 * so jest alone (`npx jest ...`, `npm run test:outage`) still works, on the plain stack. The exit
 * code is the first failure's.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ensureStackUp, stopStack, type ServiceName, type UpResult } from './stack/stack';
import type { StackProfile } from './stack/config';

const ROOT = path.resolve(__dirname, '..');
const bin = (name: string): string => path.join(ROOT, 'node_modules', '.bin', name);

function truthy(value: string | undefined): boolean {
  return value !== undefined && value !== '' && value !== '0' && value.toLowerCase() !== 'false';
}

/**
 * Runs a command; resolves with its exit code (1 for a signal). Its output is inherited, or, with
 * `logFile`, written there and printed whole when it ends (two jest runs at once stay readable).
 */
function step(label: string, command: string, args: readonly string[], o: { readonly env?: NodeJS.ProcessEnv; readonly logFile?: string } = {}): Promise<number> {
  const started = Date.now();
  process.stderr.write(`[test] ${label}: ${[path.basename(command), ...args].join(' ')}${o.logFile === undefined ? '' : ` (output in ${path.relative(ROOT, o.logFile)} until it ends)`}\n`);
  const out = o.logFile === undefined ? undefined : fs.openSync(o.logFile, 'w');
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: ROOT, env: o.env ?? process.env, stdio: out === undefined ? 'inherit' : ['ignore', out, out] });
    const done = (code: number, how: string): void => {
      if (out !== undefined && o.logFile !== undefined) {
        fs.closeSync(out);
        process.stderr.write(`[test] --- ${label} ---\n${fs.readFileSync(o.logFile, 'utf8')}[test] --- end of ${label} ---\n`);
      }
      process.stderr.write(`[test] ${label}: ${how} after ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
      resolve(code);
    };
    child.on('error', (err) => { done(1, err.message); });
    child.on('exit', (code) => { done(code ?? 1, `exit ${code ?? 'by signal'}`); });
  });
}

async function main(): Promise<number> {
  const jestArgs = process.argv.slice(2);
  const started = Date.now();
  const up = (profile: StackProfile): Promise<UpResult> =>
    ensureStackUp({ profile, log: (line) => process.stderr.write(`[stack ${profile}] ${line}\n`) });
  // Started at once; awaited after the static checks (a failure then is reported, not lost).
  const profiles: readonly StackProfile[] = ['plain', 'secure', 'outage'];
  const stacks = Promise.allSettled(profiles.map(up));
  const startedServices: [StackProfile, readonly ServiceName[]][] = [];
  let code = 0;
  try {
    code = (await step('typecheck', bin('tsc'), ['-p', 'tsconfig.json', '--noEmit'])) || (await step('lint', bin('eslint'), ['--max-warnings', '0', '.']));
    const results = await stacks;
    results.forEach((r, i) => {
      const profile = profiles[i] ?? 'plain';
      if (r.status === 'fulfilled') startedServices.push([profile, r.value.started]);
      else process.stderr.write(`[stack ${profile}] ${r.reason instanceof Error ? r.reason.message : String(r.reason)}\n`);
    });
    if (results.some((r) => r.status === 'rejected')) {
      code = 1;
      return code;
    }
    process.stderr.write(`[test] stacks ready after ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    if (code !== 0) return code;
    fs.mkdirSync(path.join(ROOT, '.cache', 'run'), { recursive: true });
    const [main, outage] = await Promise.all([
      step('jest', bin('jest'), ['--forceExit', '--maxWorkers=2', ...jestArgs]),
      step('jest outage', bin('jest'), ['--selectProjects', 'outage', '--forceExit'], {
        env: { ...process.env, ZEEK_RST_TEST_OUTAGE: '1', ZEEK_RST_STACK_PROFILE: 'outage' },
        logFile: path.join(ROOT, '.cache', 'run', 'test-outage.log'),
      }),
    ]);
    code = main || outage;
    return code;
  } finally {
    // Even after a failure: CI leaves no process behind.
    await stacks;
    if (truthy(process.env.CI) || truthy(process.env.ZEEK_RST_TEST_STOP_STACK)) {
      for (const [profile, services] of startedServices) {
        if (services.length > 0) await stopStack({ profile, only: services, log: (line) => process.stderr.write(`[stack ${profile}] ${line}\n`) }).catch(() => undefined);
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
