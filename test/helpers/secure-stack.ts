/**
 * The secure stack as the `secure` tests see it (jest's global setup starts it; see
 * scripts/stack/secure.ts): endpoints, the CA files, the credentials, admin clients, the
 * pipeline's ACLs for a test's own names, and file-realm users made or removed on the running node.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { Client } from '@elastic/elasticsearch';
import { Kafka, logLevel } from 'kafkajs';
import { createStackConfig } from '../../scripts/stack/config';
import { ensureRunAs } from '../../scripts/stack/elasticsearch';
import { findJava } from '../../scripts/stack/java';
import { pipelineAcls, pipelineRoles, readCredentials, secureFiles, sensorAcls, type Account, type RoleDescriptor, type SecureCredentials } from '../../scripts/stack/secure';
import { endpointEnv, REPO } from '../integration/pipeline-harness';
import { SECURE_TEST_ENV } from './stack-env';
import { uniqueName } from './names';
import { waitFor } from './wait';

export interface SecureStack {
  readonly kafkaBrokers: string[];
  readonly esUrl: string;
  readonly caFile: string;
  readonly untrustedCaFile: string;
  readonly credentials: SecureCredentials;
  /** The pipeline's API key that `up --secure` made (base64 id:key), and its file. */
  readonly pipelineApiKey: string;
  readonly pipelineApiKeyFile: string;
}

export function secureStack(env: NodeJS.ProcessEnv = process.env): SecureStack {
  const get = (name: string): string => {
    const v = env[name];
    if (v === undefined || v === '') throw new Error(`${name} is not set: the secure tests run through jest's 'secure' project, whose global setup starts the secure stack`);
    return v;
  };
  const brokers = get(SECURE_TEST_ENV.kafkaBrokers);
  get(SECURE_TEST_ENV.credentialsFile);
  const config = createStackConfig(REPO, env, 'secure');
  const credentials = readCredentials(config);
  if (credentials === undefined) throw new Error(`no credentials in ${get(SECURE_TEST_ENV.credentialsFile)}`);
  const pipelineApiKeyFile = secureFiles(config).pipelineApiKey;
  return {
    kafkaBrokers: brokers.split(','),
    esUrl: get(SECURE_TEST_ENV.esUrl),
    caFile: get(SECURE_TEST_ENV.caFile),
    untrustedCaFile: get(SECURE_TEST_ENV.untrustedCaFile),
    credentials,
    pipelineApiKey: fs.readFileSync(pipelineApiKeyFile, 'utf8').trim(),
    pipelineApiKeyFile,
  };
}

/** Names of one secure test: the index prefix matches the tests' role (`zrst-sec-*`). */
export interface SecureNames {
  readonly conn: string;
  readonly weird: string;
  readonly headers: string;
  readonly dlq: string;
  readonly group: string;
  readonly prefix: string;
}

export function secureNames(label: string): SecureNames {
  const base = uniqueName(`sec-${label}`);
  return { conn: `${base}-conn`, weird: `${base}-weird`, headers: `${base}-headers`, dlq: `${base}-dlq`, group: `${base}-g`, prefix: base };
}

export function adminKafka(s: SecureStack): Kafka {
  return new Kafka({
    clientId: 'zeek-rst-secure-it',
    brokers: s.kafkaBrokers,
    logLevel: logLevel.NOTHING,
    ssl: { ca: [fs.readFileSync(s.caFile, 'utf8')] },
    sasl: { mechanism: 'scram-sha-512', username: s.credentials.kafka.admin.username, password: s.credentials.kafka.admin.password },
  });
}

/** A client of the secure node as `auth` (a file-realm account or an API key), trusting the test CA. */
function esClientAs(s: SecureStack, auth: Account | { readonly apiKey: string }): Client {
  return new Client({ node: s.esUrl, tls: { ca: fs.readFileSync(s.caFile, 'utf8') }, auth: 'apiKey' in auth ? { apiKey: auth.apiKey } : { username: auth.username, password: auth.password } });
}

export function adminEs(s: SecureStack): Client {
  return esClientAs(s, s.credentials.elasticsearch.admin);
}

export interface Grants {
  /** Leave out the consumer group's ACL (a missing ACL at join time). */
  readonly withoutGroup?: boolean;
}

/** As the admin: the test's topics, the pipeline's minimal ACLs on them and the sensor's. */
export async function createSecureTopics(kafka: Kafka, s: SecureStack, n: SecureNames, grants: Grants = {}): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        { topic: n.conn, numPartitions: 2 },
        { topic: n.weird, numPartitions: 1 },
        { topic: n.headers, numPartitions: 1 },
        { topic: n.dlq, numPartitions: 1 },
      ],
    });
    const names = { conn: n.conn, weird: n.weird, headers: n.headers, deadLetter: n.dlq, group: n.group };
    const pipeline = pipelineAcls(s.credentials.kafka.pipeline.username, names).filter((a) => grants.withoutGroup !== true || a.resourceName !== n.group);
    await admin.createAcls({ acl: [...pipeline, ...sensorAcls(s.credentials.kafka.sensor.username, names)] });
  } finally {
    await admin.disconnect();
  }
}

/** SCRAM-SHA-512 as `account` (the password in the environment). */
export function kafkaAuthEnv(account: Account): Record<string, string> {
  return { ZEEK_RST_KAFKA_SASL_MECHANISM: 'scram-sha-512', ZEEK_RST_KAFKA_SASL_USERNAME: account.username, ZEEK_RST_KAFKA_SASL_PASSWORD: account.password };
}

/**
 * As the admin: an API key with the pipeline user's roles (or `roles`), valid for `expiration`
 * when given. Returns its id and its encoded form (base64 id:key, what the pipeline is given).
 */
export async function createApiKey(es: Client, name: string, options: { readonly expiration?: string; readonly roles?: Record<string, RoleDescriptor> } = {}): Promise<{ readonly id: string; readonly encoded: string }> {
  const res = await es.security.createApiKey({
    name,
    role_descriptors: options.roles ?? pipelineRoles(),
    ...(options.expiration === undefined ? {} : { expiration: options.expiration }),
  });
  return { id: res.id, encoded: res.encoded };
}

/** The secret parts of an encoded API key: the encoded form and the key after the id. */
export function apiKeySecrets(encoded: string): string[] {
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  return [encoded, decoded.slice(decoded.indexOf(':') + 1)];
}

/** The API key in the environment. */
export function esApiKeyEnv(encoded: string): Record<string, string> {
  return { ZEEK_RST_ES_API_KEY: encoded };
}

/** Basic auth as `account` (the password in the environment). */
export function esAuthEnv(account: Account): Record<string, string> {
  return { ZEEK_RST_ES_USERNAME: account.username, ZEEK_RST_ES_PASSWORD: account.password };
}

/** ZEEK_RST_* for the names and the secure endpoints; credentials are added by each test. */
export function secureBaseEnv(s: SecureStack, n: SecureNames): Record<string, string> {
  return endpointEnv(s, n, {
    ZEEK_RST_KAFKA_CA_FILE: s.caFile,
    ZEEK_RST_ES_CA_FILE: s.caFile,
    ZEEK_RST_LOG_LEVEL: 'info',
    // Fail fast on refused connections instead of retrying for minutes.
    ZEEK_RST_KAFKA_CONNECTION_TIMEOUT_MS: '5000',
  });
}

/** `elasticsearch-users` on the secure node's config folder, as the user the node runs as. */
export function elasticsearchUsers(args: readonly string[]): void {
  const config = createStackConfig(REPO, process.env, 'secure');
  const java = findJava();
  const runAs = ensureRunAs();
  const result = spawnSync(`${config.elasticsearch.distDir}/bin/elasticsearch-users`, [...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ES_JAVA_HOME: java.home, ES_PATH_CONF: config.elasticsearch.confDir, LANG: 'C.UTF-8' },
    ...(runAs === undefined ? {} : { uid: runAs.uid, gid: runAs.gid }),
  });
  if (result.status !== 0) throw new Error(`elasticsearch-users ${args[0] ?? ''} failed: ${result.stdout}${result.stderr}`);
}

/**
 * Waits until the node accepts (or refuses) `auth`: the file realm reloads its files every ~5 s,
 * an API key is refused once it expired or was invalidated.
 */
export async function awaitAuthentication(s: SecureStack, auth: Account | { readonly apiKey: string }, accepted: boolean): Promise<void> {
  const who = 'apiKey' in auth ? 'the API key' : auth.username;
  const client = esClientAs(s, auth);
  try {
    await waitFor(async () => {
      try {
        await client.security.authenticate();
        return accepted;
      } catch {
        return !accepted;
      }
    }, { timeoutMs: 60_000, intervalMs: 500, what: `${who} to be ${accepted ? 'accepted' : 'refused'} by the node` });
  } finally {
    await client.close();
  }
}

/** Every secret of the secure stack (passwords, the broker's keystore password, the pipeline's API key). */
export function allSecrets(s: SecureStack): string[] {
  const c = s.credentials;
  return [...Object.values(c.kafka), ...Object.values(c.elasticsearch)].map((a) => a.password).concat(c.keystorePassword, apiKeySecrets(s.pipelineApiKey));
}
