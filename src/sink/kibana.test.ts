/**
 * Protocol check of our Kibana import client: a tiny node:http server on 127.0.0.1 records the
 * request (method, path, kbn-xsrf and authorization headers, the multipart `file` field) and
 * answers the way Kibana's saved objects import API does. It checks what our client sends and how
 * it reads Kibana's answers; it is not a stand-in for Elasticsearch or Kafka (no Kibana can be
 * installed here, see README "Dashboards").
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isZeekRstError } from '../errors';
import { DASHBOARDS_FILE, importDashboards, rewriteIndexPrefix } from './kibana';

function fail(): never {
  throw new Error('no request seen');
}

interface Seen {
  readonly method: string | undefined;
  readonly url: string | undefined;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

interface FakeAnswer {
  readonly status: number;
  readonly body: string;
}

async function startServer(answer: (seen: Seen) => FakeAnswer): Promise<{ url: string; seen: Seen[]; close: () => Promise<void> }> {
  const seen: Seen[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const s = { method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks) };
      seen.push(s);
      const a = answer(s);
      res.writeHead(a.status, { 'content-type': 'application/json' });
      res.end(a.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('no TCP address');
  return {
    url: `http://127.0.0.1:${addr.port}`,
    seen,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => {
          if (err === undefined) resolve();
          else reject(err);
        });
      }),
  };
}

interface Part {
  readonly headers: Readonly<Record<string, string>>;
  readonly content: Buffer;
}

/** Splits a multipart/form-data body (RFC 7578) into its parts, by hand, independently of the client's encoder. */
function multipartParts(s: Seen): Part[] {
  const m = /^multipart\/form-data; boundary=(.+)$/.exec(s.headers['content-type'] ?? '');
  if (m?.[1] === undefined) throw new Error(`not multipart/form-data: ${String(s.headers['content-type'])}`);
  const delimiter = Buffer.from(`--${m[1]}`);
  const parts: Part[] = [];
  let at = s.body.indexOf(delimiter);
  while (at !== -1) {
    const start = at + delimiter.length;
    if (s.body.subarray(start, start + 2).toString() === '--') break; // closing delimiter
    const next = s.body.indexOf(delimiter, start);
    if (next === -1) throw new Error('unterminated multipart body');
    const raw = s.body.subarray(start + 2, next - 2); // drop the CRLF after the delimiter and before the next
    const split = raw.indexOf('\r\n\r\n');
    const headers = Object.fromEntries(
      raw
        .subarray(0, split)
        .toString('utf8')
        .split('\r\n')
        .map((h) => [h.slice(0, h.indexOf(':')).toLowerCase(), h.slice(h.indexOf(':') + 1).trim()]),
    );
    parts.push({ headers, content: raw.subarray(split + 4) });
    at = next;
  }
  return parts;
}

const SUCCESS = JSON.stringify({ success: true, successCount: 2, successResults: [{ type: 'index-pattern', id: 'zeek-rst-conn' }, { type: 'dashboard', id: 'zeek-rst-overview', overwrite: true }] });

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err: unknown) {
    return err;
  }
  throw new Error('expected a rejection');
}

describe('importDashboards', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  it('POSTs the NDJSON as multipart field "file" to /api/saved_objects/_import?overwrite=true with kbn-xsrf', async () => {
    const srv = await startServer(() => ({ status: 200, body: SUCCESS }));
    close = srv.close;
    const report = await importDashboards({ kibanaUrl: srv.url });
    expect(report).toEqual({ successCount: 2, imported: [{ type: 'index-pattern', id: 'zeek-rst-conn' }, { type: 'dashboard', id: 'zeek-rst-overview' }] });
    expect(srv.seen.length).toBe(1);
    const s = srv.seen[0];
    if (s === undefined) throw new Error('no request');
    expect(s.method).toBe('POST');
    expect(s.url).toBe('/api/saved_objects/_import?overwrite=true');
    expect(s.headers['kbn-xsrf']).toBe('zeek-rst');
    expect(s.headers['authorization']).toBeUndefined();
    const parts = multipartParts(s);
    expect(parts.map((p) => p.headers)).toEqual([{ 'content-disposition': 'form-data; name="file"; filename="zeek-rst.ndjson"', 'content-type': 'application/ndjson' }]);
    expect(parts[0]?.content.equals(readFileSync(DASHBOARDS_FILE))).toBe(true);
  });

  it('moves the data views to another index prefix, ids and the rest unchanged', async () => {
    const text = readFileSync(DASHBOARDS_FILE, 'utf8');
    const moved = rewriteIndexPrefix(text, 'soc-a');
    const views = (t: string): { id: string; title: string }[] =>
      t.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as { id: string; type: string; attributes: { title?: string } })
        .filter((o) => o.type === 'index-pattern').map((o) => ({ id: o.id, title: o.attributes.title ?? '' }));
    expect(views(moved)).toEqual(views(text).map((v) => ({ id: v.id, title: v.title.replace(/^zeek-rst-/, 'soc-a-') })));
    expect(views(moved).every((v) => v.title.startsWith('soc-a-'))).toBe(true);
    // Everything but the data view titles is byte for byte the same.
    const others = (t: string): string[] => t.split('\n').filter((l) => !/^\{"id":"[^"]*","type":"index-pattern"/.test(l));
    expect(others(text).length).toBeGreaterThan(20);
    expect(others(moved)).toEqual(others(text));
    expect(rewriteIndexPrefix(text, 'zeek-rst')).toBe(text);
    const srv = await startServer(() => ({ status: 200, body: SUCCESS }));
    close = srv.close;
    await importDashboards({ kibanaUrl: srv.url, indexPrefix: 'soc-a' });
    const sent = multipartParts(srv.seen[0] ?? fail())[0]?.content.toString('utf8') ?? '';
    expect(sent).toBe(moved);
  });

  it('keeps a base path, targets a space, and sends basic or API key credentials', async () => {
    const srv = await startServer(() => ({ status: 200, body: SUCCESS }));
    close = srv.close;
    await importDashboards({ kibanaUrl: `${srv.url}/kibana/`, space: 'soc', auth: { username: 'elastic', password: 'pw:1' } });
    await importDashboards({ kibanaUrl: srv.url, auth: { apiKey: 'a2V5' } });
    expect(srv.seen.map((s) => s.url)).toEqual(['/kibana/s/soc/api/saved_objects/_import?overwrite=true', '/api/saved_objects/_import?overwrite=true']);
    expect(srv.seen.map((s) => s.headers['authorization'])).toEqual([`Basic ${Buffer.from('elastic:pw:1').toString('base64')}`, 'ApiKey a2V5']);
  });

  it('fails with ZRST_KIBANA_REJECTED naming the objects when Kibana answers 200 with success:false', async () => {
    // Kibana's answer for an object whose data view is missing.
    const body = {
      success: false,
      successCount: 1,
      errors: [{ id: 'zeek-rst-forged-hops', type: 'lens', meta: { title: 'Hops' }, error: { type: 'missing_references', references: [{ type: 'index-pattern', id: 'zeek-rst-conn' }] } }],
    };
    const srv = await startServer(() => ({ status: 200, body: JSON.stringify(body) }));
    close = srv.close;
    const err = await rejection(importDashboards({ kibanaUrl: srv.url }));
    expect(isZeekRstError(err, 'ZRST_KIBANA_REJECTED')).toBe(true);
    expect(String(err)).toContain('lens/zeek-rst-forged-hops: missing_references (index-pattern/zeek-rst-conn)');
  });

  it('maps 4xx to ZRST_KIBANA_REJECTED with Kibana\'s message, and 5xx to retriable ZRST_KIBANA_UNAVAILABLE', async () => {
    const answers = [
      { status: 401, body: JSON.stringify({ statusCode: 401, error: 'Unauthorized', message: 'unable to authenticate user' }) },
      { status: 400, body: JSON.stringify({ statusCode: 400, error: 'Bad Request', message: 'Request must contain a kbn-xsrf header.' }) },
      { status: 503, body: JSON.stringify({ statusCode: 503, error: 'Service Unavailable', message: 'Kibana server is not ready yet' }) },
    ];
    let i = 0;
    const srv = await startServer(() => answers[i++] ?? { status: 500, body: '' });
    close = srv.close;
    const e401 = await rejection(importDashboards({ kibanaUrl: srv.url }));
    const e400 = await rejection(importDashboards({ kibanaUrl: srv.url }));
    const e503 = await rejection(importDashboards({ kibanaUrl: srv.url }));
    expect(isZeekRstError(e401, 'ZRST_KIBANA_REJECTED') && !e401.retriable).toBe(true);
    expect(String(e401)).toMatch(/HTTP 401 unable to authenticate user \(check the Kibana credentials/);
    expect(String(e400)).toContain('HTTP 400 Request must contain a kbn-xsrf header.');
    expect(isZeekRstError(e503, 'ZRST_KIBANA_UNAVAILABLE') && e503.retriable).toBe(true);
    expect(String(e503)).toContain('HTTP 503 Kibana server is not ready yet');
  });

  it('maps a refused connection to ZRST_KIBANA_UNAVAILABLE', async () => {
    const srv = await startServer(() => ({ status: 200, body: SUCCESS }));
    const url = srv.url;
    await srv.close(); // the port is now closed: nothing listens there
    const err = await rejection(importDashboards({ kibanaUrl: url }));
    expect(isZeekRstError(err, 'ZRST_KIBANA_UNAVAILABLE')).toBe(true);
    expect(String(err)).toContain(`POST ${url}/api/saved_objects/_import`);
  });

  it('rejects a missing file, a non-.ndjson file and a URL that is not http(s) before sending anything', async () => {
    const srv = await startServer(() => ({ status: 200, body: SUCCESS }));
    close = srv.close;
    const dir = mkdtempSync(path.join(tmpdir(), 'zeek-rst-kibana-'));
    const json = path.join(dir, 'objects.json');
    writeFileSync(json, '{}\n');
    expect(isZeekRstError(await rejection(importDashboards({ kibanaUrl: srv.url, file: path.join(dir, 'none.ndjson') })), 'ZRST_FILE_UNREADABLE')).toBe(true);
    expect(isZeekRstError(await rejection(importDashboards({ kibanaUrl: srv.url, file: json })), 'ZRST_CONFIG_INVALID')).toBe(true);
    expect(isZeekRstError(await rejection(importDashboards({ kibanaUrl: 'localhost:5601' })), 'ZRST_CONFIG_INVALID')).toBe(true);
    expect(isZeekRstError(await rejection(importDashboards({ kibanaUrl: 'not a url' })), 'ZRST_CONFIG_INVALID')).toBe(true);
    expect(srv.seen.length).toBe(0);
  });
});
