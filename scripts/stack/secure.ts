/**
 * The secure profile of the local stack (`npm run stack -- up --secure`): the same Kafka jars
 * and Elasticsearch distribution as the plain one, locked down the way a production cluster is.
 *
 * - A test CA made with openssl, a server certificate it signs (127.0.0.1 and localhost), and a
 *   second CA that signs nothing here (what a client trusting the wrong CA holds).
 * - Kafka: one SASL_SSL listener (SCRAM-SHA-512) for clients and between brokers, the controller
 *   on SASL_PLAINTEXT/PLAIN (KRaft controllers cannot use SCRAM), StandardAuthorizer with no ACL
 *   meaning no access. SCRAM users are written at storage-format time (`--add-scram`):
 *   an admin (super user), the pipeline, a sensor (writes the input topics) and a user without
 *   rights. The ACLs of the pipeline and the sensor for the default names are created after start.
 * - Elasticsearch: security on, TLS on HTTP and transport; roles in roles.yml (one limited to
 *   the zeek-rst indices, template and aliases, one without index rights) and users in the file
 *   realm (`elasticsearch-users`): an admin (superuser), the pipeline, and a user without index
 *   rights; after start, an API key with the pipeline's roles (`es-pipeline-api-key`). API keys
 *   live in the `.security` index, whose mapping needs analysis components that the Maven
 *   (integ-test) zip lacks: es-plugin.ts installs them.
 *
 * Every secret is random, made once, and kept in `.cache/secure/credentials.json` (mode 0600; the
 * API key in its own file, for `ZEEK_RST_ES_API_KEY_FILE`);
 * `--fresh` (or a missing credentials file) makes new ones and formats both services anew.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { stringify as toYaml } from 'yaml';
import { AclOperationTypes, AclPermissionTypes, AclResourceTypes, Kafka, logLevel, ResourcePatternTypes, type AclEntry } from 'kafkajs';
import type { StackConfig } from './config';
import type { JavaRuntime } from './java';
import { runOrThrow } from './processes';

export interface Account {
  readonly username: string;
  readonly password: string;
}

export interface SecureCredentials {
  readonly kafka: {
    /** Super user (super.users); the broker's own inter-broker and controller identity. */
    readonly admin: Account;
    /** `run`: reads the input topics, writes the dead-letter topic, its consumer group. */
    readonly pipeline: Account;
    /** Writes the input topics (what a sensor's zeek-kafka, or `produce`, needs). */
    readonly sensor: Account;
    /** Authenticates, and has no ACL at all. */
    readonly noRights: Account;
  };
  readonly elasticsearch: {
    /** File realm user with the superuser role. */
    readonly admin: Account;
    /** File realm user with the zeek_rst_pipeline roles. */
    readonly pipeline: Account;
    /** File realm user whose role has no index privilege. */
    readonly noIndex: Account;
  };
  /** Password of the broker's PKCS#12 keystore. */
  readonly keystorePassword: string;
}

export interface SecureFiles {
  readonly dir: string;
  readonly credentials: string;
  /** The test CA (PEM): what clients trust. */
  readonly caFile: string;
  readonly caKey: string;
  /** A CA that signed nothing of this stack: trusting it instead must fail. */
  readonly untrustedCaFile: string;
  readonly serverCert: string;
  readonly serverKey: string;
  /** The broker's keystore (PKCS#12: server key, certificate, CA). */
  readonly kafkaKeystore: string;
  /** The pipeline's Elasticsearch API key (base64 id:key, mode 0600), for `ZEEK_RST_ES_API_KEY_FILE`. */
  readonly pipelineApiKey: string;
}

export function secureFiles(config: StackConfig): SecureFiles {
  const dir = path.join(config.cacheDir, 'secure');
  return {
    dir,
    credentials: path.join(dir, 'credentials.json'),
    caFile: path.join(dir, 'ca.pem'),
    caKey: path.join(dir, 'ca.key'),
    untrustedCaFile: path.join(dir, 'untrusted-ca.pem'),
    serverCert: path.join(dir, 'server.pem'),
    serverKey: path.join(dir, 'server.key'),
    kafkaKeystore: path.join(dir, 'server.p12'),
    pipelineApiKey: path.join(dir, 'es-pipeline-api-key'),
  };
}

/** The default names of a deployment (config schema defaults), provisioned by `up --secure`. */
export const DEFAULT_PIPELINE_NAMES = Object.freeze({
  conn: 'zeek-conn',
  weird: 'zeek-weird',
  headers: 'zeek-headers',
  deadLetter: 'zeek-rst-dlq',
  group: 'zeek-rst',
  indexPrefix: 'zeek-rst',
});

export interface PipelineNames {
  readonly conn: string;
  readonly weird: string;
  readonly headers: string;
  readonly deadLetter: string;
  readonly group: string;
}

const secret = (): string => randomBytes(18).toString('hex');

function newCredentials(): SecureCredentials {
  return {
    kafka: {
      admin: { username: 'zeekrst-admin', password: secret() },
      pipeline: { username: 'zeekrst-pipeline', password: secret() },
      sensor: { username: 'zeekrst-sensor', password: secret() },
      noRights: { username: 'zeekrst-norights', password: secret() },
    },
    elasticsearch: {
      admin: { username: 'zeekrst-admin', password: secret() },
      pipeline: { username: 'zeekrst-pipeline', password: secret() },
      noIndex: { username: 'zeekrst-noindex', password: secret() },
    },
    keystorePassword: secret(),
  };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isAccount(v: unknown): v is Account {
  return isRecord(v) && typeof v['username'] === 'string' && typeof v['password'] === 'string';
}

function isCredentials(v: unknown): v is SecureCredentials {
  if (!isRecord(v) || !isRecord(v['kafka']) || !isRecord(v['elasticsearch']) || typeof v['keystorePassword'] !== 'string') return false;
  const k = v['kafka'];
  const e = v['elasticsearch'];
  return [k['admin'], k['pipeline'], k['sensor'], k['noRights'], e['admin'], e['pipeline'], e['noIndex']].every(isAccount);
}

/** The credentials of a prepared secure stack, or undefined before the first `up --secure`. */
export function readCredentials(config: StackConfig): SecureCredentials | undefined {
  try {
    const raw: unknown = JSON.parse(fs.readFileSync(secureFiles(config).credentials, 'utf8'));
    return isCredentials(raw) ? raw : undefined;
  } catch {
    return undefined;
  }
}

function writeCredentials(config: StackConfig, credentials: SecureCredentials): void {
  const file = secureFiles(config).credentials;
  fs.writeFileSync(`${file}.tmp`, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  fs.renameSync(`${file}.tmp`, file);
}

/** The test CA, the server certificate it signs, the broker's keystore and an unrelated CA. */
function makeCertificates(files: SecureFiles, keystorePassword: string): void {
  const ca = (key: string, cert: string, cn: string): void => {
    runOrThrow('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '3650', '-subj', `/CN=${cn}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    ], `making the ${cn}`);
  };
  ca(files.caKey, files.caFile, 'zeek-rst test CA');
  const untrustedKey = path.join(files.dir, 'untrusted-ca.key');
  ca(untrustedKey, files.untrustedCaFile, 'zeek-rst untrusted CA');
  fs.rmSync(untrustedKey, { force: true }); // it never signs anything
  const csr = path.join(files.dir, 'server.csr');
  const ext = path.join(files.dir, 'server.ext');
  runOrThrow('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', files.serverKey, '-out', csr, '-subj', '/CN=localhost'], 'making the server key');
  fs.writeFileSync(ext, [
    'subjectAltName=IP:127.0.0.1,DNS:localhost',
    'basicConstraints=CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    'extendedKeyUsage=serverAuth,clientAuth',
  ].join('\n'));
  runOrThrow('openssl', ['x509', '-req', '-in', csr, '-CA', files.caFile, '-CAkey', files.caKey, '-CAcreateserial', '-out', files.serverCert, '-days', '825', '-extfile', ext], 'signing the server certificate');
  runOrThrow('openssl', ['pkcs12', '-export', '-in', files.serverCert, '-inkey', files.serverKey, '-certfile', files.caFile, '-name', 'zeek-rst', '-out', files.kafkaKeystore, '-passout', `pass:${keystorePassword}`], 'making the broker keystore');
  for (const f of [csr, ext]) fs.rmSync(f, { force: true });
  for (const f of [files.caKey, files.serverKey, files.kafkaKeystore]) fs.chmodSync(f, 0o600);
  // Clients read the CA files; the ES user (root case) copies them from the node's config folder.
  for (const f of [files.caFile, files.untrustedCaFile, files.serverCert]) fs.chmodSync(f, 0o644);
}

/**
 * Makes the certificates and credentials when they are missing (or `fresh`). Returns whether
 * they are new: then both services' data must be formatted again (the SCRAM users live in
 * Kafka's metadata, the native users in the node's security index).
 */
export function ensureSecureMaterial(config: StackConfig, fresh: boolean): { readonly credentials: SecureCredentials; readonly created: boolean } {
  const files = secureFiles(config);
  const existing = fresh ? undefined : readCredentials(config);
  if (existing !== undefined && [files.caFile, files.serverCert, files.serverKey, files.kafkaKeystore, files.untrustedCaFile].every((f) => fs.existsSync(f))) {
    return { credentials: existing, created: false };
  }
  fs.mkdirSync(files.dir, { recursive: true, mode: 0o700 });
  // Others must be able to enter: the Elasticsearch user (root case) and clients read the CA.
  fs.chmodSync(files.dir, 0o755);
  const credentials = newCredentials();
  makeCertificates(files, credentials.keystorePassword);
  writeCredentials(config, credentials);
  return { credentials, created: true };
}

const jaasQuote = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

/** The security part of the secure broker's server.properties (the file is written 0600). */
export function secureServerProperties(config: StackConfig, credentials: SecureCredentials): readonly (readonly [string, string | number])[] {
  const { port, controllerPort } = config.kafka;
  const files = secureFiles(config);
  const admin = credentials.kafka.admin;
  return [
    ['listeners', `SASL_SSL://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`],
    ['advertised.listeners', `SASL_SSL://127.0.0.1:${port}`],
    ['inter.broker.listener.name', 'SASL_SSL'],
    ['listener.security.protocol.map', 'SASL_SSL:SASL_SSL,CONTROLLER:SASL_PLAINTEXT'],
    ['sasl.enabled.mechanisms', 'SCRAM-SHA-512'],
    ['sasl.mechanism.inter.broker.protocol', 'SCRAM-SHA-512'],
    ['listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config',
      `org.apache.kafka.common.security.scram.ScramLoginModule required username=${jaasQuote(admin.username)} password=${jaasQuote(admin.password)};`],
    // KRaft controllers cannot authenticate with SCRAM (its credentials live in the metadata they serve).
    ['sasl.mechanism.controller.protocol', 'PLAIN'],
    ['listener.name.controller.sasl.enabled.mechanisms', 'PLAIN'],
    ['listener.name.controller.plain.sasl.jaas.config',
      `org.apache.kafka.common.security.plain.PlainLoginModule required username=${jaasQuote(admin.username)} password=${jaasQuote(admin.password)} user_${admin.username}=${jaasQuote(admin.password)};`],
    ['ssl.keystore.type', 'PKCS12'],
    ['ssl.keystore.location', files.kafkaKeystore],
    ['ssl.keystore.password', credentials.keystorePassword],
    ['ssl.truststore.type', 'PEM'],
    ['ssl.truststore.location', files.caFile],
    ['ssl.endpoint.identification.algorithm', 'https'],
    ['authorizer.class.name', 'org.apache.kafka.metadata.authorizer.StandardAuthorizer'],
    ['allow.everyone.if.no.acl.found', 'false'],
    ['super.users', `User:${admin.username}`],
  ];
}

/** `--add-scram` arguments of the storage tool: every Kafka user of the secure profile. */
export function scramArguments(credentials: SecureCredentials): string[] {
  const k = credentials.kafka;
  return [k.admin, k.pipeline, k.sensor, k.noRights].flatMap((a) => ['--add-scram', `SCRAM-SHA-512=[name=${a.username},password=${a.password}]`]);
}

/** The settings of the secure node's elasticsearch.yml (paths relative to its config folder). */
export function secureElasticsearchSettings(): readonly (readonly [string, string | boolean | readonly string[]])[] {
  return [
    ['xpack.security.enabled', true],
    ['xpack.security.http.ssl.enabled', true],
    ['xpack.security.http.ssl.certificate', 'certs/server.pem'],
    ['xpack.security.http.ssl.key', 'certs/server.key'],
    ['xpack.security.http.ssl.certificate_authorities', ['certs/ca.pem']],
    ['xpack.security.transport.ssl.enabled', true],
    ['xpack.security.transport.ssl.verification_mode', 'certificate'],
    ['xpack.security.transport.ssl.certificate', 'certs/server.pem'],
    ['xpack.security.transport.ssl.key', 'certs/server.key'],
    ['xpack.security.transport.ssl.certificate_authorities', ['certs/ca.pem']],
    ['xpack.security.authc.api_key.enabled', true],
  ];
}

/** Index prefixes of the secure integration tests (test/helpers/secure-stack.ts): `zrst-sec-...`. */
export const TEST_PREFIX_PATTERN = 'zrst-sec-*';

/**
 * roles.yml of the secure node: the pipeline's role, the tests' one, and one without index
 * rights. Block style: Elasticsearch reads the file role by role, each starting in column 0.
 */
export function secureRolesYml(): string {
  return toYaml({ ...pipelineRoles(), zeek_rst_no_index: NO_INDEX_ROLE });
}

/** The pipeline user's two roles: the default index prefix and the tests' (also its API key's). */
export function pipelineRoles(): Record<string, RoleDescriptor> {
  return {
    zeek_rst_pipeline: pipelineRole(DEFAULT_PIPELINE_NAMES.indexPrefix),
    zeek_rst_pipeline_tests: pipelineRole(TEST_PREFIX_PATTERN),
  };
}

/**
 * The secure node's config folder: a copy of the distribution's (jvm.options, log4j2 ...), the
 * certificates (Elasticsearch reads TLS files only from its config folder), roles.yml and the
 * file-realm users, made with the distribution's own `elasticsearch-users`.
 */
export function prepareSecureElasticsearchConf(config: StackConfig, java: JavaRuntime, credentials: SecureCredentials): void {
  const es = config.elasticsearch;
  const files = secureFiles(config);
  const ready = path.join(es.confDir, '.zeek-rst-users');
  if (!fs.existsSync(ready)) {
    fs.rmSync(es.confDir, { recursive: true, force: true });
    fs.mkdirSync(path.join(es.confDir, 'certs'), { recursive: true });
    const source = path.join(es.distDir, 'config');
    for (const entry of fs.readdirSync(source)) {
      // The plain node shares this folder and may be writing its keystore right now
      // (elasticsearch.keystore.tmp, then a rename): no keystore file of any name is copied.
      if (entry.startsWith('elasticsearch.keystore') || entry === 'elasticsearch.yml') continue;
      fs.cpSync(path.join(source, entry), path.join(es.confDir, entry), { recursive: true });
    }
    fs.copyFileSync(files.serverCert, path.join(es.confDir, 'certs', 'server.pem'));
    fs.copyFileSync(files.serverKey, path.join(es.confDir, 'certs', 'server.key'));
    fs.copyFileSync(files.caFile, path.join(es.confDir, 'certs', 'ca.pem'));
    fs.chmodSync(path.join(es.confDir, 'certs', 'server.key'), 0o600);
    const e = credentials.elasticsearch;
    const users: readonly (readonly [Account, string])[] = [
      [e.admin, 'superuser'],
      [e.pipeline, 'zeek_rst_pipeline,zeek_rst_pipeline_tests'],
      [e.noIndex, 'zeek_rst_no_index'],
    ];
    for (const [account, roles] of users) {
      runOrThrow(path.join(es.distDir, 'bin', 'elasticsearch-users'), ['useradd', account.username, '-p', account.password, '-r', roles], `adding the Elasticsearch user ${account.username} (file realm)`, {
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ES_JAVA_HOME: java.home, ES_PATH_CONF: es.confDir, LANG: 'C.UTF-8' },
      });
    }
    fs.writeFileSync(ready, 'users made\n');
  }
  // Written on every start: the roles follow the code.
  fs.writeFileSync(path.join(es.confDir, 'roles.yml'), secureRolesYml());
}

/** Changes a file-realm user's password on the running node (it reloads the file within ~5 s). */
export function setElasticsearchPassword(config: StackConfig, java: JavaRuntime, username: string, password: string): void {
  const es = config.elasticsearch;
  runOrThrow(path.join(es.distDir, 'bin', 'elasticsearch-users'), ['passwd', username, '-p', password], `changing the password of ${username}`, {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ES_JAVA_HOME: java.home, ES_PATH_CONF: es.confDir, LANG: 'C.UTF-8' },
  });
}

// ---------------------------------------------------------------------------------------------
// Clients of the running secure services

export interface HttpsAnswer {
  readonly status: number;
  readonly body: unknown;
}

/** One JSON request to the secure node, trusting the test CA. Never retries. */
export function esRequest(config: StackConfig, method: string, urlPath: string, auth: { readonly basic: Account } | { readonly apiKey: string }, body?: unknown, timeoutMs = 10_000): Promise<HttpsAnswer> {
  const ca = fs.readFileSync(secureFiles(config).caFile);
  const authorization = 'basic' in auth ? `Basic ${Buffer.from(`${auth.basic.username}:${auth.basic.password}`).toString('base64')}` : `ApiKey ${auth.apiKey}`;
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = https.request({
      host: '127.0.0.1', port: config.elasticsearch.port, path: urlPath, method, ca, timeout: timeoutMs,
      headers: { authorization, accept: 'application/json', ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': payload.length }) },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown = text;
        try {
          parsed = text === '' ? undefined : JSON.parse(text);
        } catch {
          // not JSON: keep the text
        }
        resolve({ status: res.statusCode ?? 0, body: parsed });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${urlPath}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** The secure node answers the admin with a yellow or green cluster. */
export async function secureElasticsearchAnswers(config: StackConfig, timeoutMs = 3000): Promise<boolean> {
  const credentials = readCredentials(config);
  if (credentials === undefined) return false;
  try {
    const res = await esRequest(config, 'GET', `/_cluster/health?wait_for_status=yellow&timeout=${Math.max(1, Math.floor(timeoutMs / 2000))}s`, { basic: credentials.elasticsearch.admin }, undefined, timeoutMs);
    return res.status === 200 && isRecord(res.body) && (res.body['status'] === 'yellow' || res.body['status'] === 'green');
  } catch {
    return false; // refused, TLS not up yet, timed out: not up (yet)
  }
}

/** A kafkajs client of the secure broker as `account`, trusting the test CA. */
export function secureKafka(config: StackConfig, account: Account, timeoutMs = 5000): Kafka {
  return new Kafka({
    clientId: 'zeek-rst-stack',
    brokers: [`127.0.0.1:${config.kafka.port}`],
    logLevel: logLevel.NOTHING,
    connectionTimeout: timeoutMs,
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
    ssl: { ca: [fs.readFileSync(secureFiles(config).caFile, 'utf8')] },
    sasl: { mechanism: 'scram-sha-512', username: account.username, password: account.password },
  });
}

export async function secureKafkaAnswers(config: StackConfig, timeoutMs = 3000): Promise<boolean> {
  const credentials = readCredentials(config);
  if (credentials === undefined) return false;
  const admin = secureKafka(config, credentials.kafka.admin, timeoutMs).admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0 && cluster.controller !== null;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------------------------
// What the pipeline needs (README "Production"): Kafka ACLs and an Elasticsearch role

/**
 * The minimal ACLs of `zeek-rst run` for `user`: read (and describe) the three input topics,
 * write the dead-letter topic, and its consumer group.
 */
export function pipelineAcls(user: string, names: PipelineNames): AclEntry[] {
  const principal = `User:${user}`;
  const allow = (resourceType: AclResourceTypes, resourceName: string, operation: AclOperationTypes, pattern = ResourcePatternTypes.LITERAL): AclEntry => ({
    resourceType, resourceName, resourcePatternType: pattern, principal, host: '*', operation, permissionType: AclPermissionTypes.ALLOW,
  });
  // The correlator's changelog (default name from the group): created by run, read at start, written in transactions.
  const changelog = `${names.group}-correlator-changelog`;
  // The repartition topic (docs/scale-out.md): created by run, written by its decoding stage, read by its correlating stage.
  const repartition = `${names.group}-repartition`;
  return [
    ...[...new Set([names.conn, names.weird, names.headers])].flatMap((t) => [allow(AclResourceTypes.TOPIC, t, AclOperationTypes.READ), allow(AclResourceTypes.TOPIC, t, AclOperationTypes.DESCRIBE)]),
    allow(AclResourceTypes.TOPIC, names.deadLetter, AclOperationTypes.WRITE),
    allow(AclResourceTypes.TOPIC, names.deadLetter, AclOperationTypes.DESCRIBE),
    allow(AclResourceTypes.GROUP, names.group, AclOperationTypes.READ),
    ...[changelog, repartition].flatMap((topic) => [AclOperationTypes.CREATE, AclOperationTypes.READ, AclOperationTypes.WRITE, AclOperationTypes.DESCRIBE].map((op) => allow(AclResourceTypes.TOPIC, topic, op))),
    // Transactional ids <group>-partition-<n> (and <group>-<hostname> in direct mode), and the restore reader's throwaway groups <group>.restore.*.
    allow(AclResourceTypes.TRANSACTIONAL_ID, `${names.group}-`, AclOperationTypes.WRITE, ResourcePatternTypes.PREFIXED),
    allow(AclResourceTypes.TRANSACTIONAL_ID, `${names.group}-`, AclOperationTypes.DESCRIBE, ResourcePatternTypes.PREFIXED),
    allow(AclResourceTypes.GROUP, `${names.group}.restore.`, AclOperationTypes.READ, ResourcePatternTypes.PREFIXED),
  ];
}

/** What a sensor (zeek-kafka, or `zeek-rst produce`) needs: write the input topics. */
export function sensorAcls(user: string, names: PipelineNames): AclEntry[] {
  return [...new Set([names.conn, names.weird, names.headers])].flatMap((t) => [AclOperationTypes.WRITE, AclOperationTypes.DESCRIBE].map((operation) => ({
    resourceType: AclResourceTypes.TOPIC, resourceName: t, resourcePatternType: ResourcePatternTypes.LITERAL, principal: `User:${user}`, host: '*', operation, permissionType: AclPermissionTypes.ALLOW,
  })));
}

/** A role as roles.yml and `POST _security/api_key` (`role_descriptors`) take it. */
export interface RoleDescriptor {
  cluster: string[];
  indices: { names: string[]; privileges: string[] }[];
}

/**
 * The role of `zeek-rst setup`, `run` and `retention` for index prefix P: install the template,
 * create, write and delete the daily indices, the aliases and the scans index, nothing else.
 * (Elasticsearch has no per-name privilege for templates: `manage_index_templates` is cluster-wide.)
 */
export function pipelineRole(prefix: string): RoleDescriptor {
  return {
    cluster: ['manage_index_templates'],
    indices: [
      {
        names: [`${prefix}-conn-*`, `${prefix}-conn`, `${prefix}-firewall`, `${prefix}-scans`],
        privileges: ['create_index', 'index', 'view_index_metadata', 'delete_index'],
      },
    ],
  };
}

/** A role that can log in and manage templates, but has no index privilege at all. */
export const NO_INDEX_ROLE: Readonly<RoleDescriptor> = Object.freeze({ cluster: ['manage_index_templates'], indices: [] });

/**
 * The pipeline's API key in `es-pipeline-api-key`: kept while the node still accepts it, made
 * anew by the admin otherwise (a fresh node, an invalidated key), limited to the pipeline user's
 * roles. API keys live in the node's `.security` index (es-plugin.ts).
 */
async function ensurePipelineApiKey(config: StackConfig, admin: Account): Promise<void> {
  const file = secureFiles(config).pipelineApiKey;
  const known = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim() : '';
  if (known !== '' && (await esRequest(config, 'GET', '/_security/_authenticate', { apiKey: known })).status === 200) return;
  const res = await esRequest(config, 'POST', '/_security/api_key', { basic: admin }, { name: 'zeek-rst-pipeline', role_descriptors: pipelineRoles() });
  const encoded = isRecord(res.body) ? res.body['encoded'] : undefined;
  if (res.status !== 200 || typeof encoded !== 'string') {
    throw new Error(`creating the pipeline's API key failed: HTTP ${res.status} ${JSON.stringify(res.body)}`);
  }
  fs.writeFileSync(`${file}.tmp`, encoded, { mode: 0o600 });
  fs.renameSync(`${file}.tmp`, file);
}

/**
 * After start: the Kafka ACLs of the pipeline and the sensor for the default names, and the
 * pipeline's Elasticsearch API key. Idempotent.
 */
export async function provisionSecureStack(config: StackConfig): Promise<void> {
  const credentials = readCredentials(config);
  if (credentials === undefined) throw new Error(`no credentials in ${secureFiles(config).credentials}`);
  await ensurePipelineApiKey(config, credentials.elasticsearch.admin);
  const kafkaAdmin = secureKafka(config, credentials.kafka.admin, 10_000).admin();
  await kafkaAdmin.connect();
  try {
    await kafkaAdmin.createAcls({ acl: [...pipelineAcls(credentials.kafka.pipeline.username, DEFAULT_PIPELINE_NAMES), ...sensorAcls(credentials.kafka.sensor.username, DEFAULT_PIPELINE_NAMES)] });
  } finally {
    await kafkaAdmin.disconnect();
  }
}
