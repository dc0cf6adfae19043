/**
 * `npm run bench -- restore [--conns N] [--rounds N] [--tick] [--keep] [--json]`: what a restart
 * costs before it consumes again, the restore of the correlator's state (docs/delivery.md,
 * "Restore"), against the real Kafka broker of the local stack (started, or reused when it runs).
 *
 * 1. The state: N generated conns (default 100,000, `correlate.maxPendingConns`) and their
 *    headers (bench/state.ts, `feedWorkload`) decoded and correlated in this process without a
 *    tick, so that every conn is still pending when the process "dies": the most a restart can
 *    find. `--tick` ticks as `run` does instead (most conns written, held for late evidence).
 *    Its changes are drained every 20,000 records, as checkpoints drain them, and written to a
 *    fresh changelog topic (`partitioning.partitions` partitions, the topic configuration `run`
 *    creates) by `run`'s own transactional changelog writer, one transaction per drain: the topic
 *    holds every version of an entry, as before compaction, the worst case for a reader.
 * 2. Each round (default 3): the raw consume ceiling, a kafkajs consumer that only counts reads
 *    the topic to its end with the restore's fetch sizes; then the restore exactly as `run` does it
 *    on start or on assignment: `restoreChangelog` (read to the end, read_committed, the latest
 *    value of every key, entries parsed) and `restore` into an empty correlator. The restored
 *    correlator must hold what the original held (conns pending and written, headers, weirds,
 *    hosts, closes), or the bench fails.
 *
 * Prints each round, then the medians beside the ceiling and issue 15's target (a restart
 * consumes again within 30 s of the rebalance). `--json` prints one JSON object on the last line.
 * The topic is deleted afterwards unless --keep.
 */
import { Kafka, logLevel } from 'kafkajs';

import type * as ChangelogModule from '../src/state/changelog';
import type * as ConfigSchema from '../src/config/schema';
import type * as CorrelatorModule from '../src/correlate/correlator';
import type * as CorrelateSettings from '../src/correlate/settings';
import type { StateChange } from '../src/correlate/state';
import type * as Log from '../src/log';
import { ensureStackUp } from '../scripts/stack/stack';
import { positiveInt } from './args';
import { consumeCeiling } from './consume-ceiling';
import { fromDist, ROOT } from './dist';
import { median } from './median';
import { feedWorkload } from './state';

/** Issue 15: each restart resumes consuming within this long once the group has rebalanced. */
const TARGET_S = 30;

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const secs = (ns: bigint): number => Number(ns) / 1e9;
const cpuS = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/** What the correlator holds, as the restored one must hold it too. */
function held(s: CorrelatorModule.CorrelatorStats): Record<string, number> {
  return { pendingConns: s.pendingConns, emittedConns: s.emittedConns, headers: s.headers, weirdUids: s.weirdUids, hosts: s.hosts, recentCloses: s.recentCloses };
}

interface Round {
  readonly ceilingS: number;
  readonly restoreS: number;
  readonly readS: number;
  readonly loadS: number;
  readonly cpuS: number;
}

export async function main(args: readonly string[]): Promise<void> {
  const conns = positiveInt(args, '--conns', 100_000);
  const rounds = positiveInt(args, '--rounds', 3);
  const tick = args.includes('--tick');
  const json = args.includes('--json');
  const keep = args.includes('--keep');
  const print = (l: string): void => { console.log(l); };
  const { createChangelogWriter, ensureChangelogTopic, restoreChangelog, restoreFetch } = fromDist('state/changelog') as typeof ChangelogModule;
  const { CONFIG_SCHEMA } = fromDist('config/schema') as typeof ConfigSchema;
  const { createCorrelator, createRecordClock } = fromDist('correlate/correlator') as typeof CorrelatorModule;
  const { DEFAULT_CORRELATE_SETTINGS } = fromDist('correlate/settings') as typeof CorrelateSettings;
  const { createRootLogger } = fromDist('log') as typeof Log;
  const log = createRootLogger({ level: 'warn' });

  // 1. The state, as a checkpointing process leaves it in the changelog.
  const drains: (readonly StateChange[])[] = [];
  const fed = feedWorkload(conns, { tick, onChanges: (changes) => { if (changes.length > 0) drains.push(changes); } });
  const original = held(fed.correlator.stats());
  print(`restore: ${fmt(conns)} generated conns and ${fmt(fed.headers)} headers correlated ${tick ? 'with ticks, as run does' : 'without a tick'}: ${fmt(original.pendingConns ?? 0)} conns pending, ${fmt(original.emittedConns ?? 0)} written and open to late evidence, ${fmt(original.headers ?? 0)} headers held`);

  const { endpoints } = await ensureStackUp({ root: ROOT, log: (l) => { process.stderr.write(`stack: ${l}\n`); } });
  const kafka = new Kafka({ clientId: 'zeek-rst-bench', brokers: [...endpoints.kafkaBrokers], logLevel: logLevel.NOTHING });
  const base = `bench-restore-${Date.now().toString(36)}`;
  const settings: ChangelogModule.ChangelogSettings = { topic: `${base}-changelog`, partitions: CONFIG_SCHEMA.partitioning.partitions.default, replicationFactor: 1, group: base };
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureChangelogTopic(admin, settings);
    const writer = createChangelogWriter(kafka, settings, log, { transactionalId: `${base}-writer` });
    await writer.connect();
    let messages = 0;
    let bytes = 0;
    const w0 = process.hrtime.bigint();
    try {
      for (const changes of drains) {
        const r = await writer.write({ changes, positions: [] });
        messages += r.messages;
        bytes += r.bytes;
      }
    } finally {
      await writer.disconnect();
    }
    drains.length = 0;
    print(`  changelog: ${fmt(messages)} entries (${(bytes / 2 ** 20).toFixed(1)} MB before gzip, ${fmt(bytes / conns)} bytes per conn) in ${settings.partitions} partitions, written in ${secs(process.hrtime.bigint() - w0).toFixed(1)} s by run's changelog writer`);

    // 2. Rounds: the ceiling, then the restore as run does it.
    const figures: Round[] = [];
    const fetch = restoreFetch(settings.partitions);
    for (let r = 0; r < rounds; r++) {
      const ceiling = await consumeCeiling(kafka, `${base}-ceiling-${r}`, [settings.topic], messages, fetch);
      const c0 = cpuS();
      const t0 = process.hrtime.bigint();
      const restored = await restoreChangelog(kafka, settings, log, { timeoutMs: CONFIG_SCHEMA.state.restoreTimeoutMs.default });
      const t1 = process.hrtime.bigint();
      const correlator = createCorrelator(DEFAULT_CORRELATE_SETTINGS, createRecordClock(), { trackChanges: true });
      correlator.restore(restored.values);
      const t2 = process.hrtime.bigint();
      const round: Round = { ceilingS: ceiling.seconds, restoreS: secs(t2 - t0), readS: secs(t1 - t0), loadS: secs(t2 - t1), cpuS: cpuS() - c0 };
      const again = held(correlator.stats());
      if (JSON.stringify(again) !== JSON.stringify(original)) throw new Error(`restore bench: the restored correlator holds ${JSON.stringify(again)}, the original ${JSON.stringify(original)}`);
      figures.push(round);
      print(`  round ${r + 1}: raw consume ${ceiling.seconds.toFixed(2)} s; restore ${round.restoreS.toFixed(2)} s (read and parse ${round.readS.toFixed(2)} s, load ${round.loadS.toFixed(2)} s; ${round.cpuS.toFixed(1)} s of this process's CPU), ${fmt(restored.values.length)} entries, the same state`);
    }
    const m = (f: (r: Round) => number): number => median(figures.map(f));
    const restoreS = m((r) => r.restoreS);
    const ceilingS = m((r) => r.ceilingS);
    print(`  => restore ${restoreS.toFixed(2)} s (median of ${rounds}; read and parse ${m((r) => r.readS).toFixed(2)} s, load ${m((r) => r.loadS).toFixed(2)} s) = ${(restoreS / ceilingS).toFixed(2)} x the raw consume of the same topic (${ceilingS.toFixed(2)} s); target: within ${TARGET_S} s`);
    if (json) {
      console.log(JSON.stringify({
        conns, tick, ...original, changelog_entries: messages, changelog_bytes: bytes,
        restore_s: restoreS, restore_read_s: m((r) => r.readS), restore_load_s: m((r) => r.loadS), restore_cpu_s: m((r) => r.cpuS),
        consume_ceiling_s: ceilingS, restore_over_ceiling: restoreS / ceilingS, target_s: TARGET_S, date: new Date().toISOString(),
      }));
    }
  } finally {
    if (!keep) await admin.deleteTopics({ topics: [settings.topic] }).catch(() => undefined);
    await admin.disconnect();
  }
}
