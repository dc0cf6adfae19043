import { readFileSync } from 'node:fs';
import path from 'node:path';
import { backoffMs, decideBulk, judgeItem, type BulkDecision } from './retry';

/** Real response bodies from Elasticsearch 8.19 (test/fixtures/bulk/README.md says how each was made). */
function fixture(name: string): unknown {
  return JSON.parse(readFileSync(path.resolve(__dirname, '../../test/fixtures/bulk', name), 'utf8'));
}

function items(decision: BulkDecision): readonly string[] {
  if (decision.kind !== 'items') throw new Error(`expected per-item results, got ${decision.kind}`);
  return decision.items.map((i) => (i.kind === 'acknowledged' ? 'ack' : `${i.kind}:${i.status}:${i.errorType}`));
}

describe('decideBulk on real bulk responses', () => {
  it('acknowledges created and updated documents', () => {
    expect(items(decideBulk({ kind: 'http', status: 200, body: fixture('all-ok.json') }, 2))).toEqual(['ack', 'ack']);
    expect(items(decideBulk({ kind: 'http', status: 200, body: fixture('reindex-same-id.json') }, 1))).toEqual(['ack']);
  });

  it('parses a 200 with errors:true item by item: content rejections are dead letters, the good one is acknowledged', () => {
    expect(items(decideBulk({ kind: 'http', status: 200, body: fixture('mapping-rejections.json') }, 4))).toEqual([
      'ack',
      'reject:400:strict_dynamic_mapping_exception',
      'reject:400:document_parsing_exception',
      'reject:400:document_parsing_exception',
    ]);
    expect(items(decideBulk({ kind: 'http', status: 200, body: fixture('item-400-truncated-source.json') }, 1))).toEqual(['reject:400:document_parsing_exception']);
  });

  it('keeps the reason and its cause for the dead letter detail', () => {
    const d = decideBulk({ kind: 'http', status: 200, body: fixture('mapping-rejections.json') }, 4);
    if (d.kind !== 'items') throw new Error(d.kind);
    const ip = d.items[2];
    if (ip?.kind !== 'reject') throw new Error('expected a rejection');
    expect(ip.reason).toMatch(/source\.ip.*caused by illegal_argument_exception: 'not-an-ip' is not an IP string literal/);
  });

  it('retries items refused for a reason that waiting can fix (429 block, 503 shards)', () => {
    expect(items(decideBulk({ kind: 'http', status: 200, body: fixture('item-429-read-only.json') }, 2))).toEqual(['retry:429:cluster_block_exception', 'retry:429:cluster_block_exception']);
    expect(items(decideBulk({ kind: 'http', status: 200, body: fixture('item-503-unavailable-shards.json') }, 2))).toEqual(['retry:503:unavailable_shards_exception', 'retry:503:unavailable_shards_exception']);
  });

  it('retries an item-level 400 about the index, not the document (a whole stream must not be dead-lettered for it)', () => {
    expect(items(decideBulk({ kind: 'http', status: 200, body: fixture('item-400-invalid-index-name.json') }, 1))).toEqual(['retry:400:invalid_index_name_exception']);
  });

  it('fails on a request-level 400 (our request is wrong: neither waiting nor dropping helps)', () => {
    const d = decideBulk({ kind: 'http', status: 400, body: fixture('request-400-unknown-action.json') }, 1);
    expect(d.kind).toBe('fail');
    expect(d.kind === 'fail' ? d.why : '').toMatch(/^HTTP 400 illegal_argument_exception: Malformed action/);
  });
});

describe('decideBulk on a privilege refusal', () => {
  it('fails the request when an item is refused with 403 security_exception (the credentials lack the index privilege)', () => {
    const d = decideBulk({ kind: 'http', status: 200, body: fixture('item-403-security.json') }, 2);
    expect(d.kind).toBe('fail');
    expect(d.kind === 'fail' ? d.status : 0).toBe(403);
    expect(d.kind === 'fail' ? d.why : '').toMatch(/^bulk item refused: HTTP 403 security_exception: action \[indices:admin\/auto_create\] is unauthorized for user \[zeekrst-pipeline\]/);
  });
});

describe('decideBulk on statuses and transport failures', () => {
  it.each([408, 429, 500, 502, 503, 504])('retries the whole request on HTTP %i', (status) => {
    expect(decideBulk({ kind: 'http', status, body: undefined }, 3).kind).toBe('retry_request');
  });

  it.each([401, 403, 404])('fails on HTTP %i', (status) => {
    expect(decideBulk({ kind: 'http', status, body: {} }, 3).kind).toBe('fail');
  });

  it('retries connection errors and timeouts', () => {
    expect(decideBulk({ kind: 'transport_error', name: 'ConnectionError', message: 'connect ECONNREFUSED 127.0.0.1:19200' }, 1)).toEqual({
      kind: 'retry_request',
      why: 'ConnectionError: connect ECONNREFUSED 127.0.0.1:19200',
    });
  });

  it('retries a 200 whose body cannot be matched to the request', () => {
    expect(decideBulk({ kind: 'http', status: 200, body: fixture('all-ok.json') }, 3).kind).toBe('retry_request');
    expect(decideBulk({ kind: 'http', status: 200, body: 'oops' }, 1).kind).toBe('retry_request');
    expect(decideBulk({ kind: 'http', status: 200, body: { items: [{ index: {} }] } }, 1).kind).toBe('retry_request');
  });

  it('does not count a 2xx item that carries an error as acknowledged', () => {
    expect(judgeItem({ index: { status: 201, error: { type: 'x' } } })).toEqual({ kind: 'retry', status: 201, errorType: 'x' });
  });
});

describe('backoffMs', () => {
  const settings = { initialMs: 100, maxMs: 5000 };
  it('grows exponentially up to the ceiling, with full jitter', () => {
    const top = (attempt: number): number => backoffMs(attempt, settings, () => 0.999999);
    expect([0, 1, 2, 3, 4, 5, 6, 50].map(top)).toEqual([99, 199, 399, 799, 1599, 3199, 4999, 4999]);
    expect(backoffMs(3, settings, () => 0.5)).toBe(400);
  });

  it('never returns less than 1 ms or more than the ceiling, even for odd draws', () => {
    expect(backoffMs(0, settings, () => 0)).toBe(1);
    expect(backoffMs(10, settings, () => 7)).toBeLessThan(5000);
    expect(backoffMs(10, settings, () => -1)).toBe(1);
  });
});
