/**
 * The corpus, produced to Kafka, ends up in Elasticsearch as one document per conn record, and
 * each indexed `_source` equals what `zeek-rst classify` prints for the same files.
 *
 * Zeek's btests reuse uids across traces (the same seed), so every case gets its own observer
 * (`_system_name`, as zeek-kafka writes it): ids are per observer and uid (docs/fields.md).
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Client } from '@elastic/elasticsearch';
import type { Kafka } from 'kafkajs';
import { startPipeline, type RunningPipeline } from '../../src/cli/run';
import { loadConfig } from '../../src/config/load';
import { waitFor } from '../helpers/wait';
import { CORPUS, connCount, createTopics, esClient, kafkaClient, documentIdOf, spawnCli, testEnv, testNames, withObserver } from './pipeline-harness';

const CONN_CASES = [
  'ftp-auth-tls-server-rst', 'http-to-ssh-server-rst', 'imap-starttls-teardown-rst', 'irc-starttls-teardown-rst', 'ldap-idle-client-rst',
  'modbus-p502-scan-rst', 'pop3-fin-then-rst', 'pop3-rej', 'retransmit-then-rst', 'ssh-server-rst', 'teredo-orphan-rst', 'zeek-docs-json-reference',
] as const;
const WEIRD_CASES = ['pop3-fin-then-rst', 'bad-checksums'] as const;

describe('pipeline: corpus to Elasticsearch', () => {
  const n = testNames('corpus');
  let kafka: Kafka;
  let es: Client;
  let running: RunningPipeline | undefined;
  const dir = mkdtempSync(path.join(tmpdir(), 'zeek-rst-corpus-'));
  const connFile = path.join(dir, 'conn.json');
  const weirdFile = path.join(dir, 'weird.json');
  const configFile = path.join(dir, 'zeek-rst.yaml');
  const headerFiles: string[] = [];

  beforeAll(async () => {
    kafka = kafkaClient();
    es = esClient();
    writeFileSync(connFile, `${CONN_CASES.flatMap((c) => withObserver(path.join(CORPUS, c, 'conn.json'), c)).join('\n')}\n`);
    writeFileSync(weirdFile, `${WEIRD_CASES.flatMap((c) => withObserver(path.join(CORPUS, c, 'weird.json'), c)).join('\n')}\n`);
    for (const c of [...CONN_CASES, 'bad-checksums']) {
      for (const f of readdirHeaders(path.join(CORPUS, c))) {
        const copy = path.join(dir, `${c}-${path.basename(f)}`);
        writeFileSync(copy, `${withObserver(f, c, 'sensor').join('\n')}\n`);
        headerFiles.push(copy);
      }
    }
    // One configuration file for both commands: the oracle runs with the pipeline's settings.
    writeFileSync(configFile, 'correlate:\n  graceMs: 3000\n  lateWindowMs: 60000\nclassify:\n  idleThresholdByPortS: { 389: 100 }\n');
    await createTopics(kafka, n);
  });

  afterAll(async () => {
    if (running !== undefined) await running.stop();
    await es.close();
  });

  it('indexes one document per conn record, equal to what classify prints', async () => {
    const classify = spawnCli(['classify', '--config', configFile, '--conn', connFile, '--weird', weirdFile, ...headerFiles.flatMap((f) => ['--headers', f])], {});
    const { code } = await classify.exited;
    expect(code).toBe(0);
    const expected = new Map<string, unknown>();
    for (const line of classify.stdout().split('\n')) {
      if (!line.startsWith('{')) continue;
      const doc: unknown = JSON.parse(line);
      expected.set(documentIdOf(doc), doc);
    }
    const connRecords = readFileSync(connFile, 'utf8').split('\n').filter((l) => l !== '').length;
    // Every conn record has its own (observer, uid): one document each.
    expect(expected.size).toBe(connRecords);

    // Evidence first, as a sensor's headers and weirds usually arrive around their conns; the
    // grace below covers the rest.
    const env = testEnv(n);
    for (const [topic, files] of [[n.headers, headerFiles], [n.weird, [weirdFile]], [n.conn, [connFile]]] as const) {
      const p = spawnCli(['produce', '--topic', topic, ...files], env);
      expect((await p.exited).code).toBe(0);
    }

    running = await startPipeline(loadConfig(configFile, testEnv(n, { ZEEK_RST_CORRELATE_GRACE_MS: '', ZEEK_RST_CORRELATE_LATE_WINDOW_MS: '' })));
    const r = running;
    await waitFor(async () => (await connCount(es, n)) === expected.size && r.status().pendingConns === 0 && r.status().sinkPending === 0, {
      timeoutMs: 60_000,
      what: `${expected.size} documents in ${n.prefix}-conn`,
    });
    expect(await r.stop()).toBe(0);
    running = undefined;

    const res = await es.search({ index: `${n.prefix}-conn`, size: 1000, query: { match_all: {} } });
    const indexed = new Map(res.hits.hits.map((h) => [h._id, h._source]));
    expect(indexed.size).toBe(expected.size);
    for (const [id, doc] of expected) expect({ id, doc: indexed.get(id) }).toEqual({ id, doc });
  });
});

function readdirHeaders(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.headers.jsonl')).map((f) => path.join(dir, f));
}
