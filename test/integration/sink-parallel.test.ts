/**
 * The Elasticsearch sink with several bulk requests in flight, against the real node:
 * - every write of one `_id` lands in the order it was made (the last version wins, and
 *   `_version` counts every write), with requests really overlapping;
 * - `completedThrough()` stays contiguous: a document stuck in one lane (its index blocked,
 *   429 items retried) holds it back while the other lanes complete theirs; nothing is lost when
 *   the block is lifted.
 */
import type { Client } from '@elastic/elasticsearch';
import { createRootLogger, stageLogger } from '../../src/log';
import { createMetrics } from '../../src/metrics';
import { createElasticSink, laneOf, type ElasticSink, type SinkSettings } from '../../src/sink/elastic';
import { uniqueIndex } from '../helpers/names';
import { waitFor } from '../helpers/wait';
import { esClient } from './pipeline-harness';

const SETTINGS: SinkSettings = { bulkMaxDocs: 40, bulkMaxBytes: 5 * 1048576, flushIntervalMs: 20, retryInitialMs: 50, retryMaxMs: 200, bulkConcurrency: 4 };
const log = stageLogger(createRootLogger({ level: 'silent' }), 'sink');
const SOURCE = { kind: 'kafka', topic: 't', partition: 0, offset: '0' } as const;

function sinkFor(es: Client, settings: SinkSettings = SETTINGS): ElasticSink {
  return createElasticSink({
    client: es, settings, log, metrics: createMetrics(),
    onRejected: () => Promise.reject(new Error('nothing in this test is refused for its content')),
    onFatal: (err) => {
      throw err;
    },
  });
}

describe('sink: parallel bulk requests', () => {
  let es: Client;
  const sinks: ElasticSink[] = [];
  beforeAll(() => {
    es = esClient();
  });
  afterAll(async () => {
    for (const s of sinks) await s.close();
    await es.close();
  });

  it('keeps the writes of one _id in order with four requests in flight', async () => {
    const index = uniqueIndex('lanes');
    const sink = sinkFor(es);
    sinks.push(sink);
    const IDS = 301; // not a multiple of the lane count: a round-robin assignment would move an id between lanes
    const VERSIONS = 5;
    let maxInFlight = 0;
    // The versions of one id back to back, then the next id: any assignment that is not by _id
    // would put consecutive versions into requests racing each other.
    for (let i = 0; i < IDS; i += 1) {
      for (let v = 1; v <= VERSIONS; v += 1) {
        sink.enqueue({ id: `d${i}`, index, json: JSON.stringify({ v, i }), source: SOURCE, verdict: undefined });
      }
      if (i % 50 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
      maxInFlight = Math.max(maxInFlight, sink.requestsInFlight());
    }
    const drained = sink.drain();
    await waitFor(() => {
      maxInFlight = Math.max(maxInFlight, sink.requestsInFlight());
      return sink.completedThrough() === IDS * VERSIONS;
    }, { timeoutMs: 60_000, intervalMs: 1, what: 'every write acknowledged' });
    await drained;
    expect(maxInFlight).toBeGreaterThanOrEqual(2);
    expect(maxInFlight).toBeLessThanOrEqual(4);
    await es.indices.refresh({ index });
    const res = await es.search<{ v: number; i: number }>({ index, size: IDS, version: true, query: { match_all: {} } });
    expect(res.hits.hits).toHaveLength(IDS);
    for (const h of res.hits.hits) expect({ id: h._id, v: h._source?.v, version: h._version }).toEqual({ id: h._id, v: VERSIONS, version: VERSIONS });
  });

  it('reports completion contiguously: a document stuck in one lane holds completedThrough back, the other lanes go on', async () => {
    const blocked = uniqueIndex('blocked');
    const open = uniqueIndex('open');
    await es.indices.create({ index: blocked });
    await es.indices.putSettings({ index: blocked, settings: { 'index.blocks.read_only_allow_delete': true } });
    const sink = sinkFor(es);
    sinks.push(sink);
    const stuckLane = laneOf('stuck', SETTINGS.bulkConcurrency);
    expect(sink.enqueue({ id: 'stuck', index: blocked, json: JSON.stringify({ v: 1 }), source: SOURCE, verdict: undefined })).toBe(1);
    // Alone in its first request (sent after the flush interval), then retried: its lane waits behind it.
    await waitFor(() => sink.requestsInFlight() === 1, { timeoutMs: 10_000, intervalMs: 5, what: 'the stuck document in flight' });
    const others = Array.from({ length: 200 }, (_, i) => `o${i}`);
    for (const id of others) sink.enqueue({ id, index: open, json: JSON.stringify({ v: 1 }), source: SOURCE, verdict: undefined });
    const freeLanes = others.filter((id) => laneOf(id, SETTINGS.bulkConcurrency) !== stuckLane);
    expect(freeLanes.length).toBeGreaterThan(100);
    // Every document of the free lanes gets indexed while `stuck` is retried (429 from the block) ...
    await waitFor(async () => {
      await es.indices.refresh({ index: open });
      return (await es.count({ index: open })).count === freeLanes.length;
    }, { timeoutMs: 60_000, what: `${freeLanes.length} documents of the free lanes` });
    // ... yet nothing counts as completed: sequence number 1 is not done.
    expect(sink.completedThrough()).toBe(0);
    expect(sink.healthy()).toBe(false);
    expect(sink.pendingCount()).toBe(1 + others.length - freeLanes.length);
    await es.indices.putSettings({ index: blocked, settings: { 'index.blocks.read_only_allow_delete': null } });
    await waitFor(() => sink.completedThrough() === 1 + others.length, { timeoutMs: 60_000, what: 'every document completed after the block is lifted' });
    expect(sink.healthy()).toBe(true);
    await es.indices.refresh({ index: [blocked, open] });
    expect((await es.count({ index: open })).count).toBe(others.length);
    expect((await es.count({ index: blocked })).count).toBe(1);
  });
});
