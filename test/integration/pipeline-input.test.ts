/**
 * Bad input and late evidence, against the real broker and node:
 * - 200 bad messages of 18 kinds interleaved with good ones: each bad one is on the dead-letter
 *   topic with its original bytes and a reason header naming what is wrong with it; every good
 *   one is indexed; the pipeline never stops.
 * - A weird arriving after its conn was indexed re-writes that same document.
 */
import type { Client } from '@elastic/elasticsearch';
import type { Kafka } from 'kafkajs';
import { startPipeline, type RunningPipeline } from '../../src/cli/run';
import type { DeadLetterReason, PacketHeader } from '../../src/domain';
import { createHeaderCodec } from '../../src/decode/packet-header';
import { documentId } from '../../src/sink/ecs';
import { CONN_MAPPING, connTemplateBody } from '../../src/sink/templates';
import { waitFor } from '../helpers/wait';
import { connCount, createTopics, esClient, kafkaClient, produceValues, readDeadLetters, testConfig, testNames } from './pipeline-harness';

/** A REJ probe as Zeek writes it (pop3-rej's first record, uid replaced). */
function conn(uid: string): Record<string, unknown> {
  return {
    ts: 1711036787.549335, uid, 'id.orig_h': '127.0.0.1', 'id.orig_p': 58854, 'id.resp_h': '127.0.0.1', 'id.resp_p': 110, proto: 'tcp',
    conn_state: 'REJ', local_orig: true, local_resp: true, missed_bytes: 0, history: 'Sr', orig_pkts: 1, orig_ip_bytes: 60, resp_pkts: 1, resp_ip_bytes: 40,
  };
}

const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));

/** Bad conn-topic messages, each with the reason its defect calls for. */
const BAD_CONNS: readonly (readonly [DeadLetterReason, (i: number) => Buffer])[] = [
  ['malformed_json', (i) => Buffer.from(`{"ts": 1711036787.5, "uid": "Cbad${i}"`)],
  ['not_an_object', (i) => json([i, 'conn'])],
  ['missing_field', (i) => json({ ...conn(`Cbad${i}`), uid: undefined })],
  ['wrong_type', (i) => json({ ...conn(`Cbad${i}`), 'id.orig_p': 'pop3' })],
  ['invalid_ip', (i) => json({ ...conn(`Cbad${i}`), 'id.resp_h': '127.0.0.300' })],
  ['invalid_port', (i) => json({ ...conn(`Cbad${i}`), 'id.resp_p': 70000 })],
  ['negative_count', (i) => json({ ...conn(`Cbad${i}`), orig_pkts: -1 })],
  ['invalid_timestamp', (i) => json({ ...conn(`Cbad${i}`), ts: 'yesterday' })],
  ['timestamp_out_of_range', (i) => json({ ...conn(`Cbad${i}`), ts: 99999999999 })],
  ['invalid_enum', (i) => json({ ...conn(`Cbad${i}`), conn_state: 'NOPE' })],
  ['empty_message', () => Buffer.alloc(0)],
  ['unknown_log_type', (i) => json({ dns: conn(`Cbad${i}`) })],
  ['invalid_utf8', () => Buffer.from([0x7b, 0xff, 0xfe, 0x7d])],
];

function header(i: number): PacketHeader {
  return {
    tsUs: 1711036787549335 + i, sensor: null, srcIp: '127.0.0.1', dstIp: '127.0.0.1', srcPort: 58854, dstPort: 110, ipVersion: 4, ipTtl: 64, ipId: 0,
    tcpFlags: 0x02, seq: 1000 + i, ack: 0, window: 65495, payloadLen: 0, communityId: '1:placeholder',
  };
}

describe('pipeline: bad input and late evidence', () => {
  let kafka: Kafka;
  let es: Client;
  let running: RunningPipeline | undefined;

  beforeAll(() => {
    kafka = kafkaClient();
    es = esClient();
  });

  afterEach(async () => {
    if (running !== undefined) await running.stop();
    running = undefined;
  });

  afterAll(async () => {
    await es.close();
  });

  it('sends every bad message to the dead-letter topic with its reason and indexes every good one', async () => {
    const n = testNames('bad');
    await createTopics(kafka, n, { conn: 1, headers: 1 });
    const codec = createHeaderCodec();
    const enc = codec.encodeSingleObject(header(0));
    const BAD_HEADERS: readonly (readonly [DeadLetterReason, (i: number) => Buffer])[] = [
      ['truncated_avro', (i) => codec.encodeSingleObject(header(i)).subarray(0, enc.length - 3)],
      ['unknown_schema', (i) => Buffer.concat([Buffer.from([0, 0, 0, 0, 99]), codec.encodeSingleObject(header(i)).subarray(10)])],
      ['invalid_ttl', (i) => codec.encodeSingleObject({ ...header(i), ipTtl: 300 })],
      ['invalid_avro', (i) => Buffer.from(`not avro ${i}`)],
      ['invalid_port', (i) => codec.encodeSingleObject({ ...header(i), dstPort: 65536 })],
    ];
    const connValues: Buffer[] = [];
    const headerValues: Buffer[] = [];
    const expected = new Map<string, { reason: DeadLetterReason; value: Buffer }>();
    let good = 0;
    for (let i = 0; i < 200; i += 1) {
      const onHeaders = i % 4 === 3;
      const kinds = onHeaders ? BAD_HEADERS : BAD_CONNS;
      const kind = kinds[i % kinds.length];
      if (kind === undefined) throw new Error('no kind');
      const [reason, make] = kind;
      const value = make(i);
      if (onHeaders) {
        expected.set(`${n.headers}/${headerValues.length}`, { reason, value });
        headerValues.push(value, codec.encodeSingleObject(header(1000 + i)));
      } else {
        expected.set(`${n.conn}/${connValues.length}`, { reason, value });
        connValues.push(value, json(conn(`Cgood${i}`)));
        good += 1;
      }
    }
    expect(new Set([...expected.values()].map((e) => e.reason)).size).toBeGreaterThanOrEqual(10);
    await produceValues(kafka, n.conn, connValues);
    await produceValues(kafka, n.headers, headerValues);

    running = await startPipeline(testConfig(n));
    const r = running;
    await waitFor(async () => (await connCount(es, n)) === good && r.status().sinkPending === 0, { timeoutMs: 60_000, what: `${good} good conns indexed` });
    const dead = await readDeadLetters(kafka, n, 200);
    expect(dead).toHaveLength(200);
    for (const d of dead) {
      const key = `${d.headers['source_topic'] ?? '?'}/${d.headers['source_offset'] ?? '?'}`;
      const want = expected.get(key);
      expect({ key, reason: d.headers['reason'], value: d.value.toString('hex') }).toEqual({ key, reason: want?.reason, value: want?.value.toString('hex') });
      expect(d.headers['source_partition']).toBe('0');
      expect(['decode', 'validate']).toContain(d.headers['stage']);
      expect(d.headers['detail']?.length).toBeGreaterThan(0);
    }
    expect(r.status().fatal).toBeUndefined();
    expect(await connCount(es, n)).toBe(good);
  });

  it('dead-letters a document Elasticsearch refuses for its content and goes on', async () => {
    const n = testNames('refused');
    await createTopics(kafka, n, { conn: 1 });
    // A template installed beforehand (run keeps an existing one) whose rst.phase is a number:
    // every document with a RST (it has a phase) is a mapping rejection, one without is fine.
    const body = connTemplateBody(n.prefix);
    const mappings = { ...CONN_MAPPING, properties: { ...CONN_MAPPING.properties, rst: { properties: { ...CONN_MAPPING.properties.rst.properties, phase: { type: 'long' } } } } };
    const template = typeof body['template'] === 'object' && body['template'] !== null ? body['template'] : {};
    await es.transport.request({ method: 'PUT', path: `/_index_template/${n.prefix}-conn`, body: { ...body, template: { ...template, mappings } } });
    // Sr: a REJ, so a RST with a phase (establishment); S0 with history S: an unanswered SYN, no RST.
    // Each on its own 4-tuple: three conns at one instant on one 4-tuple are each other's previous
    // close, and one written before the next arrived (a slow machine) is rewritten, and refused again.
    const values = [json({ ...conn('CRefused1'), 'id.orig_p': 58001 }), json({ ...conn('CAccepted1'), 'id.orig_p': 58002, conn_state: 'S0', history: 'S', resp_pkts: 0, resp_ip_bytes: 0 }), json({ ...conn('CRefused2'), 'id.orig_p': 58003 })];
    await produceValues(kafka, n.conn, values);
    running = await startPipeline(testConfig(n));
    const dead = await readDeadLetters(kafka, n, 2);
    await waitFor(async () => (await connCount(es, n)) === 1, { timeoutMs: 30_000, what: 'the accepted document' });
    expect(dead.map((d) => [d.headers['reason'], d.headers['stage'], d.headers['source_topic'], d.headers['source_offset']]).sort()).toEqual([
      ['mapping_rejected', 'sink', n.conn, '0'],
      ['mapping_rejected', 'sink', n.conn, '2'],
    ]);
    for (const d of dead) {
      expect(d.headers['detail']).toMatch(/document_parsing_exception \(HTTP 400\).*rst\.phase/);
      expect(JSON.stringify(JSON.parse(d.value.toString('utf8')))).toContain('"verdict":"closed_port"');
    }
    expect(running.status().fatal).toBeUndefined();
  });

  it('re-writes the indexed document when a weird for it arrives late', async () => {
    const n = testNames('late');
    await createTopics(kafka, n, { conn: 1, weird: 1 });
    running = await startPipeline(testConfig(n, { ZEEK_RST_CORRELATE_GRACE_MS: '200', ZEEK_RST_CORRELATE_LATE_WINDOW_MS: '120000' }));
    const uid = 'CLateWeird0001';
    const id = documentId(undefined, uid);
    await produceValues(kafka, n.conn, [json(conn(uid))]);
    const first = await waitFor(
      async () => {
        if ((await connCount(es, n)) !== 1) return undefined;
        const hit = (await es.search({ index: `${n.prefix}-conn`, query: { ids: { values: [id] } }, version: true })).hits.hits[0];
        return hit;
      },
      { timeoutMs: 30_000, what: 'the conn indexed' },
    );
    expect(JSON.stringify(first._source)).not.toContain('SYN_after_reset');
    // The weird Zeek raises when a SYN follows a RST on the same connection.
    await produceValues(kafka, n.weird, [json({ ts: 1711036787.6, uid, 'id.orig_h': '127.0.0.1', 'id.orig_p': 58854, 'id.resp_h': '127.0.0.1', 'id.resp_p': 110, name: 'SYN_after_reset', notice: false, peer: 'zeek', source: 'TCP' })]);
    const updated = await waitFor(
      async () => {
        await es.indices.refresh({ index: `${n.prefix}-conn` });
        const hit = (await es.search({ index: `${n.prefix}-conn`, query: { ids: { values: [id] } }, version: true })).hits.hits[0];
        return hit !== undefined && JSON.stringify(hit._source).includes('SYN_after_reset') ? hit : undefined;
      },
      { timeoutMs: 30_000, what: 'the document re-written with the weird' },
    );
    expect(updated._id).toBe(first._id);
    expect(updated._index).toBe(first._index);
    expect(updated._version).toBe((first._version ?? 0) + 1);
    expect(await connCount(es, n)).toBe(1);
  });
});
