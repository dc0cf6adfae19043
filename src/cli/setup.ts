/**
 * `zeek-rst setup`: installs the index template, the aliases and the scans index (SPEC.md §5).
 * Dashboards (`--kibana-url`) belong to the dashboards issue.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load';
import { ZeekRstError } from '../errors';
import { createEsClient, installTemplates } from '../sink/elastic';
import { indexNames } from '../sink/templates';

export const HELP = `Usage: zeek-rst setup [--config FILE] [--index-prefix P]

Installs (or updates) in Elasticsearch:
  index template <P>-conn  for the daily indices <P>-conn-YYYY.MM.DD (explicit ECS mapping, dynamic strict)
  alias <P>-conn           over every daily index
  alias <P>-firewall       the per-firewall view: resets from a middlebox or with a policy verdict
  index <P>-scans          scan summaries
P is elasticsearch.indexPrefix (default zeek-rst). Connection settings: --config FILE and ZEEK_RST_ES_*.

Options:
  --config FILE        YAML configuration (see README, Configuration)
  --index-prefix P     overrides elasticsearch.indexPrefix
  -h, --help           show this help`;

export async function run(argv: readonly string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      options: { config: { type: 'string' }, 'index-prefix': { type: 'string' }, 'kibana-url': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (err: unknown) {
    throw new ZeekRstError('ZRST_USAGE', `${err instanceof Error ? err.message : String(err)} (see --help)`);
  }
  if (values.help === true) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  if (values['kibana-url'] !== undefined) throw new ZeekRstError('ZRST_USAGE', '--kibana-url: dashboard import is not built yet');
  const prefix = values['index-prefix'];
  const config = loadConfig(values.config, prefix === undefined ? process.env : { ...process.env, ZEEK_RST_ES_INDEX_PREFIX: prefix });
  const client = createEsClient(config.elasticsearch);
  try {
    const report = await installTemplates(client, config.elasticsearch.indexPrefix, { onlyIfAbsent: false });
    const n = indexNames(config.elasticsearch.indexPrefix);
    process.stdout.write(
      [
        `index template ${n.connTemplate} (${n.connPattern}): ${report.template}`,
        `aliases ${n.connAlias}, ${n.firewallAlias}: in the template (every daily index joins them)`,
        `index ${n.scansIndex}: ${report.scansIndex}`,
      ].join('\n') + '\n',
    );
    return 0;
  } finally {
    await client.close();
  }
}
