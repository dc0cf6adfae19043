/**
 * Where the local stack lives and how it is reached: versions, ports, folders. Everything is
 * derived once from the repository root and the environment, then frozen and passed down.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** Kafka broker artifact resolved from Maven Central (broker + controller in one JVM, KRaft). */
export const KAFKA_VERSION = '4.1.2';
/** log4j binding for the broker's slf4j 1.7 API; matches the log4j-core that kafka-server 4.1.2 pulls in. */
export const LOG4J_VERSION = '2.25.3';
/** The Elasticsearch distribution that is published to Maven Central (no bundled JDK). */
export const ELASTICSEARCH_VERSION = '8.19.21';
/** Unprivileged account that runs Elasticsearch when the stack is started as root. */
export const ES_SYSTEM_USER = 'zeekrst';

/**
 * `plain`: no TLS, no authentication (the default; what most tests use). `secure`: a second
 * Kafka and Elasticsearch from the same artifacts, with TLS, SASL/SCRAM, ACLs, users, a role and
 * an API key (scripts/stack/secure.ts), on ports of their own; both profiles can run at once.
 */
export type StackProfile = 'plain' | 'secure';

export interface StackConfig {
  readonly profile: StackProfile;
  /** Repository root (the folder holding package.json). */
  readonly root: string;
  /** `.cache/` under the root: git-ignored, holds every download, data dir, log and pid file. */
  readonly cacheDir: string;
  /** Maven's local repository (`-Dmaven.repo.local`), kept inside the cache. */
  readonly m2Dir: string;
  /** The generated pom that lists the artifacts. */
  readonly mavenDir: string;
  readonly runDir: string;
  /** The lock folder that serialises `up`/`down` of this profile. */
  readonly lockDir: string;
  readonly kafka: {
    /** The broker's own folder: server.properties, data, log. */
    readonly home: string;
    /** The broker's jars (shared by both profiles). */
    readonly libDir: string;
    readonly dataDir: string;
    readonly logFile: string;
    readonly pidFile: string;
    /** A string of the broker's command line that tells it is ours (its server.properties). */
    readonly marker: string;
    /** Client listener, env ZEEK_RST_STACK_KAFKA_PORT (default 19092; secure: ZEEK_RST_STACK_SECURE_KAFKA_PORT, 19094). */
    readonly port: number;
    /** KRaft controller listener, env ZEEK_RST_STACK_KAFKA_CONTROLLER_PORT (default 19093). */
    readonly controllerPort: number;
    readonly heapMb: number;
  };
  readonly elasticsearch: {
    /** Where the distribution is unpacked (shared by both profiles). */
    readonly home: string;
    /** The unpacked distribution, `.cache/elasticsearch/elasticsearch-<version>`. */
    readonly distDir: string;
    /** ES_PATH_CONF: the distribution's config/ (plain) or a copy of its own (secure). */
    readonly confDir: string;
    /** A string of the node's command line that tells it is ours. */
    readonly marker: string;
    readonly dataDir: string;
    readonly logsDir: string;
    readonly logFile: string;
    readonly pidFile: string;
    /** HTTP port, env ZEEK_RST_STACK_ES_PORT (default 19200; secure: ZEEK_RST_STACK_SECURE_ES_PORT, 19201). */
    readonly port: number;
    /** Transport port, env ZEEK_RST_STACK_ES_TRANSPORT_PORT (default 19300; secure: ZEEK_RST_STACK_SECURE_ES_TRANSPORT_PORT, 19301). */
    readonly transportPort: number;
    readonly heapMb: number;
  };
  /** Deadline for both services to answer after `up`, env ZEEK_RST_STACK_TIMEOUT_S (default 240 s). */
  readonly startTimeoutMs: number;
  /** Deadline for a SIGTERM'ed service to exit before SIGKILL (30 s). */
  readonly stopTimeoutMs: number;
}

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Whether a test run stops the services it started when it ends: in CI (`CI` set) or with
 * ZEEK_RST_TEST_STOP_STACK=1, so CI leaves no process behind; on a developer's machine the stack
 * stays up for the next run. Read by `npm test` (scripts/test.ts) and jest's global teardown.
 */
export function testRunStopsStack(env: Env = process.env): boolean {
  const truthy = (value: string | undefined): boolean => value !== undefined && value !== '' && value !== '0' && value.toLowerCase() !== 'false';
  return truthy(env.CI) || truthy(env.ZEEK_RST_TEST_STOP_STACK);
}

/** Stack progress on stderr, one profile's lines prefixed as `[stack]` or `[stack secure]`: how test runs print it. */
export const stackLog = (profile: StackProfile) => (line: string): void => {
  process.stderr.write(`[stack${profile === 'secure' ? ' secure' : ''}] ${line}\n`);
};

function intFromEnv(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name}=${raw} is not an integer between ${min} and ${max}`);
  }
  return value;
}

/** Can a user other than the owner walk down into `dir` (every folder on the way has o+x)? */
function othersCanEnter(dir: string): boolean {
  for (let current = dir; ; current = path.dirname(current)) {
    try {
      if ((fs.statSync(current).mode & 0o001) === 0) return false;
    } catch {
      return false;
    }
    if (current === path.dirname(current)) return true;
  }
}

/**
 * Elasticsearch's home (distribution, data, logs): `.cache/elasticsearch`, unless root must hand
 * it to the unprivileged ES user and that user cannot reach the checkout (a clone under /root):
 * then a folder of its own under /var/tmp, named after the checkout. ZEEK_RST_STACK_ES_HOME wins.
 */
function elasticsearchHome(root: string, cacheDir: string, env: Env): string {
  const override = env.ZEEK_RST_STACK_ES_HOME;
  if (override !== undefined && override !== '') return path.resolve(override);
  if (process.getuid?.() !== 0 || othersCanEnter(root)) return path.join(cacheDir, 'elasticsearch');
  const id = createHash('sha256').update(cacheDir).digest('hex').slice(0, 12);
  return path.join('/var/tmp', `zeek-rst-${id}`, 'elasticsearch');
}

export function createStackConfig(root: string, env: Env = process.env, profile: StackProfile = 'plain'): StackConfig {
  const cacheDir = path.join(root, '.cache');
  const runDir = path.join(cacheDir, 'run');
  const esHome = elasticsearchHome(root, cacheDir, env);
  const distDir = path.join(esHome, `elasticsearch-${ELASTICSEARCH_VERSION}`);
  const secure = profile === 'secure';
  // The secure profile: its own broker folder and node folder (config, data, logs) beside the plain ones.
  const kafkaHome = secure ? path.join(cacheDir, 'secure', 'kafka') : path.join(cacheDir, 'kafka');
  const nodeHome = secure ? path.join(esHome, 'secure') : esHome;
  const envName = (name: string): string => (secure ? `ZEEK_RST_STACK_SECURE_${name}` : `ZEEK_RST_STACK_${name}`);
  const kafkaPort = intFromEnv(env, envName('KAFKA_PORT'), secure ? 19094 : 19092, 1024, 65535);
  const confDir = secure ? path.join(nodeHome, 'config') : path.join(distDir, 'config');
  const pidName = (service: string): string => path.join(runDir, `${secure ? 'secure-' : ''}${service}.pid`);
  const config: StackConfig = {
    profile,
    root,
    cacheDir,
    m2Dir: path.join(cacheDir, 'm2'),
    mavenDir: path.join(cacheDir, 'maven'),
    runDir,
    lockDir: path.join(runDir, secure ? 'lock-secure' : 'lock'),
    kafka: {
      home: kafkaHome,
      libDir: path.join(cacheDir, 'kafka', 'lib'),
      dataDir: path.join(kafkaHome, 'data'),
      logFile: path.join(kafkaHome, 'kafka.log'),
      pidFile: pidName('kafka'),
      marker: path.join(kafkaHome, 'server.properties'),
      port: kafkaPort,
      controllerPort: intFromEnv(env, envName('KAFKA_CONTROLLER_PORT'), kafkaPort + 1, 1024, 65535),
      heapMb: 512,
    },
    elasticsearch: {
      home: esHome,
      distDir,
      confDir,
      // The secure node runs from the same distribution: its data folder, given on its command
      // line (elasticsearchCommand), tells them apart.
      marker: secure ? path.join(nodeHome, 'data') : distDir,
      dataDir: path.join(nodeHome, 'data'),
      logsDir: path.join(nodeHome, 'logs'),
      logFile: path.join(nodeHome, 'elasticsearch.log'),
      pidFile: pidName('elasticsearch'),
      port: intFromEnv(env, envName('ES_PORT'), secure ? 19201 : 19200, 1024, 65535),
      transportPort: intFromEnv(env, envName('ES_TRANSPORT_PORT'), secure ? 19301 : 19300, 1024, 65535),
      heapMb: 512,
    },
    startTimeoutMs: intFromEnv(env, 'ZEEK_RST_STACK_TIMEOUT_S', 240, 1, 3600) * 1000,
    stopTimeoutMs: 30_000,
  };
  return Object.freeze(config);
}

/** The endpoints a client needs; what `up` prints and what the integration tests receive. */
export interface StackEndpoints {
  readonly kafkaBrokers: readonly string[];
  readonly esUrl: string;
}

export function stackEndpoints(config: StackConfig): StackEndpoints {
  return {
    kafkaBrokers: [`127.0.0.1:${config.kafka.port}`],
    esUrl: `${config.profile === 'secure' ? 'https' : 'http'}://127.0.0.1:${config.elasticsearch.port}`,
  };
}
