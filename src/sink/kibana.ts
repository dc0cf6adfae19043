/**
 * Imports the dashboards (dashboards/zeek-rst.ndjson: data views, Lens visualizations,
 * dashboards) into Kibana through its saved objects import API (docs/cli.md `setup
 * --kibana-url`, §8):
 *
 *   POST <kibana>[/s/<space>]/api/saved_objects/_import?overwrite=true
 *   kbn-xsrf: zeek-rst            (Kibana refuses API writes without it)
 *   multipart/form-data, field `file` = the NDJSON (Kibana checks the .ndjson extension)
 *
 * `overwrite=true` makes the import idempotent: the objects have stable ids, so re-running setup
 * updates them in place instead of failing with conflicts. Kibana answers 200 even when some
 * objects fail (`success: false` and per-object `errors`, e.g. missing references): that is a
 * failure here too, with the objects named. Node 20's global fetch, FormData and Blob do the
 * request; no dependency.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ZeekRstError } from '../errors';

/** The saved objects shipped with the package (src/sink and dist/sink both sit two levels below the root). */
export const DASHBOARDS_FILE = path.resolve(__dirname, '../../dashboards/zeek-rst.ndjson');

export type KibanaAuth = { readonly username: string; readonly password: string } | { readonly apiKey: string };

export interface ImportDashboardsOptions {
  /** Kibana base URL, e.g. http://localhost:5601 (a base path such as /kibana is kept). */
  readonly kibanaUrl: string;
  /** NDJSON export to import; default DASHBOARDS_FILE. */
  readonly file?: string;
  readonly auth?: KibanaAuth;
  /** Kibana space; default the default space. */
  readonly space?: string;
  /** Whole-request deadline in ms; default 30 000. */
  readonly timeoutMs?: number;
  /** `elasticsearch.indexPrefix`: the data views are rewritten to it (default zeek-rst: unchanged). */
  readonly indexPrefix?: string;
}

/** The prefix the bundled data views are written with. */
export const BUNDLED_PREFIX = 'zeek-rst';

/**
 * The NDJSON with every data view's `title` (the index pattern it reads) moved from the bundled
 * prefix to `prefix`: zeek-rst-conn -> <prefix>-conn, zeek-rst-firewall, zeek-rst-scans likewise.
 * Object ids, names and references stay, so a re-import still updates the same objects. Pure.
 */
export function rewriteIndexPrefix(ndjson: string, prefix: string): string {
  if (prefix === BUNDLED_PREFIX) return ndjson;
  return ndjson
    .split('\n')
    .map((line) => {
      if (line.trim() === '') return line;
      const o: unknown = JSON.parse(line);
      if (!isRecord(o) || o['type'] !== 'index-pattern' || !isRecord(o['attributes'])) return line;
      const title = o['attributes']['title'];
      if (typeof title !== 'string' || !title.startsWith(`${BUNDLED_PREFIX}-`)) return line;
      return JSON.stringify({ ...o, attributes: { ...o['attributes'], title: `${prefix}${title.slice(BUNDLED_PREFIX.length)}` } });
    })
    .join('\n');
}

export interface ImportedObject {
  readonly type: string;
  readonly id: string;
}

export interface ImportReport {
  /** Objects Kibana created or overwrote. */
  readonly successCount: number;
  readonly imported: readonly ImportedObject[];
}

const DEFAULT_TIMEOUT_MS = 30_000;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function importUrl(kibanaUrl: string, space: string | undefined): URL {
  let base: URL;
  try {
    base = new URL(kibanaUrl);
  } catch (err: unknown) {
    throw new ZeekRstError('ZRST_CONFIG_INVALID', `Kibana URL ${JSON.stringify(kibanaUrl)} is not a URL (expected e.g. http://localhost:5601)`, { cause: err });
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw new ZeekRstError('ZRST_CONFIG_INVALID', `Kibana URL ${JSON.stringify(kibanaUrl)} must be http:// or https://`);
  }
  const basePath = base.pathname.replace(/\/+$/, '');
  const spacePath = space === undefined || space === '' || space === 'default' ? '' : `/s/${encodeURIComponent(space)}`;
  const url = new URL(`${basePath}${spacePath}/api/saved_objects/_import`, base);
  url.searchParams.set('overwrite', 'true');
  return url;
}

function authHeader(auth: KibanaAuth | undefined): Record<string, string> {
  if (auth === undefined) return {};
  if ('apiKey' in auth) return { authorization: `ApiKey ${auth.apiKey}` };
  return { authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}` };
}

/** Kibana's error body is `{ statusCode, error, message }`; anything else is shown truncated. */
function describeErrorBody(text: string): string {
  try {
    const body: unknown = JSON.parse(text);
    if (isRecord(body) && typeof body['message'] === 'string') return body['message'];
  } catch {
    // not JSON: shown as text below
  }
  return text.slice(0, 300);
}

/** One line per failed object: `lens/zeek-rst-x: missing_references (index-pattern/zeek-rst-conn)`. */
function describeObjectErrors(errors: readonly unknown[]): string {
  return errors
    .map((e) => {
      if (!isRecord(e)) return 'unknown error';
      const err = isRecord(e['error']) ? e['error'] : {};
      const kind = typeof err['type'] === 'string' ? err['type'] : 'unknown';
      const refs = Array.isArray(err['references'])
        ? ` (${err['references'].filter(isRecord).map((r) => `${String(r['type'])}/${String(r['id'])}`).join(', ')})`
        : typeof err['message'] === 'string'
          ? ` (${err['message']})`
          : '';
      return `${String(e['type'])}/${String(e['id'])}: ${kind}${refs}`;
    })
    .join('; ');
}

function importedObjects(v: unknown): ImportedObject[] {
  if (!Array.isArray(v)) return [];
  return v.filter(isRecord).flatMap((r) => (typeof r['type'] === 'string' && typeof r['id'] === 'string' ? [{ type: r['type'], id: r['id'] }] : []));
}

/**
 * Imports the NDJSON into Kibana, overwriting objects with the same ids. Throws ZeekRstError:
 * ZRST_FILE_UNREADABLE (file), ZRST_CONFIG_INVALID (URL), ZRST_KIBANA_UNAVAILABLE (no answer,
 * timeout, 5xx: retriable), ZRST_KIBANA_REJECTED (4xx, or objects Kibana refused).
 */
export async function importDashboards(options: ImportDashboardsOptions): Promise<ImportReport> {
  const file = options.file ?? DASHBOARDS_FILE;
  if (path.extname(file) !== '.ndjson') throw new ZeekRstError('ZRST_CONFIG_INVALID', `${file}: Kibana imports only .ndjson files`);
  const url = importUrl(options.kibanaUrl, options.space);
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err: unknown) {
    throw new ZeekRstError('ZRST_FILE_UNREADABLE', `${file}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const body = options.indexPrefix === undefined ? bytes : Buffer.from(rewriteIndexPrefix(bytes.toString('utf8'), options.indexPrefix), 'utf8');
  const form = new FormData();
  form.append('file', new Blob([body], { type: 'application/ndjson' }), path.basename(file));
  // The URL is logged and shown without credentials: they travel only in the header.
  const where = `${url.origin}${url.pathname}`;
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'kbn-xsrf': 'zeek-rst', ...authHeader(options.auth) },
      body: form,
      signal: AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
    });
  } catch (err: unknown) {
    const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : '';
    throw new ZeekRstError('ZRST_KIBANA_UNAVAILABLE', `POST ${where}: ${err instanceof Error ? err.message : String(err)}${cause === '' ? '' : ` (${cause})`}`, { cause: err });
  }
  const text = await res.text();
  if (res.status >= 500 || res.status === 429) {
    throw new ZeekRstError('ZRST_KIBANA_UNAVAILABLE', `POST ${where}: HTTP ${res.status} ${describeErrorBody(text)}`);
  }
  if (!res.ok) {
    const hint = res.status === 401 || res.status === 403 ? ' (check the Kibana credentials and their saved objects privileges)' : '';
    throw new ZeekRstError('ZRST_KIBANA_REJECTED', `POST ${where}: HTTP ${res.status} ${describeErrorBody(text)}${hint}`);
  }
  let answer: unknown;
  try {
    answer = JSON.parse(text);
  } catch (err: unknown) {
    throw new ZeekRstError('ZRST_KIBANA_REJECTED', `POST ${where}: the answer is not JSON: ${text.slice(0, 200)}`, { cause: err });
  }
  if (!isRecord(answer)) throw new ZeekRstError('ZRST_KIBANA_REJECTED', `POST ${where}: unexpected answer ${text.slice(0, 200)}`);
  const errors = Array.isArray(answer['errors']) ? Array.from<unknown>(answer['errors']) : [];
  if (answer['success'] !== true || errors.length > 0) {
    throw new ZeekRstError('ZRST_KIBANA_REJECTED', `${errors.length} object(s) not imported from ${file}: ${errors.length === 0 ? text.slice(0, 200) : describeObjectErrors(errors)}`);
  }
  const successCount = typeof answer['successCount'] === 'number' ? answer['successCount'] : 0;
  return { successCount, imported: importedObjects(answer['successResults']) };
}
