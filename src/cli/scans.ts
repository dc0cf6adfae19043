/**
 * `zeek-rst scans`: (re)computes the scan summaries of a time range from the indexed conn
 * documents (docs/scans.md) and marks the scanners' conn documents. Safe to run at any time and
 * as often as wanted, also next to `run`: the result depends only on what Elasticsearch holds.
 */
import type { ScanSettings } from '../classify/scans';
import { DEFAULT_SCAN_SETTINGS } from '../classify/scans';
import { loadConfig } from '../config/load';
import type { Config } from '../config/schema';
import { ZeekRstError } from '../errors';
import { createEsClient } from '../sink/elastic';
import { computeScanSummaries, type ScanProgress } from '../sink/scans-store';
import { indexNames } from '../sink/templates';
import { parseCommandArgs } from './args';

export const HELP = `Usage: zeek-rst scans --from TIME [--to TIME] [--config FILE] [--index-prefix P] [--quiet]

Recomputes the scan summaries (one document per source and window in <P>-scans) for every
window that overlaps [--from, --to), from the conn documents in <P>-conn, with Elasticsearch
aggregations; writes them under deterministic ids, deletes summaries of those windows that no
longer hold, and sets rst.scan.scanner on the conn documents of every scanner (clearing it where
a window no longer makes its source one). Rerunning it gives the same result.

A source is a port scanner when its probes reach classify.scanPortThreshold distinct ports on one
host within classify.scanWindowS, a sweeper when they reach classify.scanHostThreshold hosts;
a source answering spoofed traffic (unsolicited RSTs/SYN-ACKs to that many peers from at most two
source ports) is backscatter and never a scanner (docs/scans.md).

Options:
  --from TIME          start, ISO 8601 (2024-03-21T15:00:00Z) or epoch milliseconds
  --to TIME            end (exclusive), same forms; default: now
  --config FILE        YAML configuration (Elasticsearch connection, thresholds)
  --index-prefix P     overrides elasticsearch.indexPrefix
  --quiet              no progress lines on stderr
  -h, --help           show this help`;

/** The scan thresholds of a configuration. */
export function scanSettingsOf(config: Config): ScanSettings {
  return { ...DEFAULT_SCAN_SETTINGS, windowS: config.classify.scanWindowS, portThreshold: config.classify.scanPortThreshold, hostThreshold: config.classify.scanHostThreshold };
}

export function parseTime(text: string, option: string): number {
  const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isFinite(ms)) throw new ZeekRstError('ZRST_USAGE', `${option}: '${text}' is not an ISO 8601 time or epoch milliseconds (see --help)`);
  return ms;
}

export async function run(argv: readonly string[]): Promise<number> {
  const { values } = parseCommandArgs({
      args: [...argv],
      strict: true,
      options: {
        from: { type: 'string' },
        to: { type: 'string' },
        config: { type: 'string' },
        'index-prefix': { type: 'string' },
        quiet: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  if (values.help === true) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  if (values.from === undefined) throw new ZeekRstError('ZRST_USAGE', '--from is required (see --help)');
  const fromMs = parseTime(values.from, '--from');
  const toMs = values.to === undefined ? Date.now() : parseTime(values.to, '--to');
  if (toMs <= fromMs) throw new ZeekRstError('ZRST_USAGE', '--to must be after --from');
  const prefix = values['index-prefix'];
  const config = loadConfig(values.config, prefix === undefined ? process.env : { ...process.env, ZEEK_RST_ES_INDEX_PREFIX: prefix });
  const settings = scanSettingsOf(config);
  const client = createEsClient(config.elasticsearch);
  let last = 0;
  const onProgress = (p: ScanProgress): void => {
    if (values.quiet === true) return;
    const now = Date.now();
    if (now - last < 1000 && p.phase !== 'write') return;
    last = now;
    const where = p.window === undefined ? '' : `, up to window ${p.window}`;
    process.stderr.write(`zeek-rst scans: ${p.phase}: ${p.buckets} source windows read${where}, ${p.summaries} summaries, ${p.marked} conn documents marked\n`);
  };
  try {
    const r = await computeScanSummaries(client, { prefix: config.elasticsearch.indexPrefix, range: { fromMs, toMs }, settings, onProgress });
    const n = indexNames(config.elasticsearch.indexPrefix);
    process.stdout.write(
      [
        `windows ${new Date(r.range.fromMs).toISOString()} .. ${new Date(r.range.toMs).toISOString()} (${settings.windowS} s each), from ${n.connAlias}`,
        `source windows with probes or backscatter: ${r.buckets}`,
        `summaries written to ${n.scansIndex}: ${r.summaries} (port_scan ${r.byKind.port_scan}, sweep ${r.byKind.sweep}, both ${r.byKind.both}, backscatter ${r.byKind.backscatter}); stale ones deleted: ${r.deleted}`,
        `conn documents marked rst.scan.scanner: ${r.marked}; unmarked: ${r.unmarked}`,
        ...(r.malformed > 0 ? [`buckets of an unexpected shape skipped: ${r.malformed}`] : []),
      ].join('\n') + '\n',
    );
    return 0;
  } finally {
    await client.close();
  }
}
