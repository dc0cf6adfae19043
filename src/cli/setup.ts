/**
 * `zeek-rst setup`: installs the index template, the aliases and the scans index (docs/fields.md),
 * and with `--kibana-url` imports the bundled dashboards (docs/dashboards.md).
 */
import { loadConfig } from '../config/load';
import { ZeekRstError } from '../errors';
import { createEsClient, installTemplates } from '../sink/elastic';
import { importDashboards, type KibanaAuth } from '../sink/kibana';
import { indexNames } from '../sink/templates';
import { parseCommandArgs } from './args';

export const HELP = `Usage: zeek-rst setup [--config FILE] [--index-prefix P] [--kibana-url URL [--kibana-space S]]

Installs (or updates) in Elasticsearch:
  index template <P>-conn  for the daily indices <P>-conn-YYYY.MM.DD (explicit ECS mapping, dynamic strict)
  alias <P>-conn           over every daily index
  alias <P>-firewall       the per-firewall view: resets from a middlebox or with a policy verdict
  index <P>-scans          scan summaries
  index <P>-conn-bootstrap empty, under the template: the aliases exist before the first document
P is elasticsearch.indexPrefix (default zeek-rst). Connection settings: --config FILE and ZEEK_RST_ES_*.

Options:
  --config FILE        YAML configuration (see README, Configuration)
  --index-prefix P     overrides elasticsearch.indexPrefix
  --kibana-url URL     also import the dashboards (dashboards/zeek-rst.ndjson) into Kibana,
                       e.g. http://localhost:5601, with their data views moved to <P>;
                       authenticates with the Elasticsearch credentials (API key or
                       user/password), which Kibana shares
  --kibana-space S     Kibana space to import into (default: the default space)
  -h, --help           show this help`;

function kibanaAuth(es: { readonly apiKey?: string | undefined; readonly username?: string | undefined; readonly password?: string | undefined }): KibanaAuth | undefined {
  if (es.apiKey !== undefined) return { apiKey: es.apiKey };
  if (es.username !== undefined && es.password !== undefined) return { username: es.username, password: es.password };
  return undefined;
}

export async function run(argv: readonly string[]): Promise<number> {
  const { values } = parseCommandArgs({
      args: [...argv],
      strict: true,
      options: {
        config: { type: 'string' },
        'index-prefix': { type: 'string' },
        'kibana-url': { type: 'string' },
        'kibana-space': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  if (values.help === true) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  if (values['kibana-space'] !== undefined && values['kibana-url'] === undefined) throw new ZeekRstError('ZRST_USAGE', '--kibana-space needs --kibana-url (see --help)');
  const prefix = values['index-prefix'];
  const config = loadConfig(values.config, prefix === undefined ? process.env : { ...process.env, ZEEK_RST_ES_INDEX_PREFIX: prefix });
  const client = createEsClient(config.elasticsearch);
  try {
    const report = await installTemplates(client, config.elasticsearch.indexPrefix, { onlyIfAbsent: false, refreshIntervalS: config.elasticsearch.refreshIntervalS });
    const n = indexNames(config.elasticsearch.indexPrefix);
    process.stdout.write(
      [
        `index template ${n.connTemplate} (${n.connPattern}): ${report.template}`,
        `aliases ${n.connAlias}, ${n.firewallAlias}: in the template (every daily index joins them)`,
        `index ${n.scansIndex}: ${report.scansIndex}`,
      ].join('\n') + '\n',
    );
    const kibanaUrl = values['kibana-url'];
    if (kibanaUrl !== undefined) {
      const auth = kibanaAuth(config.elasticsearch);
      const space = values['kibana-space'];
      const imported = await importDashboards({ kibanaUrl, indexPrefix: config.elasticsearch.indexPrefix, ...(auth === undefined ? {} : { auth }), ...(space === undefined ? {} : { space }) });
      process.stdout.write(`Kibana ${kibanaUrl}: ${imported.successCount} saved objects imported (dashboards: ${imported.imported.filter((o) => o.type === 'dashboard').map((o) => o.id).join(', ')})\n`);
    }
    return 0;
  } finally {
    await client.close();
  }
}
