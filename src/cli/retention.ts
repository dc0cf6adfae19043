/**
 * `zeek-rst retention [--dry-run] [--max-age-days N]`: deletes this deployment's daily conn
 * indices (`<prefix>-conn-YYYY.MM.DD`) whose whole day is older than retention.maxAgeDays
 * (sink/retention.ts). `run` does the same on a schedule.
 */
import { loadConfig } from '../config/load';
import { ZeekRstError } from '../errors';
import { createEsClient } from '../sink/elastic';
import { applyRetention } from '../sink/retention';
import { parseCommandArgs } from './args';

export const HELP = `Usage: zeek-rst retention [--config FILE] [--dry-run] [--max-age-days N]

Deletes the daily indices <P>-conn-YYYY.MM.DD of this deployment (P = elasticsearch.indexPrefix,
exact prefix, date read from the name) whose whole day is older than retention.maxAgeDays.
Nothing else is touched. On a cluster with ILM, a lifecycle policy can do this instead (README).

Options:
  --config FILE      YAML configuration
  --dry-run          print what would be deleted, delete nothing
  --max-age-days N   overrides retention.maxAgeDays
  -h, --help         show this help`;

export async function run(argv: readonly string[]): Promise<number> {
  const { values } = parseCommandArgs({ args: [...argv], strict: true, options: { config: { type: 'string' }, 'dry-run': { type: 'boolean' }, 'max-age-days': { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help === true) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const override = values['max-age-days'];
  if (override !== undefined && !/^\d+$/.test(override)) throw new ZeekRstError('ZRST_USAGE', `--max-age-days must be a whole number of days, got '${override}'`);
  const config = loadConfig(values.config, override === undefined ? process.env : { ...process.env, ZEEK_RST_RETENTION_MAX_AGE_DAYS: override });
  const maxAge = config.retention.maxAgeDays;
  if (maxAge === 0) throw new ZeekRstError('ZRST_USAGE', 'retention.maxAgeDays is 0 (keep every index): set it or give --max-age-days N');
  const client = createEsClient(config.elasticsearch);
  try {
    const dryRun = values['dry-run'] === true;
    const report = await applyRetention(client, config.elasticsearch.indexPrefix, maxAge, Date.now(), dryRun);
    for (const index of report.expired) process.stdout.write(`${dryRun ? 'would delete' : 'deleted'} ${index}\n`);
    process.stdout.write(`${report.daily.length} daily indices of ${config.elasticsearch.indexPrefix}, ${report.expired.length} older than ${maxAge} days${dryRun ? ' (dry run: nothing deleted)' : ''}\n`);
    return 0;
  } finally {
    await client.close();
  }
}
