/**
 * The pipeline against the secure stack: `setup`, `produce` and `run` over SASL_SSL
 * (SCRAM-SHA-512, the test CA) to Kafka and an API key over TLS to Elasticsearch (the key that
 * `up --secure` made, limited to the pipeline's role), with the minimal ACLs and the role of
 * README "Production". The corpus goes through and every document
 * equals what `zeek-rst classify` prints; a dead letter is written with the DLQ ACL alone.
 * Secrets come from files (`*File`) and from the environment, and none of them appears in
 * anything the processes printed, served on /metrics or wrote to the dead-letter topic.
 */
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Client } from '@elastic/elasticsearch';
import type { Kafka } from 'kafkajs';
import { adminEs, adminKafka, allSecrets, createSecureTopics, esApiKeyEnv, kafkaAuthEnv, secureBaseEnv, secureNames, secureStack } from '../helpers/secure-stack';
import { waitFor } from '../helpers/wait';
import { CORPUS, committedOffsets, documentIdOf, endOffsets, readDeadLetters, spawnCli, withObserver, type Child } from '../integration/pipeline-harness';

const CONN_CASES = ['ftp-auth-tls-server-rst', 'http-to-ssh-server-rst', 'ldap-idle-client-rst', 'pop3-fin-then-rst', 'pop3-rej', 'retransmit-then-rst', 'ssh-server-rst', 'teredo-orphan-rst'] as const;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => {
        resolve(port);
      });
    });
  });
}

describe('secure stack: setup, produce and run with SCRAM + TLS and Elasticsearch security', () => {
  const s = secureStack();
  const n = secureNames('corpus');
  const dir = mkdtempSync(path.join(tmpdir(), 'zeek-rst-secure-'));
  const connFile = path.join(dir, 'conn.json');
  const kafkaPasswordFile = path.join(dir, 'kafka-password');
  const esApiKeyFile = path.join(dir, 'es-api-key');
  const captured: string[] = [];
  let kafka: Kafka;
  let es: Client;
  let run: Child | undefined;

  /** Waits for the child, keeps what it printed, and shows its stderr when it failed. */
  const remember = async (child: Child): Promise<{ code: number | null; stderr?: string }> => {
    const exit = await child.exited;
    captured.push(child.stdout(), child.stderr());
    return exit.code === 0 ? { code: 0 } : { code: exit.code, stderr: child.stderr() };
  };

  beforeAll(async () => {
    kafka = adminKafka(s);
    es = adminEs(s);
    writeFileSync(connFile, `${CONN_CASES.flatMap((c) => withObserver(path.join(CORPUS, c, 'conn.json'), c)).join('\n')}\n`);
    writeFileSync(kafkaPasswordFile, `${s.credentials.kafka.pipeline.password}\n`, { mode: 0o600 });
    writeFileSync(esApiKeyFile, `${s.pipelineApiKey}\n`, { mode: 0o600 });
    chmodSync(kafkaPasswordFile, 0o600);
    chmodSync(esApiKeyFile, 0o600);
    await createSecureTopics(kafka, s, n);
  });

  afterAll(async () => {
    if (run !== undefined && run.process.exitCode === null) {
      run.process.kill('SIGKILL');
      await run.exited;
    }
    await es.close();
  });

  it('indexes the corpus with the pipeline user, role and API key; commits everything; dead letters go through', async () => {
    const classify = spawnCli(['classify', '--conn', connFile], {});
    expect((await classify.exited).code).toBe(0);
    const expected = new Map<string, unknown>();
    for (const line of classify.stdout().split('\n')) {
      if (!line.startsWith('{')) continue;
      const doc: unknown = JSON.parse(line);
      expected.set(documentIdOf(doc), doc);
    }
    expect(expected.size).toBe(readFileSync(connFile, 'utf8').split('\n').filter((l) => l !== '').length);

    const base = secureBaseEnv(s, n);
    // setup: the API key from the environment.
    const setup = spawnCli(['setup'], { ...base, ...kafkaAuthEnv(s.credentials.kafka.sensor), ...esApiKeyEnv(s.pipelineApiKey) });
    expect(await remember(setup)).toEqual({ code: 0 });
    expect(setup.stdout()).toContain(`index template ${n.prefix}-conn`);

    // produce: the sensor user, its password from the environment; one record that is not JSON.
    const badFile = path.join(dir, 'bad.json');
    writeFileSync(badFile, 'this is not a zeek record\n');
    const sensorEnv = { ...base, ...kafkaAuthEnv(s.credentials.kafka.sensor) };
    const produce = spawnCli(['produce', '--topic', n.conn, connFile, badFile], sensorEnv);
    expect(await remember(produce)).toEqual({ code: 0 });
    expect(produce.stdout().trim()).toBe(String(expected.size + 1));

    // run: the Kafka password and the API key from files (mode 0600: no warning).
    const metricsPort = await freePort();
    run = spawnCli(['run'], {
      ...base,
      ZEEK_RST_KAFKA_SASL_MECHANISM: 'scram-sha-512',
      ZEEK_RST_KAFKA_SASL_USERNAME: s.credentials.kafka.pipeline.username,
      ZEEK_RST_KAFKA_SASL_PASSWORD_FILE: kafkaPasswordFile,
      ZEEK_RST_ES_API_KEY_FILE: esApiKeyFile,
      ZEEK_RST_METRICS_PORT: String(metricsPort),
    });
    const child = run;
    const count = async (): Promise<number> => {
      try {
        await es.indices.refresh({ index: `${n.prefix}-conn` });
        return (await es.count({ index: `${n.prefix}-conn` })).count;
      } catch {
        return 0;
      }
    };
    const ends = await endOffsets(kafka, n.conn);
    await waitFor(async () => {
      if (child.process.exitCode !== null) throw new Error(`run exited early: ${child.stderr()}`);
      if ((await count()) !== expected.size) return false;
      const committed = await committedOffsets(kafka, n.group, n.conn);
      return [...ends].every(([p, end]) => committed.get(p) === end);
    }, { timeoutMs: 90_000, intervalMs: 500, what: `${expected.size} documents in ${n.prefix}-conn and every conn offset committed` });
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    captured.push(metrics);
    expect(metrics).toMatch(/zeek_rst_documents_out_total \d+/);
    child.process.kill('SIGTERM');
    expect(await remember(child)).toEqual({ code: 0 });
    run = undefined;
    expect(child.stderr()).not.toContain('warning');

    const res = await es.search({ index: `${n.prefix}-conn`, size: 1000, query: { match_all: {} } });
    const indexed = new Map(res.hits.hits.map((h) => [h._id, h._source]));
    expect(indexed.size).toBe(expected.size);
    for (const [id, doc] of expected) expect({ id, doc: indexed.get(id) }).toEqual({ id, doc });

    const dead = await readDeadLetters(kafka, n, 1);
    expect(dead).toHaveLength(1);
    expect(dead[0]?.value.toString('utf8')).toBe('this is not a zeek record');
    for (const d of dead) captured.push(JSON.stringify(d.headers), d.value.toString('utf8'));
  });

  it('never printed, served or dead-lettered a secret', () => {
    const everything = captured.join('\n');
    expect(everything.length).toBeGreaterThan(1000);
    for (const secret of allSecrets(s)) expect(everything.includes(secret)).toBe(false);
  });
});
