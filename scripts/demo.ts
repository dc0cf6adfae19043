/**
 * `npm run demo`: the README's main command. Starts the local stack (Kafka + Elasticsearch),
 * creates the topics, installs the index templates, produces the demo data (demo/data/, real
 * Zeek cases), runs the pipeline until it has caught up (consumer lag 0, correlator and sink
 * drained), stops it gracefully and prints a per-verdict summary read back from Elasticsearch.
 */
import path from 'node:path';
import { readdirSync } from 'node:fs';
import { Client } from '@elastic/elasticsearch';
import { Kafka, logLevel } from 'kafkajs';
import { ensureStackUp } from './stack/stack';
import { waitFor } from '../src/wait';
import { startPipeline, type RunStatus } from '../src/cli/run';
import { run as produce } from '../src/cli/produce';
import { resolveConfig } from '../src/config/load';
import { installTemplates } from '../src/sink/elastic';
import { indexNames } from '../src/sink/templates';
import { createRootLogger } from '../src/log';

const DATA = path.resolve(__dirname, '..', 'demo', 'data');

const say = (line: string): void => {
  process.stderr.write(`demo: ${line}\n`);
};

function caughtUp(s: RunStatus): boolean {
  return s.partitionsAssigned > 0 && s.partitionsSeen >= s.partitionsAssigned && s.lag === 0 && s.pendingConns === 0 && s.sinkPending === 0;
}

function bucketsOf(aggs: unknown, name: string): { key: string; count: number }[] {
  if (typeof aggs !== 'object' || aggs === null) return [];
  const agg: unknown = Object.getOwnPropertyDescriptor(aggs, name)?.value;
  if (typeof agg !== 'object' || agg === null || !('buckets' in agg) || !Array.isArray(agg.buckets)) return [];
  const out: { key: string; count: number }[] = [];
  const buckets: unknown[] = agg.buckets;
  for (const b of buckets) {
    if (typeof b === 'object' && b !== null && 'key' in b && 'doc_count' in b && typeof b.doc_count === 'number') out.push({ key: String(b.key), count: b.doc_count });
  }
  return out;
}

async function main(): Promise<number> {
  say('starting the local stack (first run: Maven downloads Kafka and Elasticsearch, a few minutes)');
  const { endpoints } = await ensureStackUp({ log: say });
  const env: Record<string, string | undefined> = {
    ...process.env,
    ZEEK_RST_KAFKA_BROKERS: endpoints.kafkaBrokers.join(','),
    ZEEK_RST_ES_NODE: endpoints.esUrl,
    ZEEK_RST_KAFKA_GROUP: process.env['ZEEK_RST_KAFKA_GROUP'] ?? 'zeek-rst-demo',
    ZEEK_RST_CORRELATE_GRACE_MS: process.env['ZEEK_RST_CORRELATE_GRACE_MS'] ?? '2000',
    ZEEK_RST_METRICS_PORT: process.env['ZEEK_RST_METRICS_PORT'] ?? '0',
    ZEEK_RST_LOG_LEVEL: process.env['ZEEK_RST_LOG_LEVEL'] ?? 'warn',
  };
  const resolved = resolveConfig({ env, readSecretFile: () => '' });
  if (!resolved.ok) throw new Error(resolved.problems.join('\n'));
  const config = resolved.config;
  for (const [k, v] of Object.entries(env)) if (k.startsWith('ZEEK_RST_') && v !== undefined) process.env[k] = v;
  const { topics } = config;

  const kafka = new Kafka({ clientId: 'zeek-rst-demo', brokers: [...config.kafka.brokers], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const created = await admin.createTopics({
    waitForLeaders: true,
    topics: [
      { topic: topics.conn, numPartitions: 3 },
      { topic: topics.weird, numPartitions: 1 },
      { topic: topics.headers, numPartitions: 2 },
      { topic: topics.deadLetter, numPartitions: 1 },
    ],
  });
  await admin.disconnect();
  say(created ? 'topics created' : 'topics already there');

  const es = new Client({ node: config.elasticsearch.node });
  const names = indexNames(config.elasticsearch.indexPrefix);
  const report = await installTemplates(es, config.elasticsearch.indexPrefix, { onlyIfAbsent: false, refreshIntervalS: config.elasticsearch.refreshIntervalS });
  say(`index template ${names.connTemplate}: ${report.template}; ${names.scansIndex}: ${report.scansIndex}`);

  const headerFiles = readdirSync(DATA).filter((f) => f.endsWith('.headers.jsonl')).map((f) => path.join(DATA, f));
  say(`producing ${headerFiles.length} header files, weird.json and conn.json from demo/data/`);
  await produce(['--topic', topics.headers, ...headerFiles]);
  await produce(['--topic', topics.weird, path.join(DATA, 'weird.json')]);
  await produce(['--topic', topics.conn, path.join(DATA, 'conn.json')]);

  say('running the pipeline until it has caught up');
  const running = await startPipeline(config, { log: createRootLogger({ level: config.log.level }) });
  let stableChecks = 0;
  try {
    // Messages stay uncommitted for the late window while running (README, Operations); the
    // graceful stop below flushes and commits them.
    await waitFor(() => {
      stableChecks = caughtUp(running.status()) ? stableChecks + 1 : 0;
      return stableChecks >= 3;
    }, { timeoutMs: 120_000, intervalMs: 1000, what: 'the pipeline to catch up (consumer lag 0, correlator and sink drained)' });
  } catch (err: unknown) {
    await running.stop();
    throw err;
  }
  const code = await running.stop();
  say(`pipeline stopped (exit code ${code}), offsets committed`);

  await es.indices.refresh({ index: names.connAlias });
  const res = await es.search({
    index: names.connAlias,
    size: 0,
    aggs: { verdicts: { terms: { field: 'rst.verdict', size: 50 } }, origins: { terms: { field: 'rst.origin', size: 10 } }, present: { terms: { field: 'rst.present' } } },
  });
  const total = typeof res.hits.total === 'number' ? res.hits.total : res.hits.total?.value ?? 0;
  const firewall = (await es.count({ index: names.firewallAlias })).count;
  const lines = [
    '',
    `Connections indexed in ${names.connAlias}: ${total}`,
    ...bucketsOf(res.aggregations, 'present').map((b) => `  rst.present=${b.key === '1' || b.key === 'true' ? 'true' : 'false'}: ${b.count}`),
    '',
    'Verdicts (rst.verdict):',
    ...bucketsOf(res.aggregations, 'verdicts').map((b) => `  ${b.key.padEnd(24)} ${b.count}`),
    '',
    'Who sent the RST (rst.origin):',
    ...bucketsOf(res.aggregations, 'origins').map((b) => `  ${b.key.padEnd(24)} ${b.count}`),
    '',
    `Per-firewall view ${names.firewallAlias}: ${firewall} document(s)`,
    '',
    'Where to look next:',
    `  Elasticsearch:  ${config.elasticsearch.node}`,
    `  indices:        ${names.connPattern} (daily, UTC) behind the alias ${names.connAlias}; ${names.firewallAlias}; ${names.scansIndex}`,
    `  dead letters:   Kafka topic ${topics.deadLetter} on ${config.kafka.brokers.join(',')}`,
    '  example queries:',
    `    curl -s '${config.elasticsearch.node}/${names.connAlias}/_search?q=rst.verdict:closed_port&pretty'`,
    `    curl -s '${config.elasticsearch.node}/${names.connAlias}/_search?pretty' -H 'content-type: application/json' -d '{"size":0,"aggs":{"v":{"terms":{"field":"rst.verdict"}}}}'`,
    `    curl -s '${config.elasticsearch.node}/${names.connAlias}/_search?q=rst.present:true&_source=zeek.connection.history,rst.verdict,rst.explanation&pretty'`,
    '  Kibana: point a Kibana 8.x at the node, then import the dashboards: zeek-rst setup --kibana-url http://localhost:5601',
    '  Stop the stack: npm run stack -- down',
    '',
  ];
  process.stdout.write(lines.join('\n'));
  await es.close();
  return code;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`demo: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
