/**
 * `zeek-rst headers` into the real Kafka broker:
 * 1. a corpus trace with --kafka: the batched messages decode (as `run` decodes them) to exactly
 *    the headers of its *.headers.jsonl;
 * 2. live capture (needs root, like tcpdump): `tcpdump -i lo -w - -U` piped into
 *    `zeek-rst headers --pcap - --kafka` while the test makes three real resets on 127.0.0.1;
 *    conn records built from what the test did go to the conn topic, `zeek-rst run` classifies
 *    them with the captured headers: closed_port, server_abort and connect_scan, each with the
 *    RST's origin `endpoint` (it came from the loopback stack itself, TTL 64 like every packet).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import path from 'node:path';
import type { Client } from '@elastic/elasticsearch';
import type { Kafka } from 'kafkajs';
import { startPipeline, type RunningPipeline } from '../../src/cli/run';
import { decodeHeaderMessage } from '../../src/decode/header-message';
import { createHeaderCodec } from '../../src/decode/packet-header';
import type { Decoded, PacketHeader } from '../../src/domain';
import { readHeaderFile } from '../../src/source/files';
import { ensureTcpdump } from '../helpers/tcpdump';
import { waitFor } from '../helpers/wait';
import { CORPUS, REPO, connCount, createTopics, esClient, kafkaClient, produceValues, testConfig, testEnv, testNames, type Names } from './pipeline-harness';

interface Proc {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  stderr(): string;
}

function track(child: ChildProcess): Proc {
  let err = '';
  child.stderr?.on('data', (c: Buffer) => (err = (err + c.toString('utf8')).slice(-20_000)));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => {
    resolve(code);
  }));
  return { child, exited, stderr: () => err };
}

/** `zeek-rst headers ...` from the sources; standard input a pipe (for tcpdump) or none. */
function spawnHeaders(args: readonly string[], env: Readonly<Record<string, string>>, stdin: 'pipe' | 'ignore' = 'ignore'): Proc {
  return track(spawn(process.execPath, ['--import', 'tsx', '-e', "require('./src/cli/main').main(process.argv.slice(1))", 'headers', ...args], {
    cwd: REPO, env: { ...process.env, ...env }, stdio: [stdin, 'pipe', 'pipe'],
  }));
}

/** Every value on a topic, read from the start until `done(values)` holds. */
async function readTopic(kafka: Kafka, topic: string, group: string, done: (values: Buffer[]) => boolean): Promise<Buffer[]> {
  const values: Buffer[] = [];
  const consumer = kafka.consumer({ groupId: group, maxWaitTimeInMs: 250 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: ({ message }) => {
        if (message.value !== null) values.push(message.value);
        return Promise.resolve();
      },
    });
    await waitFor(() => done(values), { timeoutMs: 60_000, what: `messages on ${topic} (have ${values.length})` });
  } finally {
    await consumer.disconnect();
  }
  return values;
}

function decodeAll(values: readonly Buffer[], topic: string): Decoded<PacketHeader>[] {
  const codec = createHeaderCodec();
  return values.flatMap((v, i) => decodeHeaderMessage(v, { kind: 'kafka', topic, partition: 0, offset: String(i) }, codec));
}

const comparable = (h: PacketHeader): unknown => ({ ...h, source: undefined });

/** A port nothing listens on (the kernel gave it out, and it was closed again). */
async function freePort(): Promise<number> {
  const s = net.createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const address = s.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  s.close();
  await once(s, 'close');
  return port;
}

describe('zeek-rst headers to Kafka', () => {
  let kafka: Kafka;
  let es: Client;
  let running: RunningPipeline | undefined;
  let tcpdump: Proc | undefined;
  const servers: net.Server[] = [];

  beforeAll(() => {
    kafka = kafkaClient();
    es = esClient();
  });

  afterAll(async () => {
    tcpdump?.child.kill('SIGKILL');
    for (const s of servers) s.close();
    if (running !== undefined) await running.stop();
    await es.close();
  });

  it('a corpus trace: the batched messages hold exactly its *.headers.jsonl headers', async () => {
    const n = testNames('headers-kafka');
    await createTopics(kafka, n, { headers: 1 });
    const pcap = path.join(CORPUS, 'pop3-rej/pop3.pcap');
    const p = spawnHeaders(['--pcap', pcap, '--sample', 'all', '--kafka', '--topic', n.headers, '--batch', '40'], testEnv(n));
    expect(await p.exited).toBe(0);
    // 125 TCP packets in messages of 40: 4 messages.
    expect(p.stderr()).toMatch(/TCP packets\s+125\n[\s\S]*Kafka messages\s+4\n/);
    const values = await readTopic(kafka, n.headers, `${n.group}-read`, (v) => v.length >= 4);
    expect(values).toHaveLength(4);
    const got = decodeAll(values, n.headers);
    const expected: Decoded<PacketHeader>[] = [];
    for await (const d of readHeaderFile(path.join(CORPUS, 'pop3-rej/pop3.headers.jsonl'))) expected.push(d);
    expect(got.every((d) => d.ok)).toBe(true);
    expect(got.map((d) => (d.ok ? comparable(d.value) : d.dead))).toEqual(expected.map((d) => (d.ok ? comparable(d.value) : d.dead)));
  });

  it('live: tcpdump on lo -> headers --pcap - --kafka -> run: closed_port, server_abort, connect_scan from the endpoint', async () => {
    ensureTcpdump();
    const n: Names = testNames('headers-live');
    await createTopics(kafka, n, { conn: 1, headers: 1 });
    const sensor = 'lo-live';
    const closedPort = await freePort();
    const abortServer = net.createServer();
    const scanServer = net.createServer();
    servers.push(abortServer, scanServer);
    abortServer.listen(0, '127.0.0.1');
    scanServer.listen(0, '127.0.0.1');
    await Promise.all([once(abortServer, 'listening'), once(scanServer, 'listening')]);
    const portOf = (s: net.Server): number => {
      const a = s.address();
      return typeof a === 'object' && a !== null ? a.port : 0;
    };
    const abortPort = portOf(abortServer);
    const scanPort = portOf(scanServer);
    const [closedClient, abortClient, scanClient] = await Promise.all([freePort(), freePort(), freePort()]);

    // Capture only the test's own connections (the stack's Kafka and Elasticsearch also talk on lo).
    const filter = `tcp and host 127.0.0.1 and (port ${closedPort} or port ${abortPort} or port ${scanPort})`;
    // headers first, reading a pipe; tcpdump writes into that pipe's other end. (Handing tcpdump's
    // stdout to the child instead would leave the parent's socket on it reading too, and stealing bytes.)
    const headers = spawnHeaders(['--pcap', '-', '--kafka', '--topic', n.headers, '--sensor', sensor, '--batch', '50', '--linger-ms', '100'], testEnv(n), 'pipe');
    const pipe = headers.child.stdin;
    if (pipe === null) throw new Error('headers has no stdin');
    tcpdump = track(spawn('tcpdump', ['-i', 'lo', '-n', '--immediate-mode', '-U', '-w', '-', filter], { stdio: ['ignore', pipe, 'pipe'] }));
    pipe.destroy(); // tcpdump holds the write end now: when it exits, headers sees the end of its input
    const dump = tcpdump;
    await waitFor(() => /listening on lo/.test(dump.stderr()), { timeoutMs: 20_000, what: () => `tcpdump listening (stderr: ${dump.stderr()})` });

    const conns: Record<string, unknown>[] = [];
    const record = (uid: string, startMs: number, endMs: number, origP: number, respP: number, fields: Record<string, unknown>): void => {
      conns.push({
        // ts from the test's clock just before connect: the SYN is captured a few ms later, well
        // inside the correlation window [ts - 1 s, ts + duration + 5 s].
        ts: startMs / 1000, uid, 'id.orig_h': '127.0.0.1', 'id.orig_p': origP, 'id.resp_h': '127.0.0.1', 'id.resp_p': respP, proto: 'tcp',
        duration: (endMs - startMs) / 1000, missed_bytes: 0, _system_name: sensor, ...fields,
      });
    };

    // 1. A connect to a closed port: SYN, answered by the kernel with RST+ACK. Zeek: `S` for the
    //    originator's SYN, `r` for the responder's RST; no SYN-ACK, so REJ.
    let t0 = Date.now();
    await new Promise<void>((resolve) => {
      const c = net.connect({ host: '127.0.0.1', port: closedPort, localAddress: '127.0.0.1', localPort: closedClient });
      c.on('error', () => {
        resolve();
      });
    });
    record('CLiveClosedPort1', t0, Date.now(), closedClient, closedPort, {
      conn_state: 'REJ', history: 'Sr', orig_bytes: 0, resp_bytes: 0, orig_pkts: 1, orig_ip_bytes: 60, resp_pkts: 1, resp_ip_bytes: 40,
    });

    // 2. A server that destroys an accepted socket with a RST after an exchange: the client sends
    //    6 bytes, the server's kernel ACKs them at once (quick-ACK mode right after the handshake,
    //    as test/fixtures/pcap/lo-en10mb.tcpdump.txt shows), the server answers 3 bytes, the
    //    client acknowledges them, then the server calls resetAndDestroy(): RST+ACK. Zeek's
    //    history: S h A (client's bare ACK) D (client data) a (server's bare ACK) d (server data)
    //    r (server RST); the client's later bare ACK repeats `A`, which Zeek writes once. RSTR.
    const serverSockets: net.Socket[] = [];
    abortServer.on('connection', (s) => {
      serverSockets.push(s);
      s.on('error', () => undefined);
      s.once('data', () => {
        s.write('hi\n');
      });
    });
    t0 = Date.now();
    await new Promise<void>((resolve) => {
      const c = net.connect({ host: '127.0.0.1', port: abortPort, localAddress: '127.0.0.1', localPort: abortClient }, () => c.write('hello\n'));
      c.on('data', () => {
        // The client has the server's data (and its kernel has ACKed it): now the server resets.
        setTimeout(() => {
          for (const s of serverSockets) s.resetAndDestroy();
        }, 50);
      });
      c.on('error', () => {
        resolve();
      });
      c.on('close', () => {
        resolve();
      });
    });
    record('CLiveServerAbort1', t0, Date.now(), abortClient, abortPort, {
      conn_state: 'RSTR', history: 'ShADadr', orig_bytes: 6, resp_bytes: 3, orig_pkts: 4, orig_ip_bytes: 222, resp_pkts: 4, resp_ip_bytes: 207,
    });

    // 3. A client that resets right after the handshake (connect, then resetAndDestroy): SYN,
    //    SYN-ACK, the client's ACK, the client's RST+ACK. Zeek: `ShAR`, RSTO, no payload: a
    //    connect scan probe.
    scanServer.on('connection', (s) => s.on('error', () => undefined));
    t0 = Date.now();
    await new Promise<void>((resolve) => {
      const c = net.connect({ host: '127.0.0.1', port: scanPort, localAddress: '127.0.0.1', localPort: scanClient }, () => {
        c.resetAndDestroy();
        resolve();
      });
      c.on('error', () => undefined);
    });
    record('CLiveConnectScan1', t0, Date.now(), scanClient, scanPort, {
      conn_state: 'RSTO', history: 'ShAR', orig_bytes: 0, resp_bytes: 0, orig_pkts: 3, orig_ip_bytes: 152, resp_pkts: 1, resp_ip_bytes: 60,
    });

    // Stop the capture once the last RST is through tcpdump (--immediate-mode: libpcap hands each
    // packet over at once instead of when its ring block times out): the pipe ends, headers sends
    // what it holds and exits.
    await new Promise((r) => setTimeout(r, 1000));
    dump.child.kill('SIGTERM');
    expect(await dump.exited).toBe(0);
    tcpdump = undefined;
    const headersCode = await headers.exited;
    // The three connections are 14 packets (closed port: SYN, RST; abort: SYN, SYN-ACK, ACK, data,
    // ACK, data, ACK, RST; scan: SYN, SYN-ACK, ACK, RST); default sampling keeps their 7 SYN/RSTs.
    expect({ code: headersCode, stderr: headers.stderr() }).toEqual({ code: 0, stderr: expect.stringMatching(/TCP packets\s+(1[4-9]|[2-9]\d)\n/) as unknown });

    // The headers on Kafka are those of the three connections, every SYN/FIN/RST among them.
    const captured = decodeAll(await readTopic(kafka, n.headers, `${n.group}-hdr`, (v) => v.length > 0), n.headers).flatMap((d) => (d.ok ? [d.value] : []));
    const rsts = captured.filter((h) => (h.tcpFlags & 0x04) !== 0);
    expect(rsts.map((h) => `${h.srcPort}>${h.dstPort}`).sort()).toEqual([`${closedPort}>${closedClient}`, `${abortPort}>${abortClient}`, `${scanClient}>${scanPort}`].sort());
    expect(captured.every((h) => h.sensor === sensor && h.ipTtl === 64)).toBe(true);

    await produceValues(kafka, n.conn, conns.map((c) => Buffer.from(JSON.stringify(c))));
    running = await startPipeline(testConfig(n, { ZEEK_RST_CORRELATE_GRACE_MS: '1000', ZEEK_RST_CORRELATE_LATE_WINDOW_MS: '5000' }));
    const r = running;
    await waitFor(async () => (await connCount(es, n)) === 3 && r.status().pendingConns === 0 && r.status().sinkPending === 0, {
      timeoutMs: 60_000, what: `3 documents in ${n.prefix}-conn`,
    });
    expect(await r.stop()).toBe(0);
    running = undefined;
    const res = await es.search({ index: `${n.prefix}-conn`, size: 10, query: { match_all: {} } });
    const got = res.hits.hits.map((hit) => {
      const d = hit._source as { zeek: { session_id: string }; rst: { verdict?: string; origin?: string; headers?: { sampled?: boolean } } };
      return [d.zeek.session_id, d.rst.verdict, d.rst.origin, d.rst.headers?.sampled];
    });
    expect(got.sort()).toEqual([
      ['CLiveClosedPort1', 'closed_port', 'endpoint', true],
      ['CLiveConnectScan1', 'connect_scan', 'endpoint', true],
      ['CLiveServerAbort1', 'server_abort', 'endpoint', true],
    ]);
  });
});
