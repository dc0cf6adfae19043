/**
 * Refused credentials against the secure stack. At start-up (wrong password, unknown user, a
 * user without ACLs, a group without its ACL, an untrusted CA for Kafka and for Elasticsearch,
 * a wrong Elasticsearch password, an API key the node does not know, an expired one, an
 * invalidated one, a role without index rights): the start fails with a stable error code,
 * committing nothing; `zeek-rst run` prints it on one line and exits 1 (three of the cases run
 * as that process, the others in this one: a process start costs seconds on a loaded machine).
 * Mid-stream (the Elasticsearch user is removed, or the API key invalidated, while it runs; a
 * user whose role has no index rights): it stops by itself with exit 1 and leaves the offsets
 * of what was not indexed uncommitted. Each time the next start with good credentials
 * completes the stream.
 * No secret appears in anything the processes printed.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { Client } from '@elastic/elasticsearch';
import type { Kafka } from 'kafkajs';
import { startPipeline } from '../../src/cli/run';
import { loadConfig } from '../../src/config/load';
import { isZeekRstError } from '../../src/errors';
import { createRootLogger } from '../../src/log';
import {
  adminEs, adminKafka, allSecrets, apiKeySecrets, awaitAuthentication, createApiKey, createSecureTopics, elasticsearchUsers, esApiKeyEnv, esAuthEnv, kafkaAuthEnv, secureBaseEnv,
  secureNames, secureStack, type SecureNames,
} from '../helpers/secure-stack';
import { waitFor } from '../helpers/wait';
import { committedOffsets, endOffsets, produceValues, rejectedConn, spawnCli, type Child } from '../integration/pipeline-harness';

const s = secureStack();
const captured: string[] = [];
const secrets = allSecrets(s);

function finished(child: Child): Promise<{ code: number | null; stderr: string }> {
  return child.exited.then(({ code }) => {
    captured.push(child.stdout(), child.stderr());
    return { code, stderr: child.stderr() };
  });
}

/** The line `zeek-rst run` printed for a refusal: `zeek-rst run: <message> (<CODE>)`. */
function refusalLine(stderr: string): string {
  return stderr.split('\n').find((l) => l.startsWith('zeek-rst run: ')) ?? stderr.split('\n').filter((l) => l.includes('"code":"ZRST_')).join('\n');
}

async function docCount(es: Client, n: SecureNames): Promise<number> {
  try {
    await es.indices.refresh({ index: `${n.prefix}-conn` });
    return (await es.count({ index: `${n.prefix}-conn` })).count;
  } catch {
    return 0;
  }
}

async function allCommitted(kafka: Kafka, n: SecureNames): Promise<boolean> {
  const ends = await endOffsets(kafka, n.conn);
  const committed = await committedOffsets(kafka, n.group, n.conn);
  return [...ends].every(([p, end]) => committed.get(p) === end);
}

/** A logger whose lines are kept for the secret check. */
function capturingLogger(): ReturnType<typeof createRootLogger> {
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      captured.push(chunk.toString('utf8'));
      done();
    },
  });
  return createRootLogger({ level: 'info', destination });
}

/** Runs the pipeline with good credentials until every record is a document and every offset committed, then stops it. */
async function completeWithGoodCredentials(kafka: Kafka, es: Client, n: SecureNames, expected: number): Promise<void> {
  const config = loadConfig(undefined, { ...secureBaseEnv(s, n), ...kafkaAuthEnv(s.credentials.kafka.pipeline), ...esAuthEnv(s.credentials.elasticsearch.pipeline) });
  const running = await startPipeline(config, { log: capturingLogger() });
  try {
    await waitFor(async () => {
      if (running.status().fatal !== undefined) throw new Error(`pipeline stopped: ${running.status().fatal ?? ''}`);
      return (await docCount(es, n)) === expected && (await allCommitted(kafka, n));
    }, { timeoutMs: 90_000, intervalMs: 500, what: `${expected} documents in ${n.prefix}-conn and every offset committed` });
  } finally {
    expect(await running.stop()).toBe(0);
  }
}

describe('secure stack: refused credentials', () => {
  let kafka: Kafka;
  let es: Client;
  const dir = mkdtempSync(path.join(tmpdir(), 'zeek-rst-refusals-'));

  beforeAll(() => {
    kafka = adminKafka(s);
    es = adminEs(s);
  });

  afterAll(async () => {
    await es.close();
  });

  it('exits 1 at start-up with a stable code for each refusal, commits nothing, and a good start then completes', async () => {
    const n = secureNames('refused');
    await createSecureTopics(kafka, s, n);
    const records = Array.from({ length: 20 }, (_, i) => rejectedConn(i, 'CRef', '10.51.0'));
    await produceValues(kafka, n.conn, records);
    const base = secureBaseEnv(s, n);
    const k = s.credentials.kafka;
    const e = s.credentials.elasticsearch;
    const goodKafka = kafkaAuthEnv(k.pipeline);
    const goodEs = esAuthEnv(e.pipeline);
    // A password file readable by others: a warning, then the wrong password is refused.
    const looseFile = path.join(dir, 'wrong-password');
    writeFileSync(looseFile, 'not-the-password\n');
    chmodSync(looseFile, 0o644);
    const unknownKey = Buffer.from(`${randomBytes(10).toString('hex')}:${randomBytes(16).toString('hex')}`).toString('base64');
    // Real keys of the node, with the pipeline's roles: one that expires at once, one invalidated.
    const expiredKey = await createApiKey(es, `${n.prefix}-expired`, { expiration: '1s' });
    const invalidatedKey = await createApiKey(es, `${n.prefix}-invalidated`);
    secrets.push(...apiKeySecrets(expiredKey.encoded), ...apiKeySecrets(invalidatedKey.encoded));
    await awaitAuthentication(s, { apiKey: invalidatedKey.encoded }, true);
    expect((await es.security.invalidateApiKey({ ids: [invalidatedKey.id] })).invalidated_api_keys).toEqual([invalidatedKey.id]);
    await Promise.all([expiredKey, invalidatedKey].map((key) => awaitAuthentication(s, { apiKey: key.encoded }, false)));
    type Case = { readonly name: string; readonly env: Record<string, string>; readonly code: string };
    const asProcess: readonly Case[] = [
      { name: 'Kafka: wrong password (from a 0644 file)', code: 'ZRST_KAFKA_AUTH_FAILED', env: { ...goodEs, ZEEK_RST_KAFKA_SASL_MECHANISM: 'scram-sha-512', ZEEK_RST_KAFKA_SASL_USERNAME: k.pipeline.username, ZEEK_RST_KAFKA_SASL_PASSWORD_FILE: looseFile } },
      { name: 'Kafka: consumer group without its ACL', code: 'ZRST_KAFKA_NOT_AUTHORIZED', env: {
          ...goodEs, ...goodKafka, ZEEK_RST_KAFKA_GROUP: `${n.group}-no-acl`,
          // The internal topics and the transactional ids keep their granted names: only the group's ACL is missing.
          ZEEK_RST_STATE_CHANGELOG_TOPIC: `${n.group}-correlator-changelog`, ZEEK_RST_PARTITIONING_REPARTITION_TOPIC: `${n.group}-repartition`,
          ZEEK_RST_STATE_TRANSACTIONAL_ID: `${n.group}-no-acl-writer`,
        } },
      { name: 'Elasticsearch: wrong password', code: 'ZRST_ES_AUTH_FAILED', env: { ...goodKafka, ...esAuthEnv({ username: e.pipeline.username, password: 'not-the-password' }) } },
    ];
    const inProcess: readonly Case[] = [
      { name: 'Kafka: unknown user', code: 'ZRST_KAFKA_AUTH_FAILED', env: { ...goodEs, ...kafkaAuthEnv({ username: 'zeekrst-nobody', password: k.pipeline.password }) } },
      { name: 'Kafka: user without any ACL', code: 'ZRST_KAFKA_NOT_AUTHORIZED', env: { ...goodEs, ...kafkaAuthEnv(k.noRights) } },
      { name: 'Kafka: untrusted certificate (another CA)', code: 'ZRST_TLS_UNTRUSTED', env: { ...goodEs, ...goodKafka, ZEEK_RST_KAFKA_CA_FILE: s.untrustedCaFile } },
      { name: 'Elasticsearch: untrusted certificate (another CA)', code: 'ZRST_TLS_UNTRUSTED', env: { ...goodKafka, ...goodEs, ZEEK_RST_ES_CA_FILE: s.untrustedCaFile } },
      { name: 'Elasticsearch: an API key the node does not know', code: 'ZRST_ES_AUTH_FAILED', env: { ...goodKafka, ...esApiKeyEnv(unknownKey) } },
      { name: 'Elasticsearch: an expired API key', code: 'ZRST_ES_AUTH_FAILED', env: { ...goodKafka, ...esApiKeyEnv(expiredKey.encoded) } },
      { name: 'Elasticsearch: an invalidated API key', code: 'ZRST_ES_AUTH_FAILED', env: { ...goodKafka, ...esApiKeyEnv(invalidatedKey.encoded) } },
      { name: 'Elasticsearch: a role without index rights', code: 'ZRST_ES_NOT_AUTHORIZED', env: { ...goodKafka, ...esAuthEnv(e.noIndex) } },
    ];
    const t0 = Date.now();
    const seconds = (): number => (Date.now() - t0) / 1000;
    const [processes, starts] = await Promise.all([
      Promise.all(asProcess.map(async (c) => ({ c, ...(await finished(spawnCli(['run'], { ...base, ...c.env }))), after: seconds() }))),
      Promise.all(inProcess.map(async (c) => {
        const warnings: string[] = [];
        const started = startPipeline(loadConfig(undefined, { ...base, ...c.env }, (w) => warnings.push(w)), { log: capturingLogger() });
        const err: unknown = await started.then(async (p) => {
          await p.stop();
          return new Error(`${c.name}: the pipeline started`);
        }, (x: unknown) => x);
        return { c, err, warnings, after: seconds() };
      })),
    ]);
    for (const { c, code, stderr, after } of processes) {
      const line = refusalLine(stderr);
      process.stderr.write(`refusal | ${c.name} | exit ${String(code)} after ${after.toFixed(1)} s | ${line}\n`);
      expect({ name: c.name, code, hasCode: line.includes(`(${c.code})`) }).toEqual({ name: c.name, code: 1, hasCode: true });
    }
    for (const { c, err, warnings, after } of starts) {
      // What `zeek-rst run` prints for it (src/cli/main.ts).
      const line = isZeekRstError(err) ? `zeek-rst run: ${err.message} (${err.code})` : String(err);
      captured.push(line);
      process.stderr.write(`refusal | ${c.name} | start-up rejected after ${after.toFixed(1)} s | ${line}\n`);
      expect({ name: c.name, code: isZeekRstError(err) ? err.code : String(err), warnings }).toEqual({ name: c.name, code: c.code, warnings: [] });
      // A refusal is told at once, not after the retries that an outage gets (an untrusted
      // Kafka certificate took 79 s before src/source/kafka.ts checked it first).
      expect({ name: c.name, quick: after < 20 }).toEqual({ name: c.name, quick: true });
    }
    expect(processes[0]?.stderr).toContain(`zeek-rst: warning: kafka.saslPasswordFile: ${looseFile} is readable or writable by group or others (mode 0644)`);
    expect(captured.join('\n')).not.toContain(unknownKey);

    // Nothing was committed, nothing indexed: the good start reads all 20 from the beginning.
    expect([...(await committedOffsets(kafka, n.group, n.conn)).values()].every((o) => o < 0)).toBe(true);
    expect(await docCount(es, n)).toBe(0);
    const good = Date.now();
    await completeWithGoodCredentials(kafka, es, n, records.length);
    process.stderr.write(`refusal | the good start completed in ${((Date.now() - good) / 1000).toFixed(1)} s\n`);
  }, 300_000);

  /** A credential of the pipeline's role that the test takes away while `run` uses it. */
  interface Revocable {
    readonly env: Record<string, string>;
    /** Takes it away, and returns once the node refuses it. */
    readonly revoke: () => Promise<void>;
  }
  const revocations: readonly (readonly [string, () => Promise<Revocable>])[] = [
    ['its Elasticsearch user is removed', async () => {
      const user = { username: `zrst-revoked-${randomBytes(4).toString('hex')}`, password: randomBytes(16).toString('hex') };
      secrets.push(user.password);
      elasticsearchUsers(['useradd', user.username, '-p', user.password, '-r', 'zeek_rst_pipeline_tests']);
      await awaitAuthentication(s, user, true);
      return {
        env: esAuthEnv(user),
        revoke: async () => {
          elasticsearchUsers(['userdel', user.username]);
          await awaitAuthentication(s, user, false);
        },
      };
    }],
    ['its API key is invalidated', async () => {
      const key = await createApiKey(es, `zrst-revoked-${randomBytes(4).toString('hex')}`);
      secrets.push(...apiKeySecrets(key.encoded));
      await awaitAuthentication(s, { apiKey: key.encoded }, true);
      return {
        env: esApiKeyEnv(key.encoded),
        revoke: async () => {
          await es.security.invalidateApiKey({ ids: [key.id] });
          await awaitAuthentication(s, { apiKey: key.encoded }, false);
        },
      };
    }],
  ];

  it.each(revocations)('stops by itself when %s mid-stream; what was not indexed stays uncommitted', async (what, make) => {
    const n = secureNames('revoked');
    await createSecureTopics(kafka, s, n);
    const credential = await make();
    const first = Array.from({ length: 10 }, (_, i) => rejectedConn(i, 'CRev', '10.52.0'));
    const second = Array.from({ length: 10 }, (_, i) => rejectedConn(i + 10, 'CRev', '10.52.0'));
    await produceValues(kafka, n.conn, first);
    const child = spawnCli(['run'], { ...secureBaseEnv(s, n), ...kafkaAuthEnv(s.credentials.kafka.pipeline), ...credential.env });
    // In repartition mode (the default) the input offsets are committed once the repartition
    // topic holds the records; what waits for Elasticsearch is the repartition topic's offsets
    // (docs/scale-out.md).
    const repartition = `${n.group}-repartition`;
    const repartitionCommitted = async (): Promise<boolean> => {
      const committed = await committedOffsets(kafka, n.group, repartition);
      return [...(await endOffsets(kafka, repartition))].every(([p, end]) => end === 0 || committed.get(p) === end);
    };
    await waitFor(async () => {
      if (child.process.exitCode !== null) throw new Error(`run exited: ${child.stderr()}`);
      return (await docCount(es, n)) === first.length && (await allCommitted(kafka, n)) && (await repartitionCommitted());
    }, { timeoutMs: 90_000, intervalMs: 500, what: `the first ${first.length} documents indexed and committed` });
    const committedBefore = await committedOffsets(kafka, n.group, repartition);

    await credential.revoke();
    await produceValues(kafka, n.conn, second);
    const { code, stderr } = await finished(child);
    const line = refusalLine(stderr);
    process.stderr.write(`refusal | Elasticsearch: ${what} mid-stream | exit ${String(code)} | ${line}\n`);
    expect(code).toBe(1);
    expect(line).toContain('ZRST_ES_AUTH_FAILED');
    // The second batch is neither indexed nor committed: its re-keyed records wait in the
    // repartition topic above the offsets committed before.
    expect(await committedOffsets(kafka, n.group, repartition)).toEqual(committedBefore);
    const ends = await endOffsets(kafka, repartition);
    expect([...ends].some(([p, end]) => (committedBefore.get(p) ?? -1) < end)).toBe(true);
    expect(await docCount(es, n)).toBe(first.length);
    await completeWithGoodCredentials(kafka, es, n, first.length + second.length);
  });

  it('stops by itself when its role has no index rights, committing nothing that waits for Elasticsearch', async () => {
    const n = secureNames('noindex');
    await createSecureTopics(kafka, s, n);
    const records = Array.from({ length: 10 }, (_, i) => rejectedConn(i, 'CNoi', '10.53.0'));
    await produceValues(kafka, n.conn, records);
    // Templates left out: the user could not check them; the first bulk request is refused item by item.
    const child = spawnCli(['run'], { ...secureBaseEnv(s, n), ...kafkaAuthEnv(s.credentials.kafka.pipeline), ...esAuthEnv(s.credentials.elasticsearch.noIndex), ZEEK_RST_ES_INSTALL_TEMPLATES: 'false' });
    const { code, stderr } = await finished(child);
    const line = refusalLine(stderr);
    process.stderr.write(`refusal | Elasticsearch: role without index rights, mid-stream | exit ${String(code)} | ${line}\n`);
    expect(code).toBe(1);
    expect(line).toContain('ZRST_ES_NOT_AUTHORIZED');
    // Repartition mode: the input offsets may be committed once the repartition topic holds the
    // records (whether that happened before the refusal is a race); the re-keyed records, which
    // wait for Elasticsearch, must stay uncommitted there.
    const repartition = `${n.group}-repartition`;
    expect([...(await committedOffsets(kafka, n.group, repartition)).values()].every((o) => o < 0)).toBe(true);
    expect([...(await endOffsets(kafka, repartition)).values()].reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    expect(await docCount(es, n)).toBe(0);
    await completeWithGoodCredentials(kafka, es, n, records.length);
  });

  it('never printed a secret', () => {
    const everything = captured.join('\n');
    expect(everything).toContain('ZRST_');
    for (const secret of secrets) expect(everything.includes(secret)).toBe(false);
  });
});
