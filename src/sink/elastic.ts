/**
 * The Elasticsearch sink: buffers documents, writes them with the bulk API (`index` actions,
 * deterministic `_id`s, so a replay rewrites rather than duplicates) and reports completion
 * back by sequence number. Retries follow sink/retry.ts and never give up; a document whose
 * content Elasticsearch refuses is handed to `onRejected` (the dead-letter topic).
 *
 * One bulk request is in flight at a time, so two writes of the same `_id` (first
 * classification, then a re-classification) reach Elasticsearch in the order they were made.
 */
import { readFileSync } from 'node:fs';
import { Client, errors, type ClientOptions } from '@elastic/elasticsearch';
import type { Config } from '../config/schema';
import type { SourceRef } from '../domain';
import { ZeekRstError } from '../errors';
import type { Logger } from '../log';
import type { Metrics } from '../metrics';
import { backoffMs, decideBulk, type BulkResponse, type ItemOutcome } from './retry';
import { connTemplateBody, indexNames, scansIndexBody } from './templates';

export interface SinkDocument {
  readonly id: string;
  readonly index: string;
  /** The JSON document (`_source`). */
  readonly body: unknown;
  /** The conn record's origin, named in the dead letter when Elasticsearch refuses the document. */
  readonly source: SourceRef;
  /** `rst.verdict`, or undefined when the connection has no RST: counted per verdict. */
  readonly verdict: string | undefined;
}

export interface Rejection {
  readonly doc: SinkDocument;
  readonly status: number;
  readonly errorType: string;
  readonly reason: string;
}

export interface SinkSettings {
  readonly bulkMaxDocs: number;
  readonly bulkMaxBytes: number;
  readonly flushIntervalMs: number;
  readonly retryInitialMs: number;
  readonly retryMaxMs: number;
}

export interface ElasticSink {
  /** Queues a document; returns its sequence number (1, 2, 3 ...). */
  enqueue(doc: SinkDocument): number;
  /** Sequence number of the last document enqueued (0 before the first). */
  lastEnqueued(): number;
  /** Every document with a sequence number up to this one is acknowledged or dead-lettered. */
  completedThrough(): number;
  /** Documents queued or in flight. */
  pendingCount(): number;
  /** Resolves when every document enqueued so far is complete. */
  drain(): Promise<void>;
  /** False while the last bulk attempt failed (Elasticsearch down or refusing). */
  healthy(): boolean;
  /** Stops after the current attempt; documents still pending stay incomplete (their offsets uncommitted). */
  close(): Promise<void>;
}

export interface SinkDeps {
  readonly client: Client;
  readonly settings: SinkSettings;
  readonly log: Logger;
  readonly metrics: Metrics;
  /** Sends a refused document to the dead-letter topic; resolves once Kafka acknowledged it. */
  readonly onRejected: (rejection: Rejection) => Promise<void>;
  /** Called once when a request fails for a reason retrying cannot fix (sink/retry.ts `fail`). */
  readonly onFatal: (err: ZeekRstError) => void;
  readonly random?: () => number;
}

interface Queued {
  readonly seq: number;
  readonly doc: SinkDocument;
  readonly bytes: number;
  readonly action: string;
  readonly source: string;
}

/** Builds the client from the configuration; the client's own retries are off (retry.ts decides). */
export function createEsClient(config: Config['elasticsearch']): Client {
  const options: ClientOptions = { node: config.node, maxRetries: 0, requestTimeout: config.requestTimeoutMs, sniffOnStart: false };
  if (config.apiKey !== undefined) options.auth = { apiKey: config.apiKey };
  else if (config.username !== undefined && config.password !== undefined) options.auth = { username: config.username, password: config.password };
  if (config.caFile !== undefined) {
    try {
      options.tls = { ca: readFileSync(config.caFile, 'utf8') };
    } catch (err: unknown) {
      throw new ZeekRstError('ZRST_CONFIG_INVALID', `elasticsearch.caFile: cannot read ${config.caFile}`, { cause: err });
    }
  }
  return new Client(options);
}

/** Maps what the client returned or threw to retry.ts's input. */
export function toBulkResponse(outcome: { ok: true; status: number; body: unknown } | { ok: false; error: unknown }): BulkResponse {
  if (outcome.ok) return { kind: 'http', status: outcome.status, body: outcome.body };
  const err = outcome.error;
  if (err instanceof errors.ResponseError && typeof err.meta.statusCode === 'number') return { kind: 'http', status: err.meta.statusCode, body: err.meta.body };
  if (err instanceof Error) return { kind: 'transport_error', name: err.name, message: err.message };
  return { kind: 'transport_error', name: 'Error', message: String(err) };
}

export function createElasticSink(deps: SinkDeps): ElasticSink {
  const { client, settings, log, metrics } = deps;
  const random = deps.random ?? Math.random;
  let queue: Queued[] = [];
  let queuedBytes = 0;
  let inFlight = 0;
  let nextSeq = 1;
  let completed = 0;
  /** Sequence numbers completed out of order (possible only across retried partial batches). */
  const doneAhead = new Set<number>();
  let isHealthy = true;
  let closed = false;
  let failed = false;
  let wake: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  let drainWaiters: (() => void)[] = [];
  let sleeper: { timer: NodeJS.Timeout; resolve: () => void } | undefined;

  const pending = (): number => queue.length + inFlight;

  const complete = (seq: number): void => {
    doneAhead.add(seq);
    while (doneAhead.has(completed + 1)) {
      doneAhead.delete(completed + 1);
      completed += 1;
    }
  };

  const notifyDrain = (): void => {
    if (completed === nextSeq - 1) {
      const waiters = drainWaiters;
      drainWaiters = [];
      for (const w of waiters) w();
    }
  };

  const sleep = (ms: number): Promise<void> =>
    new Promise<void>((resolve) => {
      sleeper = {
        timer: setTimeout(() => {
          sleeper = undefined;
          resolve();
        }, ms),
        resolve,
      };
    });

  const send = async (batch: readonly Queued[]): Promise<BulkResponse> => {
    // Pre-serialized lines: the client's ndjson serializer passes strings through unchanged.
    const operations = batch.flatMap((q) => [q.action, q.source]);
    const started = process.hrtime.bigint();
    let response: BulkResponse;
    try {
      const res = await client.bulk<string>({ operations }, { meta: true });
      response = toBulkResponse({ ok: true, status: res.statusCode, body: res.body });
    } catch (error: unknown) {
      response = toBulkResponse({ ok: false, error });
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    metrics.bulkDuration.observe({ outcome: response.kind === 'http' && response.status < 300 ? 'ok' : 'retry' }, seconds);
    return response;
  };

  /** Writes one batch until every item is acknowledged or dead-lettered. */
  const writeBatch = async (initial: readonly Queued[]): Promise<void> => {
    let batch = initial;
    let attempt = 0;
    while (batch.length > 0 && !closed) {
      const decision = decideBulk(await send(batch), batch.length);
      if (decision.kind === 'fail') {
        isHealthy = false;
        failed = true;
        metrics.errors.inc({ stage: 'sink', kind: 'fail' });
        deps.onFatal(new ZeekRstError('ZRST_ES_REJECTED', decision.why));
        return;
      }
      let retry: Queued[] = [];
      if (decision.kind === 'retry_request') {
        retry = [...batch];
        metrics.bulkRetries.inc({ scope: 'request' });
        log.warn({ attempt, docs: batch.length, why: decision.why }, 'bulk request failed; retrying');
      } else {
        const rejections: Promise<void>[] = [];
        decision.items.forEach((outcome: ItemOutcome, i) => {
          const q = batch[i];
          if (q === undefined) return;
          if (outcome.kind === 'acknowledged') {
            metrics.documentsOut.inc();
            metrics.verdicts.inc({ verdict: q.doc.verdict ?? 'none' });
            complete(q.seq);
          } else if (outcome.kind === 'retry') {
            retry.push(q);
          } else {
            log.warn({ id: q.doc.id, index: q.doc.index, status: outcome.status, errorType: outcome.errorType }, 'document refused by Elasticsearch; dead-lettering it');
            rejections.push(
              deps.onRejected({ doc: q.doc, status: outcome.status, errorType: outcome.errorType, reason: outcome.reason }).then(() => {
                complete(q.seq);
              }),
            );
          }
        });
        await Promise.all(rejections);
        if (retry.length > 0) {
          metrics.bulkRetries.inc({ scope: 'item' }, retry.length);
          log.warn({ attempt, docs: retry.length }, 'bulk items refused for now; retrying them');
        }
      }
      isHealthy = retry.length === 0;
      batch = retry;
      if (batch.length > 0) {
        await sleep(backoffMs(attempt, { initialMs: settings.retryInitialMs, maxMs: settings.retryMaxMs }, random));
        attempt += 1;
      }
    }
  };

  const takeBatch = (): Queued[] => {
    let n = 0;
    let bytes = 0;
    while (n < queue.length && n < settings.bulkMaxDocs) {
      const q = queue[n];
      if (q === undefined || (n > 0 && bytes + q.bytes > settings.bulkMaxBytes)) break;
      bytes += q.bytes;
      n += 1;
    }
    const batch = queue.slice(0, n);
    queue = queue.slice(n);
    queuedBytes -= bytes;
    return batch;
  };

  const loop = async (): Promise<void> => {
    while (!closed && !failed) {
      const full = queue.length >= settings.bulkMaxDocs || queuedBytes >= settings.bulkMaxBytes;
      if (queue.length === 0 || (!full && timer !== undefined && drainWaiters.length === 0)) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
        continue;
      }
      if (timer !== undefined) {
        clearTimeout(timer);
        timer = undefined;
      }
      const batch = takeBatch();
      inFlight = batch.length;
      metrics.sinkPending.set(pending());
      try {
        await writeBatch(batch);
      } catch (err: unknown) {
        // writeBatch handles every response; anything here is a bug in the dead-letter path.
        failed = true;
        deps.onFatal(err instanceof ZeekRstError ? err : new ZeekRstError('ZRST_ES_UNAVAILABLE', err instanceof Error ? err.message : String(err), { cause: err }));
      }
      inFlight = 0;
      metrics.sinkPending.set(pending());
      notifyDrain();
    }
  };

  const kick = (): void => {
    if (wake !== undefined) wake();
  };

  const running = loop();

  return {
    enqueue(doc) {
      const seq = nextSeq;
      nextSeq += 1;
      const action = JSON.stringify({ index: { _index: doc.index, _id: doc.id } });
      const source = JSON.stringify(doc.body);
      const bytes = action.length + source.length + 2;
      queue.push({ seq, doc, bytes, action, source });
      queuedBytes += bytes;
      metrics.sinkPending.set(pending());
      if (queue.length >= settings.bulkMaxDocs || queuedBytes >= settings.bulkMaxBytes) kick();
      else if (timer === undefined) {
        // A partial batch waits at most flushIntervalMs; the timer is unref'd so it never holds the process.
        timer = setTimeout(() => {
          timer = undefined;
          kick();
        }, settings.flushIntervalMs);
        timer.unref();
      }
      return seq;
    },
    lastEnqueued: () => nextSeq - 1,
    completedThrough: () => completed,
    pendingCount: pending,
    drain() {
      if (completed === nextSeq - 1) return Promise.resolve();
      return new Promise<void>((resolve) => {
        drainWaiters.push(resolve);
        kick();
      });
    },
    healthy: () => isHealthy && !failed,
    async close() {
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      if (sleeper !== undefined) {
        clearTimeout(sleeper.timer);
        sleeper.resolve();
      }
      kick();
      await running;
    },
  };
}

/** What `installTemplates` did, for the log and the setup command's output. */
export interface InstallReport {
  readonly template: 'created' | 'updated' | 'kept';
  readonly scansIndex: 'created' | 'kept';
}

/**
 * Installs the conn index template (with its aliases) and the scans index. With `onlyIfAbsent`
 * (what `run` does) an existing template is kept as it is; `setup` always writes the current one.
 * Daily indices that already exist keep the mapping they were created with.
 */
export async function installTemplates(client: Client, prefix: string, options: { readonly onlyIfAbsent: boolean }): Promise<InstallReport> {
  const names = indexNames(prefix);
  try {
    const exists = await client.indices.existsIndexTemplate({ name: names.connTemplate });
    let template: InstallReport['template'] = 'kept';
    if (!exists || !options.onlyIfAbsent) {
      await client.indices.putIndexTemplate({ name: names.connTemplate, ...connTemplateBody(prefix) });
      template = exists ? 'updated' : 'created';
    }
    let scansIndex: InstallReport['scansIndex'] = 'kept';
    if (!(await client.indices.exists({ index: names.scansIndex }))) {
      try {
        await client.indices.create({ index: names.scansIndex, ...scansIndexBody() });
        scansIndex = 'created';
      } catch (err: unknown) {
        // Another instance created it between our check and our call: that is the outcome we wanted.
        if (!(err instanceof errors.ResponseError && err.body !== undefined && JSON.stringify(err.body).includes('resource_already_exists_exception'))) throw err;
      }
    }
    return { template, scansIndex };
  } catch (err: unknown) {
    if (err instanceof errors.ResponseError) throw new ZeekRstError('ZRST_ES_REJECTED', `installing templates: HTTP ${String(err.statusCode)} ${err.message}`, { cause: err });
    throw new ZeekRstError('ZRST_ES_UNAVAILABLE', `installing templates: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}
