/**
 * Retention of the daily conn indices (README "Retention", src/sink/retention.ts) on the real
 * Elasticsearch node. `zeek-rst setup` installs this deployment's template; daily indices of
 * old and recent days are created under it, beside names that must never be touched: another
 * deployment's prefix (`<P>x-conn-<old day>`), a non-daily name (`<P>-conn-<old day>-restored`)
 * and setup's own `<P>-conn-bootstrap`. Then
 * - `zeek-rst retention --dry-run` names exactly the expired ones and deletes nothing;
 * - `zeek-rst retention` deletes exactly those;
 * - `run` (the same applyRetention, src/cli/run.ts) deletes an expired index at start and
 *   another one created while it runs, on its timer.
 * Days are picked far from the cut-off (max age 7 days: 40 and 10 days ago expire; 2 days ago
 * and today do not), so the test does not depend on the hour it runs at.
 */
import type { Client } from '@elastic/elasticsearch';
import type { Kafka } from 'kafkajs';
import { startPipeline } from '../../src/cli/run';
import { connIndexFor, indexNames } from '../../src/sink/templates';
import { waitFor } from '../helpers/wait';
import { createTopics, esClient, kafkaClient, spawnCli, testConfig, testEnv, testNames, type Names } from './pipeline-harness';

const DAY_MS = 86_400_000;
const MAX_AGE_DAYS = 7;

async function indicesLike(es: Client, pattern: string): Promise<string[]> {
  const res = await es.indices.get({ index: pattern, allow_no_indices: true, expand_wildcards: ['open', 'closed'] });
  return Object.keys(res).sort();
}

describe('retention of the daily conn indices on the real node', () => {
  const n: Names = testNames('retention');
  const other = `${n.prefix}x`;
  const names = indexNames(n.prefix);
  const now = Date.now();
  const day = (ago: number): string => connIndexFor(n.prefix, now - ago * DAY_MS);
  const old40 = day(40);
  const old10 = day(10);
  const recent2 = day(2);
  const today = day(0);
  const restored = `${day(40)}-restored`;
  const otherOld = connIndexFor(other, now - 40 * DAY_MS);
  let es: Client;
  let kafka: Kafka;

  beforeAll(async () => {
    es = esClient();
    kafka = kafkaClient();
    const setup = spawnCli(['setup'], testEnv(n));
    const { code } = await setup.exited;
    expect({ code, stderr: setup.stderr() }).toEqual({ code: 0, stderr: '' });
    // Under the template setup just installed (the pattern <P>-conn-* gives them its mapping and aliases).
    for (const index of [old40, old10, recent2, today, restored]) await es.indices.create({ index });
    await es.indices.create({ index: otherOld });
    // The created indices are this deployment's: they joined its alias, and so read as its daily indices.
    const aliased = Object.keys(await es.indices.getAlias({ name: names.connAlias })).sort();
    expect(aliased).toEqual([names.connBootstrap, old40, old10, recent2, today, restored].sort());
  });

  afterAll(async () => {
    // By name: the node refuses wildcard deletes (action.destructive_requires_name).
    const left = [...(await indicesLike(es, `${n.prefix}*-conn-*`)), names.scansIndex];
    await es.indices.delete({ index: left.join(',') }, { ignore: [404] });
    await es.indices.deleteIndexTemplate({ name: names.connTemplate }, { ignore: [404] });
    await es.close();
  });

  it('--dry-run names exactly the expired daily indices and deletes nothing', async () => {
    const before = await indicesLike(es, `${n.prefix}*-conn-*`);
    const child = spawnCli(['retention', '--dry-run', '--max-age-days', String(MAX_AGE_DAYS)], testEnv(n));
    const { code } = await child.exited;
    expect({ code, stderr: child.stderr() }).toEqual({ code: 0, stderr: '' });
    expect(child.stdout().split('\n').filter((l) => l !== '')).toEqual([
      `would delete ${old40}`,
      `would delete ${old10}`,
      `4 daily indices of ${n.prefix}, 2 older than ${MAX_AGE_DAYS} days (dry run: nothing deleted)`,
    ]);
    expect(await indicesLike(es, `${n.prefix}*-conn-*`)).toEqual(before);
    expect(before).toEqual([names.connBootstrap, old40, restored, old10, recent2, today, otherOld].sort());
  });

  it('without --dry-run deletes exactly those, by the configured maximum age', async () => {
    const child = spawnCli(['retention'], testEnv(n, { ZEEK_RST_RETENTION_MAX_AGE_DAYS: String(MAX_AGE_DAYS) }));
    const { code } = await child.exited;
    expect({ code, stderr: child.stderr() }).toEqual({ code: 0, stderr: '' });
    expect(child.stdout().split('\n').filter((l) => l !== '')).toEqual([
      `deleted ${old40}`,
      `deleted ${old10}`,
      `4 daily indices of ${n.prefix}, 2 older than ${MAX_AGE_DAYS} days`,
    ]);
    expect(await indicesLike(es, `${n.prefix}*-conn-*`)).toEqual([names.connBootstrap, restored, recent2, today, otherOld].sort());
    // Nothing else expired: a second pass deletes nothing.
    const again = spawnCli(['retention', '--max-age-days', String(MAX_AGE_DAYS)], testEnv(n));
    expect((await again.exited).code).toBe(0);
    expect(again.stdout()).toBe(`2 daily indices of ${n.prefix}, 0 older than ${MAX_AGE_DAYS} days\n`);
  });

  it('refuses to run without a maximum age (0 keeps every index)', async () => {
    const child = spawnCli(['retention', '--dry-run'], testEnv(n));
    const { code } = await child.exited;
    expect(code).not.toBe(0);
    expect(child.stderr()).toContain('retention.maxAgeDays is 0');
    expect(await indicesLike(es, `${n.prefix}-conn-*`)).toEqual([names.connBootstrap, restored, recent2, today].sort());
  });

  it('run deletes an expired daily index at start, and one that appears later on its timer', async () => {
    const old20 = day(20);
    const old30 = day(30);
    await es.indices.create({ index: old20 });
    // A closed index is listed (and deleted) too: closing does not take it out of the deployment's days.
    await es.indices.close({ index: old20 });
    await createTopics(kafka, n, { conn: 1, headers: 1 });
    const running = await startPipeline(testConfig(n, { ZEEK_RST_RETENTION_MAX_AGE_DAYS: String(MAX_AGE_DAYS), ZEEK_RST_RETENTION_INTERVAL_MS: '1000' }));
    try {
      await waitFor(async () => !(await es.indices.exists({ index: old20, expand_wildcards: ['open', 'closed'] })), { timeoutMs: 30_000, intervalMs: 200, what: `run deleting ${old20} at start` });
      await es.indices.create({ index: old30 });
      await waitFor(async () => !(await es.indices.exists({ index: old30 })), { timeoutMs: 30_000, intervalMs: 200, what: `run deleting ${old30} on its next retention pass` });
      expect(await indicesLike(es, `${n.prefix}*-conn-*`)).toEqual([names.connBootstrap, restored, recent2, today, otherOld].sort());
    } finally {
      expect(await running.stop()).toBe(0);
    }
  });
});
