/**
 * The two suites that load both cores for minutes, one after the other in one jest worker:
 * `npm test` runs two workers, and these two side by side would each measure its timing figures
 * (the crash suite's resume within 30 s of a rebalance) against the other's three instances, not
 * against the pipeline. The rest of the suite runs beside them in the other worker.
 */
import './pipeline-crash.suite';
import './scale-out.suite';
