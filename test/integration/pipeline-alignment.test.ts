/**
 * Reading a backlog in message-time order (src/source/alignment.ts), on the real broker and node.
 *
 * The topics are full before `run` starts, as after an outage or for a new consumer group: 20,000
 * refused connection attempts (REJ, history `Sr`), each with its two sampled headers (the SYN and
 * the responder's RST), in 40 chunks of 500. Chunk i's header messages carry the CreateTime
 * base + 2 i s, its conns base + 2 i s + 1.5 s: each chunk's headers were written before its
 * conns, as a sensor and Zeek write them. A fetch of the header partition brings about 20,000
 * headers, one of the conn partition about 3,000 conns, and the header store holds 8,000. Read unaligned, the
 * correlator gets the headers thousands of conns ahead of their conns whichever batch goes first,
 * and the store drops them before their conn comes (what the 1 M-conn bench showed). Read in
 * message-time order, the store holds about two chunks of headers that wait for their conn: none
 * is dropped unjoined, and every document has its sampled RST.
 */
import { startPipeline } from '../../src/cli/run';
import { createHeaderCodec } from '../../src/decode/packet-header';
import type { PacketHeader } from '../../src/domain';
import { waitFor } from '../helpers/wait';
import { connCount, pipelineTestBed, produceValues, rejectedConn, series, testConfig } from './pipeline-harness';

const CONNS = 20_000;
const CHUNK = 500;
/**
 * Header store: room for two chunks of headers waiting for their conns (2,000) plus those read
 * while a conn waits out its grace (100 ms here), far fewer than the backlog (40,000).
 */
const STORE = 8000;
const SUBNET = '10.77.0';

/** The SYN and the RST of `rejectedConn(i, ..., SUBNET)`, as a sensor samples them. */
function headersOf(i: number): PacketHeader[] {
  const tsUs = 1711036787549335 + i * 1000;
  const orig = { ip: `${SUBNET}.1`, port: 20000 + (i % 40000) };
  const resp = { ip: `${SUBNET}.2`, port: 443 };
  const base = { sensor: null, ipVersion: 4 as const, window: 0, payloadLen: 0, communityId: '', source: { kind: 'file' as const, path: 'test', line: i } };
  return [
    { ...base, tsUs, srcIp: orig.ip, dstIp: resp.ip, srcPort: orig.port, dstPort: resp.port, ipTtl: 64, ipId: i % 65536, tcpFlags: 0x02, seq: 1000, ack: 0 },
    { ...base, tsUs: tsUs + 100, srcIp: resp.ip, dstIp: orig.ip, srcPort: resp.port, dstPort: orig.port, ipTtl: 64, ipId: 0, tcpFlags: 0x14, seq: 0, ack: 1001 },
  ];
}

describe('pipeline: inputs read in message-time order', () => {
  const bed = pipelineTestBed('aligned', { conn: 1, weird: 1, headers: 1 });
  const { n, kafka, es } = bed;

  it('keeps a backlog\'s headers beside their conns: none dropped unjoined by a store far smaller than the backlog', async () => {
    const codec = createHeaderCodec();
    const base = Date.now() - 10 * 60_000;
    for (let chunk = 0; chunk * CHUNK < CONNS; chunk++) {
      const ids = Array.from({ length: CHUNK }, (_, k) => chunk * CHUNK + k);
      const headers = ids.flatMap(headersOf).map((h) => codec.encodeSingleObject(h));
      const messages = Array.from({ length: Math.ceil(headers.length / 100) }, (_, m) => Buffer.concat(headers.slice(m * 100, m * 100 + 100)));
      await produceValues(kafka, n.headers, messages, base + chunk * 2000);
      await produceValues(kafka, n.conn, ids.map((i) => rejectedConn(i, 'CAlign', SUBNET)), base + chunk * 2000 + 1500);
    }

    bed.running = await startPipeline(testConfig(n, {
      ZEEK_RST_PARTITIONING_MODE: 'direct',
      ZEEK_RST_KAFKA_ALIGN_INPUTS: 'true',
      ZEEK_RST_CORRELATE_MAX_HEADERS: String(STORE),
      ZEEK_RST_CORRELATE_GRACE_MS: '100',
      // Far below the default (10 s), so that a partition counted idle while it could not offer
      // anything (a fetch that left it out waits out its 1 s long poll; another batch waits for
      // the sink) lets the conns run past their headers here, as it did under load in CI.
      ZEEK_RST_KAFKA_ALIGN_IDLE_MS: '500',
      // Record time: 1,000 conns per second; nothing here is old enough to expire.
      ZEEK_RST_CORRELATE_LATE_WINDOW_MS: '60000',
    }));
    const metrics = `http://127.0.0.1:${bed.running.metricsPort ?? 0}/metrics`;
    await waitFor(async () => (await connCount(es, n)) === CONNS, { timeoutMs: 90_000, what: `${CONNS} documents` });

    const index = `${n.prefix}-conn`;
    const count = async (q: object): Promise<number> => {
      await es.indices.refresh({ index });
      return (await es.count({ index, query: q })).count;
    };
    expect(await count({ term: { 'rst.present': true } })).toBe(CONNS);
    const text = await (await fetch(metrics)).text();
    expect(await count({ term: { 'rst.headers.sampled': true } })).toBe(CONNS);

    expect(series(text, 'zeek_rst_correlator_discards_total', 'kind="headersUnjoined"') ?? 0).toBe(0);
    // The header partition did run ahead and was held back.
    expect(series(text, 'zeek_rst_source_alignment_pauses_total', `topic="${n.headers}"`)).toBeGreaterThan(0);
  });
});
