/**
 * Batched header messages, end to end on the real broker and node: `produce --batch` writes the
 * Teredo headers as Avro object containers and the first 75 pop3-rej headers as sequences of
 * single-object records. The other 50 come as a sequence written with a newer schema (one more
 * optional field), which `run` reads because `decode.writerSchemas` lists it. One more message
 * carries a record with an impossible TTL between two good ones. The indexed documents equal what `classify` prints for the same files (the Teredo
 * verdicts need the headers: three RSTs with TTL 255 from servers whose packets arrive with
 * TTL 53 are injected resets only with header evidence), and the bad record alone is on the
 * dead-letter topic, with its index in the message and its own bytes.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Client } from '@elastic/elasticsearch';
import type { Kafka } from 'kafkajs';
import { Type } from 'avsc';
import { startPipeline, type RunningPipeline } from '../../src/cli/run';
import { fingerprintBytes } from '../../src/decode/avro-fingerprint';
import { createHeaderCodec, decodeHeaderJson } from '../../src/decode/packet-header';
import { PACKET_HEADER_SCHEMA } from '../../src/decode/packet-header-schema';
import { EVOLVED_HEADER_SCHEMA, evolvedHeaderType } from '../helpers/evolved-header-schema';
import { waitFor } from '../helpers/wait';
import { CORPUS, connCount, createTopics, esClient, kafkaClient, produceValues, readDeadLetters, spawnCli, testConfig, testEnv, testNames } from './pipeline-harness';

function withObserver(file: string, observer: string): string[] {
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => {
    const record: unknown = JSON.parse(l);
    if (typeof record !== 'object' || record === null) throw new Error(`${file}: not an object`);
    return JSON.stringify({ ...record, _system_name: observer });
  });
}

describe('pipeline: batched header messages', () => {
  const n = testNames('batched');
  let kafka: Kafka;
  let es: Client;
  let running: RunningPipeline | undefined;
  const dir = mkdtempSync(path.join(tmpdir(), 'zeek-rst-batched-'));
  const connFile = path.join(dir, 'conn.json');
  const teredo = path.join(CORPUS, 'teredo-orphan-rst/Teredo.headers.jsonl');
  const pop3 = path.join(CORPUS, 'pop3-rej/pop3.headers.jsonl');

  beforeAll(async () => {
    kafka = kafkaClient();
    es = esClient();
    writeFileSync(connFile, `${[...withObserver(path.join(CORPUS, 'teredo-orphan-rst/conn.json'), 'teredo'), ...withObserver(path.join(CORPUS, 'pop3-rej/conn.json'), 'pop3')].join('\n')}\n`);
    await createTopics(kafka, n, { conn: 1, headers: 1 });
  });

  afterAll(async () => {
    if (running !== undefined) await running.stop();
    await es.close();
  });

  it('indexes what classify prints, and dead-letters only the bad record of a batch, with its index', async () => {
    const classify = spawnCli(['classify', '--conn', connFile, '--headers', teredo, '--headers', pop3], {});
    expect((await classify.exited).code).toBe(0);
    const expected = new Map<string, unknown>();
    for (const line of classify.stdout().split('\n')) {
      if (!line.startsWith('{')) continue;
      const doc = JSON.parse(line) as { zeek: { session_id: string }; observer: { name: string } };
      expected.set(`${doc.observer.name}/${doc.zeek.session_id}`, doc);
    }
    expect(expected.size).toBe(21 + 11);

    const env = testEnv(n);
    // 55 Teredo headers in containers of 20 (3 messages), 75 pop3 headers in sequences of 50 (2 messages).
    const pop3Lines = readFileSync(pop3, 'utf8').split('\n').filter((l) => l.trim() !== '');
    expect(pop3Lines).toHaveLength(125);
    const pop3Head = path.join(dir, 'pop3-head.jsonl');
    writeFileSync(pop3Head, `${pop3Lines.slice(0, 75).join('\n')}\n`);
    for (const [args, messages] of [[['--batch', '20', '--batch-format', 'container', teredo], '3'], [['--batch', '50', pop3Head], '2']] as const) {
      const p = spawnCli(['produce', '--topic', n.headers, ...args], env);
      expect((await p.exited).code).toBe(0);
      expect(p.stdout().trim()).toBe(messages);
    }
    // The other 50 as a sensor with a newer schema writes them: one sequence of single-object records.
    const codec = createHeaderCodec();
    const reader = Type.forSchema(PACKET_HEADER_SCHEMA);
    const evolvedFile = path.join(dir, 'packet_header_v2.avsc');
    writeFileSync(evolvedFile, JSON.stringify(EVOLVED_HEADER_SCHEMA));
    const evolvedHead = Buffer.concat([Buffer.from([0xc3, 0x01]), fingerprintBytes(evolvedHeaderType)]);
    await produceValues(kafka, n.headers, [Buffer.concat(pop3Lines.slice(75).map((line, i) => {
      const d = decodeHeaderJson(Buffer.from(line), { kind: 'file', path: pop3, line: 76 + i });
      if (!d.ok) throw new Error(`pop3 header line ${76 + i}: ${d.dead.detail}`);
      const record = reader.fromBuffer(codec.encodeSingleObject(d.value).subarray(evolvedHead.length)) as Record<string, unknown>;
      return Buffer.concat([evolvedHead, evolvedHeaderType.toBuffer({ ...record, vlan: 12 })]);
    }))]);
    // A batch of three from an unrelated flow (no conn): the middle record has TTL 300.
    const h = {
      tsUs: 1711036787549335, sensor: null, srcIp: '10.9.9.1', dstIp: '10.9.9.2', srcPort: 40000, dstPort: 80, ipVersion: 4 as const, ipTtl: 64, ipId: 1,
      tcpFlags: 0x02, seq: 1, ack: 0, window: 1024, payloadLen: 0, communityId: '', source: { kind: 'file' as const, path: 'test', line: 1 },
    };
    const good = codec.encodeSingleObject(h);
    const bad = Buffer.concat([good.subarray(0, 10), Type.forSchema(PACKET_HEADER_SCHEMA).toBuffer({
      ts: h.tsUs + 1, sensor: null, src_ip: h.srcIp, dst_ip: h.dstIp, src_port: h.srcPort, dst_port: h.dstPort, ip_version: 4, ip_ttl: 300, ip_id: 2,
      tcp_flags: 0x10, seq: 2, ack: 0, window: 1024, payload_len: 0, community_id: null,
    })]);
    await produceValues(kafka, n.headers, [Buffer.concat([good, bad, codec.encodeSingleObject({ ...h, tsUs: h.tsUs + 2, seq: 3 })])]);
    const conn = spawnCli(['produce', '--topic', n.conn, connFile], env);
    expect((await conn.exited).code).toBe(0);

    running = await startPipeline(testConfig(n, { ZEEK_RST_CORRELATE_GRACE_MS: '3000', ZEEK_RST_CORRELATE_LATE_WINDOW_MS: '60000', ZEEK_RST_DECODE_WRITER_SCHEMAS: evolvedFile }));
    const r = running;
    await waitFor(async () => (await connCount(es, n)) === expected.size && r.status().pendingConns === 0 && r.status().sinkPending === 0, {
      timeoutMs: 60_000, what: `${expected.size} documents in ${n.prefix}-conn`,
    });
    const dead = await readDeadLetters(kafka, n, 1);
    expect(await r.stop()).toBe(0);
    running = undefined;

    expect(dead.map((d) => d.headers)).toEqual([expect.objectContaining({ reason: 'invalid_ttl', source_topic: n.headers, source_offset: '6', source_index: '1' })]);
    expect(dead[0]?.value.equals(bad)).toBe(true);
    const res = await es.search({ index: `${n.prefix}-conn`, size: 100, query: { match_all: {} } });
    const indexed = new Map(res.hits.hits.map((hit) => {
      const doc = hit._source as { zeek: { session_id: string }; observer: { name: string } };
      return [`${doc.observer.name}/${doc.zeek.session_id}`, hit._source];
    }));
    expect(indexed.size).toBe(expected.size);
    for (const [id, doc] of expected) expect({ id, doc: indexed.get(id) }).toEqual({ id, doc });
    // The header evidence made it through the containers: Teredo's forged resets.
    expect([...indexed.values()].filter((d) => (d as { rst?: { verdict?: string } }).rst?.verdict === 'injected_reset')).toHaveLength(3);
  });
});
