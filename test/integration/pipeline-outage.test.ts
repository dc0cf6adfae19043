/**
 * Elasticsearch unavailable for 20 s in the middle of a stream: the pipeline stops consuming
 * (backpressure), retries with backoff, recovers by itself and loses nothing.
 *
 * The outage is made with a TCP relay in front of the real node that this test closes (every
 * connection refused and every open one reset) and reopens on the same port. Stopping the shared
 * node itself would break the other integration suites running in parallel; to the client a
 * refused port is exactly what a stopped node looks like.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { Client } from '@elastic/elasticsearch';
import type { Kafka } from 'kafkajs';
import { startPipeline, type RunningPipeline } from '../../src/cli/run';
import { testStack } from '../helpers/stack-env';
import { waitFor } from '../helpers/wait';
import { connCount, createTopics, esClient, kafkaClient, produceValues, testConfig, testNames } from './pipeline-harness';

const OUTAGE_MS = 20_000;

interface Relay {
  readonly port: number;
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

async function createRelay(target: URL): Promise<Relay> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const listen = async (): Promise<void> => {
    const s = createServer((client) => {
      const upstream = connect(Number(target.port), target.hostname);
      for (const sock of [client, upstream]) {
        sockets.add(sock);
        sock.on('close', () => sockets.delete(sock));
        sock.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => s.listen(port, '127.0.0.1', resolve));
    const address = s.address();
    if (typeof address === 'object' && address !== null) port = address.port;
    server = s;
  };
  const down = async (): Promise<void> => {
    const s = server;
    server = undefined;
    for (const sock of sockets) sock.destroy();
    if (s !== undefined) await new Promise<void>((resolve) => {
        s.close(() => {
          resolve();
        });
      });
  };
  await listen();
  return { get port() { return port; }, down, up: listen, close: down };
}

function conn(i: number): Buffer {
  return Buffer.from(
    JSON.stringify({
      ts: 1711036787.549335 + i / 1000, uid: `COut${i}`, 'id.orig_h': '10.2.0.1', 'id.orig_p': 20000 + (i % 40000), 'id.resp_h': '10.2.0.2', 'id.resp_p': 443, proto: 'tcp',
      conn_state: 'REJ', missed_bytes: 0, history: 'Sr', orig_pkts: 1, orig_ip_bytes: 60, resp_pkts: 1, resp_ip_bytes: 40,
    }),
  );
}

describe('pipeline: Elasticsearch outage', () => {
  const n = testNames('outage');
  let kafka: Kafka;
  let es: Client;
  let relay: Relay | undefined;
  let running: RunningPipeline | undefined;

  beforeAll(async () => {
    kafka = kafkaClient();
    es = esClient();
    await createTopics(kafka, n, { conn: 2 });
  });

  afterAll(async () => {
    if (running !== undefined) await running.stop();
    if (relay !== undefined) await relay.close();
    await es.close();
  });

  it('pauses while Elasticsearch is away, then catches up and loses nothing', async () => {
    const target = new URL(testStack().esUrl);
    const r = await createRelay(target);
    relay = r;
    const maxPending = 1000;
    running = await startPipeline(
      testConfig(n, {
        ZEEK_RST_ES_NODE: `http://127.0.0.1:${r.port}`,
        ZEEK_RST_SINK_MAX_PENDING_DOCS: String(maxPending),
        ZEEK_RST_SINK_BULK_MAX_DOCS: '200',
        ZEEK_RST_SINK_RETRY_MAX_MS: '2000',
        ZEEK_RST_ES_REQUEST_TIMEOUT_MS: '2000',
      }),
    );
    const p = running;
    await produceValues(kafka, n.conn, Array.from({ length: 3000 }, (_, i) => conn(i)));
    await waitFor(async () => (await connCount(es, n)) === 3000, { timeoutMs: 30_000, what: 'the first 3,000 documents' });

    await r.down();
    const outageEnds = Date.now() + OUTAGE_MS;
    await produceValues(kafka, n.conn, Array.from({ length: 7000 }, (_, i) => conn(3000 + i)));
    // Backpressure: the sink holds at most maxPending documents and the consumer stops reading.
    const paused = await waitFor(() => {
      const s = p.status();
      return s.paused && s.lag > 0 && s.sinkPending > 0 ? s : undefined;
    }, { timeoutMs: 15_000, what: 'the consumer paused with documents waiting and messages left to read' });
    expect(paused.sinkPending + paused.pendingConns).toBeLessThanOrEqual(maxPending);
    const port = p.metricsPort ?? 0;
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).status === 503, { timeoutMs: 10_000, what: '/healthz to report the outage' });
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(/zeek_rst_bulk_retries_total\{scope="request"\} [1-9]/);
    expect(await connCount(es, n)).toBe(3000);
    await waitFor(() => Date.now() >= outageEnds, { timeoutMs: OUTAGE_MS + 1000, intervalMs: 250, what: 'the end of the outage' });
    expect(p.status().lag).toBeGreaterThan(0);
    expect(p.status().fatal).toBeUndefined();

    await r.up();
    await waitFor(async () => (await connCount(es, n)) === 10_000, { timeoutMs: 60_000, what: 'all 10,000 documents after the outage' });
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    expect(await p.stop()).toBe(0);
    running = undefined;
    expect(await connCount(es, n)).toBe(10_000);
  });
});
