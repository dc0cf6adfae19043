/**
 * The two suites that load both cores for minutes, one after the other in one jest worker:
 * `npm test` runs two workers and, beside them, the outage project on a stack of its own
 * (scripts/test.ts). The crash suite measures a time (each restart resumes within 30 s of the
 * rebalance), so it must not run beside scale-out's three instances (42 s in one run where they
 * did), nor, where it can be helped, beside the outage tests' node restarts (91 s in one run):
 * scale-out, which asserts no time, goes first, while the rest of the suite runs in the other
 * worker and the outage project alongside; the crash suite comes last, on a quieter machine.
 */
import './scale-out.suite';
import './pipeline-crash.suite';
