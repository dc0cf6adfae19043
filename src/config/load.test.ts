import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isZeekRstError } from '../errors';
import { createStackConfig, stackEndpoints } from '../../scripts/stack/config';
import { checkSecretFileMode, loadConfig, resolveConfig, type ConfigInputs } from './load';
import { stageSettingsOf } from './stages';
import { CONFIG_SCHEMA, LOCAL_STACK, describeConfig, listFields } from './schema';

const noSecrets = (p: string): string => {
  throw Object.assign(new Error(`no such file ${p}`), { code: 'ENOENT' });
};
const inputs = (over: Partial<ConfigInputs> = {}): ConfigInputs => ({ env: {}, readSecretFile: noSecrets, ...over });

function problemsOf(over: Partial<ConfigInputs>): readonly string[] {
  const r = resolveConfig(inputs(over));
  if (r.ok) throw new Error('expected the configuration to be rejected');
  return r.problems;
}

describe('stage settings reachable from the configuration', () => {
  it('reads per-port idle thresholds from YAML and from the environment', () => {
    const fromYaml = resolveConfig(inputs({ yaml: { classify: { idleThresholdByPortS: { 22: 900, 3389: 1800 } } } }));
    if (!fromYaml.ok) throw new Error(fromYaml.problems.join('; '));
    expect(stageSettingsOf(fromYaml.config, []).pipeline.classify.idleThresholdByPortS).toEqual({ 22: 900, 3389: 1800 });
    const fromEnv = resolveConfig(inputs({ env: { ZEEK_RST_CLASSIFY_IDLE_THRESHOLD_BY_PORT_S: '22=600, 23=60' } }));
    if (!fromEnv.ok) throw new Error(fromEnv.problems.join('; '));
    expect(stageSettingsOf(fromEnv.config, []).pipeline.classify.idleThresholdByPortS).toEqual({ 22: 600, 23: 60 });
  });

  it('names the bad entry of a per-port map', () => {
    expect(problemsOf({ yaml: { classify: { idleThresholdByPortS: { ssh: 900 } } } })).toEqual([expect.stringMatching(/^classify\.idleThresholdByPortS: key 'ssh' is not a port/)]);
    expect(problemsOf({ yaml: { classify: { idleThresholdByPortS: { 22: 0 } } } })).toEqual([expect.stringMatching(/port 22: must be an integer between 1 and 86400 s, got number 0/)]);
    expect(problemsOf({ env: { ZEEK_RST_CLASSIFY_IDLE_THRESHOLD_BY_PORT_S: '22:900' } })).toEqual([expect.stringMatching(/expected port=value pairs/)]);
  });

  it('maps every correlate and classify field onto a stage setting', () => {
    const r = resolveConfig(inputs({ yaml: { correlate: { headerBeforeMs: 250, maxWeirdsPerUid: 7, hostSamples: 9, maxRecentCloses: 11 }, classify: { rstSeqSpread: 5, connectScanMaxDurationS: 3, idleMaxPacketsPerSide: 4 } } }));
    if (!r.ok) throw new Error(r.problems.join('; '));
    const s = stageSettingsOf(r.config, []).pipeline;
    // maxRecentCloses is a cap: each of the 12 default correlation partitions holds its share.
    expect([s.correlate.headerBeforeUs, s.correlate.maxWeirdsPerUid, s.correlate.hostSamples, s.correlate.maxRecentCloses]).toEqual([250_000, 7, 9, 1]);
    expect([s.classify.rstSeqSpread, s.classify.connectScanMaxDurationS, s.classify.idleMaxPacketsPerSide]).toEqual([5, 3, 4]);
  });

  it('divides the correlator caps among the correlation partitions, and direct mode has one', () => {
    const r = resolveConfig(inputs({ yaml: { correlate: { maxHeaders: 1000, maxPendingConns: 10 }, partitioning: { partitions: 4 } } }));
    if (!r.ok) throw new Error(r.problems.join('; '));
    const s = stageSettingsOf(r.config, []);
    expect([s.partitions, s.pipeline.correlate.maxHeaders, s.pipeline.correlate.maxPendingConns]).toEqual([4, 250, 3]);
    const d = resolveConfig(inputs({ yaml: { correlate: { maxHeaders: 1000 }, partitioning: { mode: 'direct', partitions: 4 } } }));
    if (!d.ok) throw new Error(d.problems.join('; '));
    const sd = stageSettingsOf(d.config, []);
    expect([sd.partitions, sd.pipeline.correlate.maxHeaders]).toEqual([1, 1000]);
  });
});

describe('resolveConfig', () => {
  it('gives the local-stack defaults with no file and no environment', () => {
    const r = resolveConfig(inputs());
    if (!r.ok) throw new Error(r.problems.join('; '));
    expect(r.config.kafka.brokers).toEqual([LOCAL_STACK.kafkaBroker]);
    expect(r.config.elasticsearch.node).toBe(LOCAL_STACK.elasticsearchNode);
    expect(r.config.topics).toEqual({ conn: 'zeek-conn', weird: 'zeek-weird', headers: 'zeek-headers', deadLetter: 'zeek-rst-dlq' });
    expect(r.config.kafka.saslMechanism).toBeUndefined();
    expect(r.config.metrics.host).toBe('127.0.0.1');
  });

  it('points at the local stack that scripts/stack starts by default', () => {
    const stack = stackEndpoints(createStackConfig('/repo', {}));
    expect([LOCAL_STACK.kafkaBroker]).toEqual(stack.kafkaBrokers);
    expect(LOCAL_STACK.elasticsearchNode).toBe(stack.esUrl);
  });

  it('freezes the result at every level', () => {
    const r = resolveConfig(inputs());
    if (!r.ok) throw new Error('rejected');
    expect(Object.isFrozen(r.config)).toBe(true);
    expect(Object.isFrozen(r.config.kafka)).toBe(true);
    expect(Object.isFrozen(r.config.kafka.brokers)).toBe(true);
  });

  it('lets the environment override the YAML file', () => {
    const r = resolveConfig(
      inputs({
        yaml: { kafka: { brokers: ['a:1'], group: 'from-yaml' }, topics: { conn: 'c1' } },
        env: { ZEEK_RST_KAFKA_BROKERS: 'b:2, c:3', ZEEK_RST_TOPIC_CONN: 'c2', ZEEK_RST_SINK_BULK_MAX_DOCS: '50', ZEEK_RST_KAFKA_SSL: 'yes' },
      }),
    );
    if (!r.ok) throw new Error(r.problems.join('; '));
    expect(r.config.kafka.brokers).toEqual(['b:2', 'c:3']);
    expect(r.config.kafka.group).toBe('from-yaml');
    expect(r.config.topics.conn).toBe('c2');
    expect(r.config.sink.bulkMaxDocs).toBe(50);
    expect(r.config.kafka.ssl).toBe(true);
  });

  it('checks every local network is a CIDR', () => {
    expect(problemsOf({ env: { ZEEK_RST_NETWORK_LOCAL_NETWORKS: '10.0.0.0/8,10.0.0.0/33' } })).toEqual([expect.stringMatching(/^network\.localNetworks: '10\.0\.0\.0\/33' is not a CIDR/)]);
    const r = resolveConfig(inputs({ yaml: { network: { localNetworks: ['10.0.0.0/8', '2001:db8::/32'] } } }));
    expect(r.ok && r.config.network.localNetworks).toEqual(['10.0.0.0/8', '2001:db8::/32']);
  });

  it('rejects unknown keys and names the known ones', () => {
    const problems = problemsOf({ yaml: { kafka: { brokerz: ['a:1'] }, sinks: {} } });
    expect(problems).toEqual(
      expect.arrayContaining([expect.stringMatching(/^kafka\.brokerz: unknown key.*known keys here: brokers/), expect.stringMatching(/^sinks: unknown key/)]),
    );
  });

  it('names the field, the bad value and the range', () => {
    expect(problemsOf({ yaml: { sink: { bulkMaxDocs: 0 } } })).toEqual([expect.stringMatching(/^sink\.bulkMaxDocs: must be between 1 and 100000 documents, got 0/)]);
    expect(problemsOf({ env: { ZEEK_RST_SINK_FLUSH_INTERVAL_MS: 'soon' } })).toEqual([expect.stringMatching(/^sink\.flushIntervalMs: expected an integer, got 'soon' \(from ZEEK_RST_SINK_FLUSH_INTERVAL_MS/)]);
    expect(problemsOf({ yaml: { log: { level: 'loud' } } })).toEqual([expect.stringMatching(/^log\.level: expected one of fatal, error/)]);
    expect(problemsOf({ yaml: { kafka: { brokers: 'no-port' } } })).toEqual([expect.stringMatching(/kafka\.brokers: 'no-port' is not host:port/)]);
  });

  it('reports every problem at once', () => {
    expect(problemsOf({ yaml: { sink: { bulkMaxDocs: -1, flushIntervalMs: 'x' }, metrics: { port: 70000 } } })).toHaveLength(3);
  });

  it('reads secrets from files and strips the trailing newline', () => {
    const r = resolveConfig(
      inputs({
        env: { ZEEK_RST_ES_API_KEY_FILE: '/run/secrets/es', ZEEK_RST_KAFKA_SASL_MECHANISM: 'scram-sha-512', ZEEK_RST_KAFKA_SASL_USERNAME: 'zeek', ZEEK_RST_KAFKA_SASL_PASSWORD_FILE: '/run/secrets/kafka' },
        readSecretFile: (p) => (p === '/run/secrets/es' ? 'aWQ6a2V5\n' : 's3cret\n'),
      }),
    );
    if (!r.ok) throw new Error(r.problems.join('; '));
    expect(r.config.elasticsearch.apiKey).toBe('aWQ6a2V5');
    expect(r.config.kafka.saslPassword).toBe('s3cret');
    expect(r.config.kafka.saslMechanism).toBe('scram-sha-512');
  });

  it('rejects a secret given twice, an unreadable secret file, and half-configured auth', () => {
    expect(problemsOf({ env: { ZEEK_RST_ES_PASSWORD: 'a', ZEEK_RST_ES_PASSWORD_FILE: '/x', ZEEK_RST_ES_USERNAME: 'u' } })).toEqual([
      'elasticsearch.password and elasticsearch.passwordFile are both set: keep one of them',
    ]);
    expect(problemsOf({ env: { ZEEK_RST_ES_API_KEY_FILE: '/nope' } })).toEqual([expect.stringMatching(/elasticsearch\.apiKeyFile: cannot read '\/nope' \(ENOENT\)/)]);
    expect(problemsOf({ env: { ZEEK_RST_KAFKA_SASL_MECHANISM: 'plain' } })).toEqual([expect.stringMatching(/saslMechanism is set: also set kafka\.saslUsername/)]);
    expect(problemsOf({ env: { ZEEK_RST_KAFKA_SASL_MECHANISM: 'gssapi' } })).toEqual([expect.stringMatching(/expected one of plain, scram-sha-256, scram-sha-512, got 'gssapi'/)]);
    expect(problemsOf({ env: { ZEEK_RST_ES_USERNAME: 'elastic' } })).toEqual([expect.stringMatching(/username and elasticsearch\.password go together/)]);
    expect(problemsOf({ env: { ZEEK_RST_ES_API_KEY: 'k', ZEEK_RST_ES_USERNAME: 'u', ZEEK_RST_ES_PASSWORD: 'p' } })).toEqual([expect.stringMatching(/both an API key and basic auth/)]);
  });

  it('rejects URLs with credentials, bad index prefixes and a dead-letter topic that is an input', () => {
    expect(problemsOf({ env: { ZEEK_RST_ES_NODE: 'http://elastic:pw@h:9200' } })).toEqual([expect.stringMatching(/not in the URL/)]);
    expect(problemsOf({ env: { ZEEK_RST_ES_NODE: 'h:9200' } })).toEqual([expect.stringMatching(/is not an http\(s\) URL/)]);
    expect(problemsOf({ env: { ZEEK_RST_ES_INDEX_PREFIX: 'Zeek' } })).toEqual([expect.stringMatching(/indexPrefix: 'Zeek'/)]);
    expect(problemsOf({ yaml: { topics: { deadLetter: 'zeek-conn' } } })).toEqual([expect.stringMatching(/topics\.deadLetter must differ/)]);
  });

  it('checks the correlator windows and the Confluent schema list', () => {
    expect(problemsOf({ env: { ZEEK_RST_CORRELATE_GRACE_MS: '600000' } })).toEqual([expect.stringMatching(/graceMs must be shorter than correlate\.lateWindowMs/)]);
    expect(problemsOf({ yaml: { decode: { confluentSchemas: ['x.avsc'] } } })).toEqual([expect.stringMatching(/'x\.avsc' is not id=path/)]);
    const r = resolveConfig(inputs({ yaml: { decode: { confluentSchemas: ['7=a.avsc'] } } }));
    expect(r.ok && r.config.decode.confluentSchemas).toEqual(['7=a.avsc']);
    const w = resolveConfig(inputs({ env: { ZEEK_RST_DECODE_WRITER_SCHEMAS: 'v2.avsc, sensors/v0.avsc' } }));
    expect(w.ok && w.config.decode.writerSchemas).toEqual(['v2.avsc', 'sensors/v0.avsc']);
  });

  it('rejects a top level that is not a mapping', () => {
    expect(problemsOf({ yaml: ['a'] })).toEqual([expect.stringMatching(/the top level: expected a mapping/)]);
  });
});

describe('schema documentation', () => {
  it('has a doc line and a unique ZEEK_RST_ env name for every field', () => {
    const fields = listFields(CONFIG_SCHEMA);
    expect(fields.length).toBeGreaterThan(30);
    const envs = fields.map((f) => f.field.env);
    expect(new Set(envs).size).toBe(envs.length);
    for (const { path, field } of fields) {
      expect(field.env).toMatch(/^ZEEK_RST_[A-Z0-9_]+$/);
      expect(field.doc.length).toBeGreaterThan(10);
      expect(path).toMatch(/^[a-z]+\.[a-zA-Z]+$/);
    }
  });

  it('never prints a secret default in the table', () => {
    const table = describeConfig();
    expect(table).toContain('| `kafka.brokers` | ["127.0.0.1:19092"]');
    expect(table).toContain('`ZEEK_RST_ES_API_KEY`');
  });
});

describe('loadConfig', () => {
  const dir = mkdtempSync(join(tmpdir(), 'zeek-rst-config-'));

  it('reads a YAML file', () => {
    const file = join(dir, 'ok.yaml');
    writeFileSync(file, 'kafka:\n  group: g1\nelasticsearch:\n  indexPrefix: t-1\n');
    const c = loadConfig(file, {});
    expect(c.kafka.group).toBe('g1');
    expect(c.elasticsearch.indexPrefix).toBe('t-1');
  });

  it('throws ZRST_CONFIG_INVALID naming the file and the field', () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'kafka:\n  sessionTimeoutMs: 10\n');
    let caught: unknown;
    try {
      loadConfig(file, {});
    } catch (err: unknown) {
      caught = err;
    }
    expect(isZeekRstError(caught, 'ZRST_CONFIG_INVALID')).toBe(true);
    expect(String(caught)).toMatch(/kafka\.sessionTimeoutMs: must be between 6000 and 300000 ms, got 10 \(in .*bad\.yaml/);
  });

  it('throws ZRST_CONFIG_INVALID for a missing file and for broken YAML', () => {
    expect(() => loadConfig(join(dir, 'missing.yaml'), {})).toThrow(/cannot read/);
    const file = join(dir, 'broken.yaml');
    writeFileSync(file, 'kafka: [unclosed\n');
    expect(() => loadConfig(file, {})).toThrow(/is not valid YAML/);
  });
});

describe('secret file permissions', () => {
  it('warns when a secret file is readable by group or others, and not when it is 0600', () => {
    const warnings: string[] = [];
    checkSecretFileMode('/s/pw', 'kafka.saslPasswordFile', (w) => warnings.push(w), () => ({ mode: 0o100644 }));
    checkSecretFileMode('/s/pw2', 'elasticsearch.apiKeyFile', (w) => warnings.push(w), () => ({ mode: 0o100600 }));
    checkSecretFileMode('/s/pw3', 'elasticsearch.passwordFile', (w) => warnings.push(w), () => ({ mode: 0o100640 }));
    expect(warnings).toEqual([
      'kafka.saslPasswordFile: /s/pw is readable or writable by group or others (mode 0644); make it 0600 (chmod 600)',
      'elasticsearch.passwordFile: /s/pw3 is readable or writable by group or others (mode 0640); make it 0600 (chmod 600)',
    ]);
  });

  it('loadConfig reads a *File secret and warns through its callback', () => {
    const dir = mkdtempSync(join(tmpdir(), 'zeek-rst-secret-'));
    const file = join(dir, 'pw');
    writeFileSync(file, 's3cret\n', { mode: 0o644 });
    const warnings: string[] = [];
    const c = loadConfig(undefined, { ZEEK_RST_KAFKA_SASL_MECHANISM: 'scram-sha-512', ZEEK_RST_KAFKA_SASL_USERNAME: 'u', ZEEK_RST_KAFKA_SASL_PASSWORD_FILE: file }, (w) => warnings.push(w));
    expect(c.kafka.saslPassword).toBe('s3cret');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('mode 0644');
    expect(warnings.join('')).not.toContain('s3cret');
  });
});
