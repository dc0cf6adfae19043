/**
 * The Elasticsearch sink: buffers documents, writes them with the bulk API (`index` actions,
 * deterministic `_id`s, so a replay rewrites rather than duplicates) and reports completion
 * back by sequence number. Retries follow sink/retry.ts and never give up; a document whose
 * content Elasticsearch refuses is handed to `onRejected` (the dead-letter topic).
 *
 * Up to `bulkConcurrency` bulk requests are in flight, one per lane; a document's lane is a hash
 * of its `_id`, and a lane sends its next request only when the previous one is done (retries
 * included), so two writes of the same `_id` (first classification, then a re-classification)
 * reach Elasticsearch in the order they were made. Sequence numbers are global: lanes complete
 * out of order, and `completedThrough()` is the highest number below which every document is
 * done, which is what the checkpoint (state/checkpoint.ts) waits for.
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
  /** The document (`_source`) as JSON. */
  readonly json: string;
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
  /** Bulk requests in flight at most: one per lane, documents assigned to lanes by `_id` hash. */
  readonly bulkConcurrency: number;
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
  /** Bulk requests in flight now (at most `bulkConcurrency`; a batch being retried counts). */
  requestsInFlight(): number;
  /** Resolves when every document enqueued so far is complete. */
  drain(): Promise<void>;
  /** False while a bulk request is being retried (Elasticsearch down or refusing) or after a fatal refusal. */
  healthy(): boolean;
  /**
   * While documents are pending: ms since a document was last acknowledged (or dead-lettered),
   * counted from when documents started waiting; 0 when nothing is pending. An Elasticsearch that
   * answers but refuses every item for now (a 429 block) makes no progress either.
   */
  msSinceProgress(): number;
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
  /** Wall clock in ms (injectable for tests). */
  readonly now?: () => number;
}

/**
 * A queued document, its JSON as the pipeline wrote it, and its bulk action line, built once at
 * enqueue: what the request, the metrics, the log and a dead letter need.
 */
interface Queued {
  readonly seq: number;
  readonly doc: SinkDocument;
  readonly bytes: number;
  readonly action: string;
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

/** FNV-1a of the `_id`: the lane of a document, so that every write of one `_id` goes through one lane. */
export function laneOf(id: string, lanes: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i += 1) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % lanes;
}

/**
 * The start of the last index's action line: consecutive documents nearly always share their
 * daily index. Undefined until the first line, so that no index (not even '') finds a head that
 * was never built for it.
 */
let lastAction: { readonly index: string; readonly head: string } | undefined;

/**
 * A document's bulk action line, the bytes `JSON.stringify({ index: { _index, _id } })` gives
 * (elastic.test.ts compares them), with the index part built once per index rather than per
 * document: a whole stringify of the wrapper cost about a quarter as much as the document's own.
 */
export function bulkActionLine(index: string, id: string): string {
  if (lastAction?.index !== index) lastAction = { index, head: `{"index":{"_index":${JSON.stringify(index)},"_id":` };
  return `${lastAction.head}${JSON.stringify(id)}}}`;
}

interface Lane {
  /** Queued documents, oldest first, from `head` on. */
  queue: Queued[];
  head: number;
  queuedBytes: number;
  inFlight: number;
  wake: (() => void) | undefined;
  timer: NodeJS.Timeout | undefined;
  sleeper: { timer: NodeJS.Timeout; resolve: () => void } | undefined;
}

export function createElasticSink(deps: SinkDeps): ElasticSink {
  const { client, settings, log, metrics } = deps;
  const random = deps.random ?? Math.random;
  const now = deps.now ?? Date.now;
  const laneCount = settings.bulkConcurrency;
  const lanes: Lane[] = Array.from({ length: laneCount }, () => ({ queue: [], head: 0, queuedBytes: 0, inFlight: 0, wake: undefined, timer: undefined, sleeper: undefined }));
  let queuedTotal = 0;
  let inFlightTotal = 0;
  /** Lanes with a batch out (zeek_rst_bulk_requests_in_flight). */
  let requests = 0;
  let nextSeq = 1;
  let completed = 0;
  /** Sequence numbers completed ahead of `completed`: lanes finish out of order (bounded by the pending documents). */
  const doneAhead = new Set<number>();
  let failingRequests = 0;
  let lastSuccessMs = now();
  let closed = false;
  let failed = false;
  let drainWaiters: (() => void)[] = [];

  const pending = (): number => queuedTotal + inFlightTotal;

  const complete = (seq: number): void => {
    if (seq === completed + 1) {
      completed = seq;
      while (doneAhead.delete(completed + 1)) completed += 1;
    } else doneAhead.add(seq);
  };

  const notifyDrain = (): void => {
    if (completed === nextSeq - 1) {
      const waiters = drainWaiters;
      drainWaiters = [];
      for (const w of waiters) w();
    }
  };

  const sleep = (lane: Lane, ms: number): Promise<void> =>
    new Promise<void>((resolve) => {
      lane.sleeper = {
        timer: setTimeout(() => {
          lane.sleeper = undefined;
          resolve();
        }, ms),
        resolve,
      };
    });

  const send = async (batch: readonly Queued[]): Promise<BulkResponse> => {
    // Pre-serialized lines: the client's ndjson serializer passes strings through unchanged.
    const operations = batch.flatMap((q) => [q.action, q.doc.json]);
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
  const writeBatch = async (lane: Lane, initial: readonly Queued[]): Promise<void> => {
    let batch = initial;
    let attempt = 0;
    let failing = false;
    const setFailing = (f: boolean): void => {
      if (f !== failing) failingRequests += f ? 1 : -1;
      failing = f;
    };
    try {
      while (batch.length > 0 && !closed) {
        const decision = decideBulk(await send(batch), batch.length);
        if (decision.kind === 'fail') {
          setFailing(true);
          failed = true;
          metrics.errors.inc({ stage: 'sink', kind: 'fail' });
          deps.onFatal(new ZeekRstError(decision.status === 401 ? 'ZRST_ES_AUTH_FAILED' : decision.status === 403 ? 'ZRST_ES_NOT_AUTHORIZED' : 'ZRST_ES_REJECTED', decision.why));
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
              lastSuccessMs = now();
              metrics.documentsOut.inc();
              metrics.verdicts.inc({ verdict: q.doc.verdict ?? 'none' });
              complete(q.seq);
            } else if (outcome.kind === 'retry') {
              retry.push(q);
            } else {
              log.warn({ id: q.doc.id, index: q.doc.index, status: outcome.status, errorType: outcome.errorType }, 'document refused by Elasticsearch; dead-lettering it');
              rejections.push(
                deps.onRejected({ doc: q.doc, status: outcome.status, errorType: outcome.errorType, reason: outcome.reason }).then(() => {
                  lastSuccessMs = now();
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
        setFailing(retry.length > 0);
        batch = retry;
        if (batch.length > 0) {
          await sleep(lane, backoffMs(attempt, { initialMs: settings.retryInitialMs, maxMs: settings.retryMaxMs }, random));
          attempt += 1;
        }
      }
    } finally {
      if (!failed) setFailing(false);
    }
  };

  const takeBatch = (lane: Lane): Queued[] => {
    let n = 0;
    let bytes = 0;
    const available = lane.queue.length - lane.head;
    while (n < available && n < settings.bulkMaxDocs) {
      const q = lane.queue[lane.head + n];
      if (q === undefined || (n > 0 && bytes + q.bytes > settings.bulkMaxBytes)) break;
      bytes += q.bytes;
      n += 1;
    }
    const batch = lane.queue.slice(lane.head, lane.head + n);
    lane.head += n;
    if (lane.head === lane.queue.length) {
      lane.queue = [];
      lane.head = 0;
    } else if (lane.head > 4096 && lane.head * 2 > lane.queue.length) {
      lane.queue = lane.queue.slice(lane.head);
      lane.head = 0;
    }
    lane.queuedBytes -= bytes;
    queuedTotal -= n;
    return batch;
  };

  const isFull = (lane: Lane): boolean => lane.queue.length - lane.head >= settings.bulkMaxDocs || lane.queuedBytes >= settings.bulkMaxBytes;

  /** One lane: at most one bulk request in flight, so writes of one `_id` keep their order. */
  const loop = async (lane: Lane): Promise<void> => {
    while (!closed && !failed) {
      const queued = lane.queue.length - lane.head;
      if (queued === 0 || (!isFull(lane) && lane.timer !== undefined && drainWaiters.length === 0)) {
        await new Promise<void>((resolve) => {
          lane.wake = resolve;
        });
        lane.wake = undefined;
        continue;
      }
      if (lane.timer !== undefined) {
        clearTimeout(lane.timer);
        lane.timer = undefined;
      }
      const batch = takeBatch(lane);
      lane.inFlight = batch.length;
      inFlightTotal += batch.length;
      requests += 1;
      metrics.bulkInFlight.set(requests);
      metrics.sinkPending.set(pending());
      try {
        await writeBatch(lane, batch);
      } catch (err: unknown) {
        // writeBatch handles every response; anything here is a bug in the dead-letter path.
        failed = true;
        deps.onFatal(err instanceof ZeekRstError ? err : new ZeekRstError('ZRST_ES_UNAVAILABLE', err instanceof Error ? err.message : String(err), { cause: err }));
      }
      inFlightTotal -= lane.inFlight;
      lane.inFlight = 0;
      requests -= 1;
      metrics.bulkInFlight.set(requests);
      metrics.sinkPending.set(pending());
      notifyDrain();
    }
  };

  const kick = (lane: Lane): void => {
    if (lane.wake !== undefined) lane.wake();
  };
  const kickAll = (): void => {
    for (const lane of lanes) kick(lane);
  };

  const running = Promise.all(lanes.map(loop));

  return {
    enqueue(doc) {
      const seq = nextSeq;
      nextSeq += 1;
      const action = bulkActionLine(doc.index, doc.id);
      const bytes = action.length + doc.json.length + 2;
      // The time without progress counts from when documents started waiting, not from an idle past.
      if (pending() === 0) lastSuccessMs = now();
      const lane = lanes[laneCount === 1 ? 0 : laneOf(doc.id, laneCount)];
      if (lane === undefined) throw new Error(`no lane for ${doc.id}`);
      lane.queue.push({ seq, doc, bytes, action });
      lane.queuedBytes += bytes;
      queuedTotal += 1;
      metrics.sinkPending.set(pending());
      if (isFull(lane)) kick(lane);
      else if (lane.timer === undefined) {
        // A partial batch waits at most flushIntervalMs; the timer is unref'd so it never holds the process.
        lane.timer = setTimeout(() => {
          lane.timer = undefined;
          kick(lane);
        }, settings.flushIntervalMs);
        lane.timer.unref();
      }
      return seq;
    },
    lastEnqueued: () => nextSeq - 1,
    completedThrough: () => completed,
    pendingCount: pending,
    requestsInFlight: () => requests,
    drain() {
      if (completed === nextSeq - 1) return Promise.resolve();
      return new Promise<void>((resolve) => {
        drainWaiters.push(resolve);
        kickAll();
      });
    },
    healthy: () => failingRequests === 0 && !failed,
    msSinceProgress: () => (pending() === 0 ? 0 : Math.max(0, now() - lastSuccessMs)),
    async close() {
      closed = true;
      for (const lane of lanes) {
        if (lane.timer !== undefined) clearTimeout(lane.timer);
        if (lane.sleeper !== undefined) {
          clearTimeout(lane.sleeper.timer);
          lane.sleeper.resolve();
        }
      }
      kickAll();
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
export async function installTemplates(client: Client, prefix: string, options: { readonly onlyIfAbsent: boolean; readonly refreshIntervalS: number }): Promise<InstallReport> {
  const names = indexNames(prefix);
  try {
    const exists = await client.indices.existsIndexTemplate({ name: names.connTemplate });
    let template: InstallReport['template'] = 'kept';
    if (!exists || !options.onlyIfAbsent) {
      await client.indices.putIndexTemplate({ name: names.connTemplate, ...connTemplateBody(prefix, options.refreshIntervalS) });
      template = exists ? 'updated' : 'created';
    }
    const createIfAbsent = async (index: string, body: Readonly<Record<string, unknown>>): Promise<boolean> => {
      if (await client.indices.exists({ index })) return false;
      try {
        await client.indices.create({ index, ...body });
        return true;
      } catch (err: unknown) {
        // Another instance created it between our check and our call: that is the outcome we wanted.
        if (!(err instanceof errors.ResponseError && err.body !== undefined && JSON.stringify(err.body).includes('resource_already_exists_exception'))) throw err;
        return false;
      }
    };
    const scansIndex: InstallReport['scansIndex'] = (await createIfAbsent(names.scansIndex, scansIndexBody())) ? 'created' : 'kept';
    // Empty; takes the template's mapping and aliases, so the data views have fields before any document.
    await createIfAbsent(names.connBootstrap, {});
    return { template, scansIndex };
  } catch (err: unknown) {
    throw asEsError(err, 'installing templates');
  }
}

/** Certificate verification failures of Node's TLS (error codes and messages). */
const TLS_TRUST = /self[- ]signed certificate|unable to verify|unable to get (local )?issuer|certificate has expired|certificate is not yet valid|Hostname\/IP does not match|ERR_TLS_CERT_ALTNAME_INVALID|CERT_/i;

/**
 * What an Elasticsearch call threw, as a ZeekRstError with a stable code: 401 = the credentials,
 * 403 = a missing privilege, an untrusted certificate, any other HTTP answer, or no answer.
 */
export function asEsError(err: unknown, what: string): ZeekRstError {
  if (err instanceof ZeekRstError) return err;
  if (err instanceof errors.ResponseError) {
    const status = err.statusCode ?? 0;
    const code = status === 401 ? 'ZRST_ES_AUTH_FAILED' : status === 403 ? 'ZRST_ES_NOT_AUTHORIZED' : 'ZRST_ES_REJECTED';
    // A HEAD request (exists) has no body, hence no reason: name the request instead.
    const params = err.meta.meta.request.params;
    const detail = err.message.trim() === '' || err.message === 'Response Error' ? `(${params.method} ${params.path.split('?')[0] ?? ''})` : err.message;
    return new ZeekRstError(code, `${what}: HTTP ${String(status)} ${detail}`, { cause: err });
  }
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof errors.ConnectionError && TLS_TRUST.test(message)) return new ZeekRstError('ZRST_TLS_UNTRUSTED', `${what}: ${message}`, { cause: err });
  return new ZeekRstError('ZRST_ES_UNAVAILABLE', `${what}: ${message}`, { cause: err });
}
