/**
 * `npm run bench -- bulk [--docs N] [--concurrency 1,2,4,8]`: bulk indexing into the local
 * Elasticsearch (ZEEK_RST_ES_NODE, default the local stack) of the same ECS documents, at each
 * concurrency, two ways:
 * - raw: the client's `bulk` with that many requests in flight over pre-serialized chunks of
 *   `sink.bulkMaxDocs` documents, no retries, no bookkeeping: the ceiling;
 * - sink: `createElasticSink` (dist/) with `bulkConcurrency` lanes, fed as `run` feeds it
 *   (never more than `sink.maxPendingDocs` pending): what the pipeline can get out of it.
 * Each measurement writes a fresh index, deleted afterwards. The documents are what `run`
 * indexes: the m57 conn lines of bench/inputs.ts through the classify pipeline, repeated with
 * distinct uids. `--json` prints one JSON object on the last line.
 */
import { Client } from '@elastic/elasticsearch';

import type * as Elastic from '../src/sink/elastic';
import type * as Log from '../src/log';
import type * as Metrics from '../src/metrics';
import type * as Schema from '../src/config/schema';
import { positiveInt, positiveInts } from './args';
import { fromDist } from './dist';

const { createElasticSink } = fromDist('sink/elastic') as typeof Elastic;
const { createRootLogger, stageLogger } = fromDist('log') as typeof Log;
const { createMetrics } = fromDist('metrics') as typeof Metrics;
const { CONFIG_SCHEMA } = fromDist('config/schema') as typeof Schema;

export interface BulkDoc {
  readonly id: string;
  /** The JSON document. */
  readonly body: unknown;
}

export interface BulkFigure {
  readonly concurrency: number;
  readonly docsPerS: number;
}

const SOURCE = { kind: 'kafka', topic: 'bench', partition: 0, offset: '0' } as const;
export const DEFAULT_BULK_MAX_DOCS = CONFIG_SCHEMA.sink.bulkMaxDocs.default;
export const DEFAULT_MAX_PENDING = CONFIG_SCHEMA.sink.maxPendingDocs.default;

export function esNode(): string {
  return process.env['ZEEK_RST_ES_NODE'] ?? `http://127.0.0.1:${process.env['ZEEK_RST_STACK_ES_PORT'] ?? '19200'}`;
}

/** Settings and mappings of a bench index; default: no replica, dynamic mapping. */
export interface IndexBody {
  readonly settings?: Record<string, unknown>;
  readonly mappings?: Record<string, unknown>;
}

async function freshIndex(es: Client, label: string, body: IndexBody = { settings: { number_of_replicas: 0 } }): Promise<string> {
  const index = `zeek-rst-bench-${label}-${Date.now().toString(36)}`;
  await es.indices.create({ index, ...body });
  return index;
}

/** Raw client bulk at `concurrency` requests in flight; docs/s. `body`: the index's settings and mappings. */
export async function rawBulk(es: Client, docs: readonly BulkDoc[], concurrency: number, chunk = DEFAULT_BULK_MAX_DOCS, body?: IndexBody): Promise<number> {
  const index = await freshIndex(es, `raw${concurrency}`, body);
  try {
    const bodies: string[][] = [];
    for (let i = 0; i < docs.length; i += chunk) {
      bodies.push(docs.slice(i, i + chunk).flatMap((d) => [JSON.stringify({ index: { _index: index, _id: d.id } }), JSON.stringify(d.body)]));
    }
    let next = 0;
    const started = process.hrtime.bigint();
    const worker = async (): Promise<void> => {
      for (let b = bodies[next++]; b !== undefined; b = bodies[next++]) {
        const res = await es.bulk<string>({ operations: b });
        if (res.errors) throw new Error(`bench: raw bulk had item errors: ${JSON.stringify(res.items.find((it) => it.index?.error !== undefined))}`);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    return docs.length / (Number(process.hrtime.bigint() - started) / 1e9);
  } finally {
    await es.indices.delete({ index }).catch(() => undefined);
  }
}

/** The pipeline's sink at `concurrency` lanes, never more than `maxPending` documents pending; docs/s. */
export async function sinkBulk(es: Client, docs: readonly BulkDoc[], concurrency: number, maxPending = DEFAULT_MAX_PENDING): Promise<number> {
  const index = await freshIndex(es, `sink${concurrency}`);
  const s = CONFIG_SCHEMA.sink;
  const sink = createElasticSink({
    client: es,
    settings: { bulkMaxDocs: s.bulkMaxDocs.default, bulkMaxBytes: s.bulkMaxBytes.default, flushIntervalMs: s.flushIntervalMs.default, retryInitialMs: s.retryInitialMs.default, retryMaxMs: s.retryMaxMs.default, bulkConcurrency: concurrency },
    log: stageLogger(createRootLogger({ level: 'error' }), 'sink'),
    metrics: createMetrics(),
    onRejected: () => Promise.reject(new Error('bench: a document was refused')),
    onFatal: (err) => {
      throw err;
    },
  });
  try {
    const started = process.hrtime.bigint();
    for (const d of docs) {
      while (sink.pendingCount() >= maxPending) await new Promise<void>((resolve) => setTimeout(resolve, 2));
      sink.enqueue({ id: d.id, index, json: JSON.stringify(d.body), source: SOURCE, verdict: undefined });
    }
    await sink.drain();
    return docs.length / (Number(process.hrtime.bigint() - started) / 1e9);
  } finally {
    await sink.close();
    await es.indices.delete({ index }).catch(() => undefined);
  }
}

export interface SweepResult {
  readonly raw: readonly BulkFigure[];
  readonly sink: readonly BulkFigure[];
}

/** Raw and sink at every concurrency, interleaved (raw c, sink c, ...) so that load drifts hit both alike. */
export async function bulkSweep(es: Client, docs: readonly BulkDoc[], concurrencies: readonly number[], print: (line: string) => void): Promise<SweepResult> {
  const raw: BulkFigure[] = [];
  const sink: BulkFigure[] = [];
  for (const c of concurrencies) {
    const r = await rawBulk(es, docs, c);
    raw.push({ concurrency: c, docsPerS: Math.round(r) });
    const k = await sinkBulk(es, docs, c);
    sink.push({ concurrency: c, docsPerS: Math.round(k) });
    print(`  concurrency ${String(c).padStart(2)}: raw bulk ${Math.round(r).toLocaleString('en-US').padStart(8)} docs/s   sink ${Math.round(k).toLocaleString('en-US').padStart(8)} docs/s`);
  }
  return { raw, sink };
}

export function best(figures: readonly BulkFigure[]): BulkFigure {
  return figures.reduce((a, b) => (b.docsPerS > a.docsPerS ? b : a), figures[0] ?? { concurrency: 0, docsPerS: 0 });
}

/** Documents for the bulk bench: `count` ECS conn documents from the bench conn lines, uids made distinct. */
async function benchDocs(count: number): Promise<BulkDoc[]> {
  const { corpusDocuments } = await import('./bulk-docs');
  return corpusDocuments(count);
}

export async function main(args: readonly string[]): Promise<void> {
  const count = positiveInt(args, '--docs', 100_000);
  const concurrencies = positiveInts(args, '--concurrency', [1, 2, 4, 8]);
  const es = new Client({ node: esNode(), maxRetries: 0, requestTimeout: 120_000 });
  try {
    const docs = await benchDocs(count);
    const bytes = docs.reduce((n, d) => n + JSON.stringify(d.body).length, 0);
    console.log(`bulk: ${docs.length.toLocaleString('en-US')} ECS documents (${Math.round(bytes / docs.length)} bytes each on average) into ${esNode()}, ${DEFAULT_BULK_MAX_DOCS} per request`);
    const r = await bulkSweep(es, docs, concurrencies, (l) => { console.log(l); });
    const br = best(r.raw);
    const bs = best(r.sink);
    console.log(`  best raw: ${br.docsPerS.toLocaleString('en-US')} docs/s at ${br.concurrency}; best sink: ${bs.docsPerS.toLocaleString('en-US')} docs/s at ${bs.concurrency}`);
    if (args.includes('--json')) {
      console.log(JSON.stringify({ docs: docs.length, raw: r.raw, sink: r.sink, best_raw_docs_per_s: br.docsPerS, best_raw_concurrency: br.concurrency, best_sink_docs_per_s: bs.docsPerS, best_sink_concurrency: bs.concurrency, date: new Date().toISOString() }));
    }
  } finally {
    await es.close();
  }
}
