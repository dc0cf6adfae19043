/**
 * The local stack as a whole: `ensureStackUp` (reuse a healthy stack or start what is missing),
 * `stopStack`, `stackStatus`, `wipeStackData`. Used by `npm run stack`, by jest's global setup
 * and by anything else that needs a real Kafka and Elasticsearch on 127.0.0.1.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createStackConfig, stackEndpoints, type StackConfig, type StackEndpoints, type StackProfile } from './config';
import { elasticsearchAnswers, elasticsearchCommand, ensureRunAs, prepareElasticsearch } from './elasticsearch';
import { ensureEmailAnalysisPlugin } from './es-plugin';
import { findJava } from './java';
import { kafkaAnswers, kafkaCommand, prepareKafka } from './kafka';
import { listenersOf, type Listener } from './listeners';
import { ensureArtifacts } from './maven';
import {
  groupMembers, isOurs, readPidFile, removePidFile, signalOurGroup, spawnDetached, stopGroup, tailOfFile, writePidFile, type PidRecord,
} from './processes';
import {
  ensureSecureMaterial, prepareSecureElasticsearchConf, provisionSecureStack, secureElasticsearchAnswers, secureFiles, secureKafkaAnswers, type SecureCredentials,
} from './secure';
import { waitFor } from '../../src/wait';

export type ServiceName = 'kafka' | 'elasticsearch';
export const SERVICES: readonly ServiceName[] = ['kafka', 'elasticsearch'];

export type Log = (line: string) => void;

/** The repository root: scripts/stack/ sits two levels below it. */
export const REPO_ROOT = path.resolve(__dirname, '..', '..');

export class StackError extends Error {
  override readonly name = 'StackError';
}

interface ServiceFacts {
  readonly pidFile: string;
  readonly logFile: string;
  readonly marker: string;
  readonly address: string;
  readonly ports: readonly number[];
  readonly answers: (timeoutMs?: number) => Promise<boolean>;
}

function facts(config: StackConfig, service: ServiceName): ServiceFacts {
  const endpoints = stackEndpoints(config);
  switch (service) {
    case 'kafka':
      return {
        pidFile: config.kafka.pidFile,
        logFile: config.kafka.logFile,
        marker: config.kafka.marker,
        address: endpoints.kafkaBrokers.join(','),
        ports: [config.kafka.port, config.kafka.controllerPort],
        answers: (timeoutMs) => (config.profile === 'secure' ? secureKafkaAnswers(config, timeoutMs) : kafkaAnswers(endpoints.kafkaBrokers, timeoutMs)),
      };
    case 'elasticsearch':
      return {
        pidFile: config.elasticsearch.pidFile,
        logFile: config.elasticsearch.logFile,
        marker: config.elasticsearch.marker,
        address: endpoints.esUrl,
        ports: [config.elasticsearch.port, config.elasticsearch.transportPort],
        answers: (timeoutMs) => (config.profile === 'secure' ? secureElasticsearchAnswers(config, timeoutMs) : elasticsearchAnswers(endpoints.esUrl, timeoutMs)),
      };
    default: {
      const unknown: never = service;
      throw new Error(`unknown service ${String(unknown)}`);
    }
  }
}

/** The pid record of a running service of ours; a stale pid file is removed on the way. */
function runningRecord(f: ServiceFacts): PidRecord | undefined {
  const record = readPidFile(f.pidFile);
  if (record === undefined) return undefined;
  if (isOurs(record)) return record;
  removePidFile(f.pidFile);
  return undefined;
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => { resolve(false); });
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => {
      server.close(() => { resolve(true); });
    });
  });
}

/** One `up` at a time per checkout (parallel jest runs, a developer's shell): a lock folder. */
async function withLock<T>(config: StackConfig, timeoutMs: number, body: () => Promise<T>): Promise<T> {
  const lockDir = config.lockDir;
  const ownerFile = path.join(lockDir, 'owner');
  fs.mkdirSync(config.runDir, { recursive: true });
  await waitFor(() => {
    try {
      fs.mkdirSync(lockDir);
      fs.writeFileSync(ownerFile, String(process.pid));
      return true;
    } catch {
      const owner = Number(fs.existsSync(ownerFile) ? fs.readFileSync(ownerFile, 'utf8') : 'NaN');
      let ownerAlive = true;
      try {
        if (Number.isInteger(owner)) process.kill(owner, 0);
      } catch {
        ownerAlive = false;
      }
      // The owner died holding the lock (or had not written its pid yet: wait for that).
      if (Number.isInteger(owner) && !ownerAlive) fs.rmSync(lockDir, { recursive: true, force: true });
      return false;
    }
  }, { timeoutMs, intervalMs: 250, what: `the stack lock ${lockDir} (another 'npm run stack' is running)` });
  try {
    return await body();
  } finally {
    fs.rmSync(lockDir, { recursive: true, force: true });
  }
}

export interface UpOptions {
  readonly root?: string;
  /** `secure`: the TLS + SASL + ACL + x-pack security stack (scripts/stack/secure.ts). Default plain. */
  readonly profile?: StackProfile;
  /** Stop the services and delete their data (topics, indices) before starting. */
  readonly fresh?: boolean;
  readonly log?: Log;
}

export interface UpResult {
  readonly endpoints: StackEndpoints;
  /** The services this call started (the others were already running and answering). */
  readonly started: readonly ServiceName[];
  /** Secure profile: where the CA and the credentials are. */
  readonly secure?: { readonly credentialsFile: string; readonly caFile: string; readonly untrustedCaFile: string; readonly pipelineApiKeyFile: string };
}

function failure(service: ServiceName, f: ServiceFacts, why: string): StackError {
  return new StackError(`${service} ${why}; log: ${f.logFile}\n--- last lines of ${f.logFile} ---\n${tailOfFile(f.logFile, 30)}`);
}

/**
 * Reuses a running, answering stack or starts what is missing, then waits (up to the deadline
 * in the config) until both services answer. Throws a StackError naming the log file otherwise.
 */
export async function ensureStackUp(options: UpOptions = {}): Promise<UpResult> {
  const config = createStackConfig(options.root ?? REPO_ROOT, process.env, options.profile ?? 'plain');
  const log = options.log ?? (() => undefined);
  const deadline = Date.now() + config.startTimeoutMs;
  return withLock(config, config.startTimeoutMs, async () => {
    if (options.fresh === true) {
      await stopServices(config, log);
      wipeData(config, log);
    }
    let credentials: SecureCredentials | undefined;
    if (config.profile === 'secure') {
      const material = ensureSecureMaterial(config, options.fresh === true);
      credentials = material.credentials;
      if (material.created) {
        // New users and certificates: whatever ran before with the old ones must go.
        await stopServices(config, log);
        wipeData(config, log);
        log(`secure: new test CA, certificates and credentials in ${secureFiles(config).dir}`);
      }
    }
    const toStart: ServiceName[] = [];
    const toAwait: ServiceName[] = [];
    for (const service of SERVICES) {
      const f = facts(config, service);
      const record = runningRecord(f);
      if (record === undefined) {
        for (const port of f.ports) {
          if (!(await portIsFree(port))) {
            throw new StackError(`${service} is not running from ${config.cacheDir}, but 127.0.0.1:${port} is taken by another process; stop it or choose other ports (see README, "Local stack")`);
          }
        }
        toStart.push(service);
      } else if (await f.answers()) {
        log(`${service}: running (pid ${record.pid}) and answering at ${f.address}; reused`);
      } else {
        log(`${service}: running (pid ${record.pid}) but not answering yet; waiting`);
        toAwait.push(service);
      }
    }
    if (toStart.length > 0) {
      ensureArtifacts(config, log);
      const java = findJava();
      for (const service of toStart) {
        const f = facts(config, service);
        const pid = startService(config, service, java, log, credentials);
        writePidFile(f.pidFile, { pid, marker: f.marker, startedAt: new Date().toISOString() });
        log(`${service}: started (pid ${pid}), log ${f.logFile}`);
        toAwait.push(service);
      }
    }
    await Promise.all(toAwait.map((service) => awaitAnswer(config, service, deadline, log)));
    if (config.profile !== 'secure') return { endpoints: stackEndpoints(config), started: toStart };
    await provisionSecureStack(config);
    const files = secureFiles(config);
    return { endpoints: stackEndpoints(config), started: toStart, secure: { credentialsFile: files.credentials, caFile: files.caFile, untrustedCaFile: files.untrustedCaFile, pipelineApiKeyFile: files.pipelineApiKey } };
  });
}

function startService(config: StackConfig, service: ServiceName, java: ReturnType<typeof findJava>, log: Log, credentials: SecureCredentials | undefined): number {
  switch (service) {
    case 'kafka': {
      prepareKafka(config, java, credentials);
      const { command, args } = kafkaCommand(config, java);
      return spawnDetached({ command, args, cwd: config.kafka.home, env: { ...process.env }, logFile: config.kafka.logFile });
    }
    case 'elasticsearch': {
      const runAs = ensureRunAs();
      if (runAs !== undefined) log(`elasticsearch: running as '${runAs.user}' (Elasticsearch refuses to run as root)`);
      if (credentials !== undefined) prepareSecureElasticsearchConf(config, java, credentials);
      ensureEmailAnalysisPlugin(config, java, log);
      prepareElasticsearch(config, runAs);
      const { command, args, env } = elasticsearchCommand(config, java, runAs);
      return spawnDetached({
        command, args, env, cwd: config.elasticsearch.distDir, logFile: config.elasticsearch.logFile,
        ...(runAs === undefined ? {} : { uid: runAs.uid, gid: runAs.gid }),
      });
    }
    default: {
      const unknown: never = service;
      throw new Error(`unknown service ${String(unknown)}`);
    }
  }
}

async function awaitAnswer(config: StackConfig, service: ServiceName, deadline: number, log: Log): Promise<void> {
  const f = facts(config, service);
  const startedAtMs = Date.now();
  let outcome: 'answering' | 'exited';
  try {
    outcome = await waitFor(async (): Promise<'answering' | 'exited' | false> => {
      const record = readPidFile(f.pidFile);
      if (record === undefined || !isOurs(record)) return 'exited';
      return (await f.answers(3000)) && 'answering';
    }, { timeoutMs: Math.max(1000, deadline - Date.now()), intervalMs: 500, what: `${service} to answer at ${f.address}` });
  } catch {
    throw failure(service, f, `did not answer at ${f.address} within ${Math.round(config.startTimeoutMs / 1000)} s (ZEEK_RST_STACK_TIMEOUT_S)`);
  }
  if (outcome === 'exited') {
    removePidFile(f.pidFile);
    throw failure(service, f, 'exited during startup');
  }
  log(`${service}: answering at ${f.address} after ${((Date.now() - startedAtMs) / 1000).toFixed(1)} s`);
}

async function stopServices(config: StackConfig, log: Log, only: readonly ServiceName[] = SERVICES): Promise<void> {
  for (const service of SERVICES.filter((s) => only.includes(s))) {
    const f = facts(config, service);
    const record = readPidFile(f.pidFile);
    if (record === undefined) {
      log(`${service}: not running`);
      continue;
    }
    const outcome = await stopGroup(record, config.stopTimeoutMs);
    removePidFile(f.pidFile);
    switch (outcome) {
      case 'stopped': log(`${service}: stopped (pid ${record.pid})`); break;
      case 'killed': log(`${service}: did not stop within ${config.stopTimeoutMs / 1000} s; killed (pid ${record.pid})`); break;
      case 'not-running': log(`${service}: not running (stale pid file removed)`); break;
      default: {
        const unknown: never = outcome;
        throw new Error(`unknown outcome ${String(unknown)}`);
      }
    }
  }
}

function wipeData(config: StackConfig, log: Log): void {
  // The secure node's config folder holds its file-realm admin: made again with the credentials.
  const secureConf = config.profile === 'secure' ? [config.elasticsearch.confDir] : [];
  for (const dir of [config.kafka.dataDir, config.elasticsearch.dataDir, ...secureConf]) {
    fs.rmSync(dir, { recursive: true, force: true });
    log(`wiped ${dir}`);
  }
}

/** Stops exactly the processes `up` started (by their pid files), nothing else; `only` narrows it. */
export async function stopStack(
  options: { readonly root?: string; readonly log?: Log; readonly only?: readonly ServiceName[]; readonly profile?: StackProfile } = {},
): Promise<void> {
  const config = createStackConfig(options.root ?? REPO_ROOT, process.env, options.profile ?? 'plain');
  await withLock(config, config.stopTimeoutMs * 3, () => stopServices(config, options.log ?? (() => undefined), options.only));
}

/**
 * Freezes (SIGSTOP) or resumes (SIGCONT) one running service of ours, every process of its group:
 * the outage tests' way to make a node hang rather than refuse (test/outage/). Throws when the
 * service is not running.
 */
export function signalService(service: ServiceName, signal: 'SIGSTOP' | 'SIGCONT', options: { readonly root?: string; readonly profile?: StackProfile } = {}): void {
  const config = createStackConfig(options.root ?? REPO_ROOT, process.env, options.profile ?? 'plain');
  const record = runningRecord(facts(config, service));
  if (record === undefined || !signalOurGroup(record, signal)) throw new StackError(`${service} is not running: nothing to ${signal === 'SIGSTOP' ? 'freeze' : 'resume'}`);
}

/** Stops the stack and deletes its data: the next `up` starts with no topics and no indices. */
export async function resetStack(options: { readonly root?: string; readonly log?: Log; readonly profile?: StackProfile } = {}): Promise<void> {
  const config = createStackConfig(options.root ?? REPO_ROOT, process.env, options.profile ?? 'plain');
  const log = options.log ?? (() => undefined);
  await withLock(config, config.stopTimeoutMs * 3, async () => {
    await stopServices(config, log);
    wipeData(config, log);
  });
}

export interface ServiceStatus {
  readonly service: ServiceName;
  readonly state: 'healthy' | 'not-answering' | 'stopped';
  readonly pid?: number;
  readonly address: string;
  readonly logFile: string;
  /** Every process of the service's group (leader first when alive). */
  readonly pids: readonly number[];
  readonly listeners: readonly Listener[];
}

export async function stackStatus(options: { readonly root?: string; readonly profile?: StackProfile } = {}): Promise<readonly ServiceStatus[]> {
  const config = createStackConfig(options.root ?? REPO_ROOT, process.env, options.profile ?? 'plain');
  return Promise.all(SERVICES.map(async (service): Promise<ServiceStatus> => {
    const f = facts(config, service);
    const record = runningRecord(f);
    if (record === undefined) return { service, state: 'stopped', address: f.address, logFile: f.logFile, pids: [], listeners: [] };
    const pids = groupMembers(record.pid);
    return {
      service,
      state: (await f.answers()) ? 'healthy' : 'not-answering',
      pid: record.pid,
      address: f.address,
      logFile: f.logFile,
      pids,
      listeners: listenersOf(pids),
    };
  }));
}
