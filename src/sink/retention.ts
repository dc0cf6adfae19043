/**
 * Retention of the daily conn indices (`<prefix>-conn-YYYY.MM.DD`): an index is expired when
 * its whole day is older than the maximum age. Only names of exactly this shape, with this
 * deployment's prefix and a real date, are ever considered; everything else is left alone
 * (another deployment's `<prefix>x-conn-...`, a restored `...-conn-2024.01.01-restored`).
 * On clusters with ILM, a lifecycle policy does the same job (README, Operations).
 */
import type { Client } from '@elastic/elasticsearch';
import { asEsError } from './elastic';

const DAY_MS = 86_400_000;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Start of the UTC day a daily index of `prefix` holds (ms), or undefined for any other name. */
export function dailyIndexDay(prefix: string, name: string): number | undefined {
  const m = new RegExp(`^${escapeRegExp(prefix)}-conn-(\\d{4})\\.(\\d{2})\\.(\\d{2})$`).exec(name);
  if (m === null) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const ms = Date.UTC(y, mo - 1, d);
  const back = new Date(ms);
  // 2024.02.30 is not a day: Date.UTC would roll it over into March.
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) return undefined;
  return ms;
}

/** The daily indices of `prefix` among `names` whose day ended more than `maxAgeDays` before `nowMs`, sorted. */
export function expiredIndices(prefix: string, names: readonly string[], maxAgeDays: number, nowMs: number): string[] {
  if (maxAgeDays <= 0) return [];
  return names.filter((name) => {
    const day = dailyIndexDay(prefix, name);
    return day !== undefined && day + DAY_MS <= nowMs - maxAgeDays * DAY_MS;
  }).sort();
}

export interface RetentionReport {
  /** Daily indices of this deployment that exist. */
  readonly daily: readonly string[];
  readonly expired: readonly string[];
  /** What was deleted (empty on a dry run). */
  readonly deleted: readonly string[];
}

/** Lists this deployment's daily indices and deletes the expired ones (by exact name, never a wildcard). */
export async function applyRetention(client: Client, prefix: string, maxAgeDays: number, nowMs: number, dryRun: boolean): Promise<RetentionReport> {
  let names: string[];
  try {
    const settings = await client.indices.getSettings({ index: `${prefix}-conn-*`, name: 'index.creation_date', allow_no_indices: true, expand_wildcards: ['open', 'closed'] });
    names = Object.keys(settings);
  } catch (err: unknown) {
    throw asEsError(err, `listing ${prefix}-conn-* for retention`);
  }
  const daily = names.filter((n) => dailyIndexDay(prefix, n) !== undefined).sort();
  const expired = expiredIndices(prefix, daily, maxAgeDays, nowMs);
  const deleted: string[] = [];
  if (!dryRun) {
    for (const index of expired) {
      try {
        await client.indices.delete({ index });
      } catch (err: unknown) {
        throw asEsError(err, `deleting ${index}`);
      }
      deleted.push(index);
    }
  }
  return { daily, expired, deleted };
}
