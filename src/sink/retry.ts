/**
 * The one retry policy of zeek-rst (docs/architecture.md, "Errors and retries"): what to do with a bulk
 * response, and how long to wait before trying again. Pure: the decision is a function of the
 * HTTP status, the body and each item's result; the delay of an attempt number and a random draw.
 *
 * - 429, 408, 5xx and transport failures (connection refused, reset, timeout): the whole
 *   request is retried.
 * - 200 with `errors: false`: every document is acknowledged.
 * - 200 with `errors: true`: each item is judged on its own status and error type. A 400 whose
 *   type says Elasticsearch refused the document's content (CONTENT_REJECTIONS) goes to the
 *   dead-letter topic: it would fail the same way forever. Any other failing item (a 400 about
 *   the index rather than the document, such as invalid_index_name_exception from a broken
 *   template or prefix; 429 es_rejected_execution_exception; 5xx unavailable_shards_exception;
 *   403/404 cluster or index states) is retried: an operator can fix it, retrying loses
 *   nothing, and the stalled pipeline shows in the metrics instead of a whole stream being
 *   dead-lettered.
 * - Any other request-level status (400 for a malformed request, 401, 403, 404) cannot be
 *   fixed by waiting or by dropping a document: `fail` stops the pipeline without committing.
 *   So does an item refused with 403 `security_exception` (the credentials lack the index
 *   privilege): every later document would fail the same way, and none of them is at fault.
 */

/** How one bulk item ended. */
export type ItemOutcome =
  | { readonly kind: 'acknowledged' }
  | { readonly kind: 'retry'; readonly status: number; readonly errorType: string }
  | { readonly kind: 'reject'; readonly status: number; readonly errorType: string; readonly reason: string };

/** What to do with one bulk request and its response. */
export type BulkDecision =
  | { readonly kind: 'items'; readonly items: readonly ItemOutcome[] }
  | { readonly kind: 'retry_request'; readonly why: string }
  | { readonly kind: 'fail'; readonly why: string; readonly status: number };

/** What the transport gave back: an HTTP answer, or no answer at all. */
export type BulkResponse =
  | { readonly kind: 'http'; readonly status: number; readonly body: unknown }
  | { readonly kind: 'transport_error'; readonly name: string; readonly message: string };

export interface BackoffSettings {
  readonly initialMs: number;
  readonly maxMs: number;
}

function isRecord(v: unknown): v is Readonly<Record<string, unknown>> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Status codes worth retrying: the request may succeed later without any change. */
export function isRetriableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

function describeError(error: unknown): { type: string; reason: string } {
  if (!isRecord(error)) return { type: 'unknown', reason: '' };
  const type = typeof error['type'] === 'string' ? error['type'] : 'unknown';
  let reason = typeof error['reason'] === 'string' ? error['reason'] : '';
  const cause = error['caused_by'];
  if (isRecord(cause) && typeof cause['reason'] === 'string') reason = `${reason} (caused by ${String(cause['type'])}: ${cause['reason']})`;
  return { type, reason };
}

/** Item error types that mean "this document's content is unacceptable", whatever the index state. */
export const CONTENT_REJECTIONS: ReadonlySet<string> = new Set([
  'mapper_parsing_exception',
  'document_parsing_exception',
  'strict_dynamic_mapping_exception',
  'illegal_argument_exception',
]);

/** Judges one entry of the response's `items` array (`{ index: { status, error? } }`). */
export function judgeItem(item: unknown): ItemOutcome | undefined {
  if (!isRecord(item)) return undefined;
  const action = item['index'] ?? item['create'] ?? item['update'] ?? item['delete'];
  if (!isRecord(action) || typeof action['status'] !== 'number') return undefined;
  const status = action['status'];
  if (status >= 200 && status < 300 && action['error'] === undefined) return { kind: 'acknowledged' };
  const { type, reason } = describeError(action['error']);
  if (status === 400 && CONTENT_REJECTIONS.has(type)) return { kind: 'reject', status, errorType: type, reason };
  return { kind: 'retry', status, errorType: type };
}

function itemReason(item: unknown): string {
  if (!isRecord(item)) return '';
  const action = item['index'] ?? item['create'] ?? item['update'] ?? item['delete'];
  return isRecord(action) ? describeError(action['error']).reason : '';
}

/** The decision for one bulk request of `expectedItems` actions. */
export function decideBulk(response: BulkResponse, expectedItems: number): BulkDecision {
  if (response.kind === 'transport_error') return { kind: 'retry_request', why: `${response.name}: ${response.message}` };
  const { status, body } = response;
  if (isRetriableStatus(status)) return { kind: 'retry_request', why: `HTTP ${status}${isRecord(body) ? ` ${describeError(body['error']).type}` : ''}` };
  if (status < 200 || status >= 300) return { kind: 'fail', status, why: `HTTP ${status}${isRecord(body) ? ` ${describeError(body['error']).type}: ${describeError(body['error']).reason}` : ''}` };
  if (!isRecord(body) || !Array.isArray(body['items'])) return { kind: 'retry_request', why: 'bulk response without an items array' };
  const rawItems: readonly unknown[] = body['items'];
  if (rawItems.length !== expectedItems) return { kind: 'retry_request', why: `bulk response has ${rawItems.length} items for ${expectedItems} actions` };
  const items: ItemOutcome[] = [];
  for (const raw of rawItems) {
    const outcome = judgeItem(raw);
    if (outcome === undefined) return { kind: 'retry_request', why: 'bulk response item without a status' };
    if (outcome.kind === 'retry' && outcome.status === 403 && outcome.errorType === 'security_exception') {
      return { kind: 'fail', status: 403, why: `bulk item refused: HTTP 403 security_exception: ${itemReason(raw)}` };
    }
    items.push(outcome);
  }
  // `errors: false` with a failing item would contradict itself; the items are the truth either way.
  return { kind: 'items', items };
}

/**
 * Delay before retry number `attempt` (0-based): "full jitter" (a uniform draw between 0 and
 * min(max, initial * 2^attempt)), so that many instances retrying together spread out.
 * `random` returns a value in [0, 1).
 */
export function backoffMs(attempt: number, settings: BackoffSettings, random: () => number): number {
  const exp = Math.min(settings.maxMs, settings.initialMs * 2 ** Math.min(attempt, 30));
  const draw = random();
  const clamped = draw < 0 ? 0 : draw >= 1 ? 0.999999 : draw;
  return Math.max(1, Math.floor(clamped * exp));
}
