/**
 * Reading the Kibana saved objects in dashboards/*.ndjson for the dashboard tests: the objects
 * narrowed from JSON, the Lens panels they hold, the small KQL subset the panels use, and the
 * Elasticsearch request Kibana builds for a Lens layer (so the integration test can run every
 * panel's query on the real Elasticsearch).
 *
 * Only the constructs our dashboards use are understood. Anything else throws, so that a panel
 * edited in Kibana with a construct the tests cannot check fails the tests instead of passing
 * unchecked:
 * - Lens (formBased datasource) columns: count (also with a KQL filter, as a formula's parts
 *   are), date_histogram, terms (with Kibana's missing bucket for string fields), unique_count,
 *   sum, range (explicit ranges), and formulas: the `formula` column, its `math` column
 *   (add, subtract, multiply, divide of columns and numbers) and the parts it references;
 * - KQL: `field : value`, `field : (v1 or v2 ...)`, `field : *` (exists), joined by `and` / `or`
 *   (and binds tighter), values quoted or bare; no `not`, other wildcards, ranges or parenthesised clauses.
 */
import { readFileSync } from 'node:fs';

export interface SavedObjectReference {
  readonly id: string;
  readonly type: string;
  readonly name: string;
}

export interface SavedObject {
  readonly id: string;
  readonly type: string;
  readonly attributes: Readonly<Record<string, unknown>>;
  readonly references: readonly SavedObjectReference[];
  readonly coreMigrationVersion: unknown;
  readonly typeMigrationVersion: unknown;
  /** 1-based line in the NDJSON file. */
  readonly line: number;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(o: Readonly<Record<string, unknown>>, key: string, where: string): string {
  const v = o[key];
  if (typeof v !== 'string') throw new Error(`${where}: ${key} is not a string`);
  return v;
}

function arr(o: Readonly<Record<string, unknown>>, key: string, where: string): readonly unknown[] {
  const v = o[key];
  if (!Array.isArray(v)) throw new Error(`${where}: ${key} is not an array`);
  return v;
}

function rec(o: Readonly<Record<string, unknown>>, key: string, where: string): Readonly<Record<string, unknown>> {
  const v = o[key];
  if (!isRecord(v)) throw new Error(`${where}: ${key} is not an object`);
  return v;
}

function parseReference(v: unknown, where: string): SavedObjectReference {
  if (!isRecord(v)) throw new Error(`${where}: reference is not an object`);
  return { id: str(v, 'id', where), type: str(v, 'type', where), name: str(v, 'name', where) };
}

/** Every line of an NDJSON export as a saved object; throws naming the line on anything malformed. */
export function readSavedObjects(file: string): SavedObject[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const objects: SavedObject[] = [];
  lines.forEach((text, i) => {
    if (text.trim() === '') return;
    const where = `${file}:${i + 1}`;
    const v: unknown = JSON.parse(text);
    if (!isRecord(v)) throw new Error(`${where}: not a JSON object`);
    objects.push({
      id: str(v, 'id', where),
      type: str(v, 'type', where),
      attributes: rec(v, 'attributes', where),
      references: arr(v, 'references', where).map((r) => parseReference(r, where)),
      coreMigrationVersion: v['coreMigrationVersion'],
      typeMigrationVersion: v['typeMigrationVersion'],
      line: i + 1,
    });
  });
  return objects;
}

// ---------------------------------------------------------------------------------------------
// Lens

/** A formula's arithmetic as Lens stores it (`params.tinymathAst`): a column id, a number, or a function of those. */
export type MathAst = string | number | { readonly name: 'add' | 'subtract' | 'multiply' | 'divide'; readonly args: readonly MathAst[] };

export type LensColumn =
  | { readonly kind: 'count'; /** KQL of a filtered count (a formula's `count(kql='...')`). */ readonly filter?: string }
  | { readonly kind: 'math'; readonly ast: MathAst; readonly references: readonly string[] }
  | { readonly kind: 'formula'; readonly formula: string; readonly references: readonly string[] }
  | { readonly kind: 'date_histogram'; readonly field: string; readonly interval: string; readonly includeEmptyRows: boolean }
  | {
      readonly kind: 'terms';
      readonly field: string;
      readonly dataType: string;
      readonly size: number;
      readonly orderBy: string;
      readonly orderDirection: 'asc' | 'desc';
      /** Kibana's "include documents without this field": honoured for string fields only (terms.ts writes `missing: '__missing__'`). */
      readonly missingBucket: boolean;
    }
  | { readonly kind: 'unique_count'; readonly field: string }
  | { readonly kind: 'sum'; readonly field: string }
  | { readonly kind: 'range'; readonly field: string; readonly dataType: string; readonly ranges: readonly { readonly from: number; readonly to: number; readonly label: string }[] };

/** The key Kibana gives the missing bucket of a string terms column. */
export const MISSING_KEY = '__missing__';

export interface LensLayer {
  readonly layerId: string;
  readonly dataViewId: string;
  readonly columns: ReadonlyMap<string, LensColumn>;
  readonly columnOrder: readonly string[];
}

export interface LensPanel {
  readonly id: string;
  readonly title: string;
  readonly visualizationType: string;
  readonly visualization: Readonly<Record<string, unknown>>;
  /** The KQL query of the visualization ('' for none). */
  readonly query: string;
  readonly layers: readonly LensLayer[];
}

const RECORDS_FIELD = '___records___';

function num(o: Readonly<Record<string, unknown>>, key: string, where: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${where}: ${key} is not a number`);
  return v;
}

function parseMathAst(v: unknown, where: string): MathAst {
  if (typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v))) return v;
  if (!isRecord(v) || v['type'] !== 'function') throw new Error(`${where}: tinymathAst node ${JSON.stringify(v)} is not translated`);
  const name = v['name'];
  if (name !== 'add' && name !== 'subtract' && name !== 'multiply' && name !== 'divide') throw new Error(`${where}: tinymath function ${String(name)} is not translated`);
  return { name, args: arr(v, 'args', where).map((a) => parseMathAst(a, where)) };
}

function stringList(o: Readonly<Record<string, unknown>>, key: string, where: string): readonly string[] {
  return arr(o, key, where).map((r) => {
    if (typeof r !== 'string') throw new Error(`${where}: ${key} holds a non-string`);
    return r;
  });
}

function parseColumn(c: unknown, where: string): LensColumn {
  if (!isRecord(c)) throw new Error(`${where}: column is not an object`);
  if (c['timeShift'] !== undefined || c['reducedTimeRange'] !== undefined) {
    throw new Error(`${where}: time shifts and reduced time ranges are not translated`);
  }
  const op = str(c, 'operationType', where);
  if (c['filter'] !== undefined && op !== 'count') throw new Error(`${where}: a filter on a ${op} column is not translated`);
  const params = isRecord(c['params']) ? c['params'] : {};
  switch (op) {
    case 'count': {
      if (c['sourceField'] !== RECORDS_FIELD) throw new Error(`${where}: count of a field is not translated`);
      if (c['filter'] === undefined) return { kind: 'count' };
      const filter = rec(c, 'filter', where);
      if (filter['language'] !== 'kuery') throw new Error(`${where}: filter language ${String(filter['language'])} is not translated`);
      return { kind: 'count', filter: str(filter, 'query', where) };
    }
    case 'math':
      return { kind: 'math', ast: parseMathAst(params['tinymathAst'], where), references: stringList(c, 'references', where) };
    case 'formula':
      if (params['isFormulaBroken'] === true) throw new Error(`${where}: the formula is marked broken`);
      return { kind: 'formula', formula: str(params, 'formula', where), references: stringList(c, 'references', where) };
    case 'date_histogram':
      return { kind: 'date_histogram', field: str(c, 'sourceField', where), interval: str(params, 'interval', where), includeEmptyRows: params['includeEmptyRows'] === true };
    case 'terms': {
      const orderBy = rec(params, 'orderBy', where);
      if (orderBy['type'] !== 'column') throw new Error(`${where}: terms ordered by ${String(orderBy['type'])} is not translated`);
      const dir = params['orderDirection'];
      if (dir !== 'asc' && dir !== 'desc') throw new Error(`${where}: orderDirection must be asc or desc`);
      for (const k of ['include', 'exclude'] as const) {
        const list = params[k];
        if (list !== undefined && (!Array.isArray(list) || list.length > 0)) throw new Error(`${where}: terms ${k} is not translated`);
      }
      return {
        kind: 'terms',
        field: str(c, 'sourceField', where),
        dataType: str(c, 'dataType', where),
        size: num(params, 'size', where),
        orderBy: str(orderBy, 'columnId', where),
        orderDirection: dir,
        missingBucket: params['missingBucket'] === true,
      };
    }
    case 'unique_count':
      return { kind: 'unique_count', field: str(c, 'sourceField', where) };
    case 'sum':
      return { kind: 'sum', field: str(c, 'sourceField', where) };
    case 'range': {
      if (params['type'] !== 'range') throw new Error(`${where}: only ranges with explicit bounds are translated (not histogram mode)`);
      const ranges = arr(params, 'ranges', where).map((r) => {
        if (!isRecord(r)) throw new Error(`${where}: range is not an object`);
        return { from: num(r, 'from', where), to: num(r, 'to', where), label: typeof r['label'] === 'string' ? r['label'] : '' };
      });
      return { kind: 'range', field: str(c, 'sourceField', where), dataType: str(c, 'dataType', where), ranges };
    }
    default:
      throw new Error(`${where}: Lens operation ${op} is not translated`);
  }
}

/** A `lens` saved object as a panel definition; throws on anything the translator does not know. */
export function parseLens(o: SavedObject): LensPanel {
  const where = `lens ${o.id}`;
  if (o.type !== 'lens') throw new Error(`${where}: type is ${o.type}`);
  const state = rec(o.attributes, 'state', where);
  const query = rec(state, 'query', where);
  if (query['language'] !== 'kuery') throw new Error(`${where}: query language ${String(query['language'])} is not translated`);
  if (arr(state, 'filters', where).length > 0) throw new Error(`${where}: state.filters are not translated (use the KQL query)`);
  const datasources = rec(state, 'datasourceStates', where);
  for (const key of Object.keys(datasources)) {
    if (key !== 'formBased') throw new Error(`${where}: datasource ${key} is not translated`);
  }
  const layersObj = rec(rec(datasources, 'formBased', where), 'layers', where);
  const layers = Object.entries(layersObj).map(([layerId, layer]): LensLayer => {
    const lw = `${where} layer ${layerId}`;
    if (!isRecord(layer)) throw new Error(`${lw}: not an object`);
    const ref = o.references.find((r) => r.name === `indexpattern-datasource-layer-${layerId}`);
    if (ref === undefined || ref.type !== 'index-pattern') throw new Error(`${lw}: no index-pattern reference indexpattern-datasource-layer-${layerId}`);
    const columns = new Map(Object.entries(rec(layer, 'columns', lw)).map(([id, c]) => [id, parseColumn(c, `${lw} column ${id}`)]));
    const columnOrder = arr(layer, 'columnOrder', lw).map((id) => {
      if (typeof id !== 'string' || !columns.has(id)) throw new Error(`${lw}: columnOrder names an unknown column ${String(id)}`);
      return id;
    });
    if (columnOrder.length !== columns.size) throw new Error(`${lw}: columnOrder does not list every column`);
    for (const [id, col] of columns) {
      if (col.kind !== 'math' && col.kind !== 'formula') continue;
      const unknown = col.references.filter((r) => !columns.has(r));
      if (unknown.length > 0) throw new Error(`${lw}: column ${id} references unknown columns ${unknown.join(', ')}`);
      if (col.kind === 'formula' && (col.references.length !== 1 || columns.get(col.references[0] ?? '')?.kind !== 'math')) throw new Error(`${lw}: formula ${id} must reference its one math column`);
    }
    const isBucket = (id: string): boolean => ['terms', 'date_histogram', 'range'].includes(columns.get(id)?.kind ?? '');
    if (columnOrder.some((id, i) => i > 0 && isBucket(id) && !isBucket(columnOrder[i - 1] ?? ''))) throw new Error(`${lw}: a bucket column follows a metric column`);
    return { layerId, dataViewId: ref.id, columns, columnOrder };
  });
  return {
    id: o.id,
    title: str(o.attributes, 'title', where),
    visualizationType: str(o.attributes, 'visualizationType', where),
    visualization: rec(state, 'visualization', where),
    query: str(query, 'query', where),
    layers,
  };
}

/** Fields a column reads (none for a count of records or a computed column). */
export function columnField(c: LensColumn): string | undefined {
  return c.kind === 'count' || c.kind === 'math' || c.kind === 'formula' ? undefined : c.field;
}

/** Column ids a math AST reads. */
export function mathColumns(ast: MathAst): string[] {
  if (typeof ast === 'string') return [ast];
  if (typeof ast === 'number') return [];
  return ast.args.flatMap(mathColumns);
}

function evalMath(ast: MathAst, value: (id: string) => number | null): number | null {
  if (typeof ast === 'number') return ast;
  if (typeof ast === 'string') return value(ast);
  const args = ast.args.map((a) => evalMath(a, value));
  if (args.some((a) => a === null) || args.length === 0) return null;
  const nums = args as number[];
  const [first = 0, ...rest] = nums;
  switch (ast.name) {
    case 'add':
      return nums.reduce((a, b) => a + b, 0);
    case 'multiply':
      return nums.reduce((a, b) => a * b, 1);
    case 'subtract':
      return rest.reduce((a, b) => a - b, first);
    case 'divide':
      // Lens shows an empty value for a division by zero.
      return rest.some((b) => b === 0) ? null : rest.reduce((a, b) => a / b, first);
  }
}

// ---------------------------------------------------------------------------------------------
// KQL subset

export interface KqlValue {
  readonly text: string;
  readonly quoted: boolean;
}
export interface KqlClause {
  readonly field: string;
  /** One value, or the alternatives of `field : (a or b)`; empty for `field : *` (the field exists). */
  readonly values: readonly KqlValue[];
}
/** Disjunction of conjunctions: [[a, b], [c]] is `a and b or c`. */
export type KqlQuery = readonly (readonly KqlClause[])[];

type Token = { readonly t: 'word'; readonly v: string } | { readonly t: 'quoted'; readonly v: string } | { readonly t: ':' | '(' | ')' | '*' };

function tokenize(q: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < q.length) {
    const ch = q.charAt(i);
    if (/\s/.test(ch)) {
      i++;
    } else if (ch === '*' && (tokens[tokens.length - 1]?.t === ':')) {
      tokens.push({ t: '*' });
      i++;
    } else if (ch === ':' || ch === '(' || ch === ')') {
      tokens.push({ t: ch });
      i++;
    } else if (ch === '"') {
      let v = '';
      i++;
      while (i < q.length && q.charAt(i) !== '"') {
        if (q.charAt(i) === '\\') i++;
        v += q.charAt(i);
        i++;
      }
      if (i >= q.length) throw new Error(`KQL: unterminated string in ${JSON.stringify(q)}`);
      i++;
      tokens.push({ t: 'quoted', v });
    } else {
      const m = /^[A-Za-z0-9_.@-]+/.exec(q.slice(i));
      if (m === null) throw new Error(`KQL: unsupported character ${JSON.stringify(ch)} in ${JSON.stringify(q)}`);
      tokens.push({ t: 'word', v: m[0] });
      i += m[0].length;
    }
  }
  return tokens;
}

const isKeyword = (tok: Token | undefined, kw: string): boolean => tok?.t === 'word' && tok.v.toLowerCase() === kw;

/** Parses the supported KQL subset; '' is no query (match all). Throws on anything else. */
export function parseKql(q: string): KqlQuery {
  const tokens = tokenize(q);
  if (tokens.length === 0) return [];
  let pos = 0;
  const fail = (what: string): never => {
    throw new Error(`KQL: ${what} at token ${pos} of ${JSON.stringify(q)} (only field : value, field : (a or b), and, or are supported)`);
  };
  const value = (): KqlValue => {
    const tok = tokens[pos];
    if (tok === undefined) return fail('missing value');
    if (tok.t === 'quoted') {
      pos++;
      return { text: tok.v, quoted: true };
    }
    if (tok.t === 'word' && !['and', 'or', 'not'].includes(tok.v.toLowerCase())) {
      pos++;
      return { text: tok.v, quoted: false };
    }
    return fail('expected a value');
  };
  const clause = (): KqlClause => {
    const field = tokens[pos];
    if (field?.t !== 'word' || ['and', 'or', 'not'].includes(field.v.toLowerCase())) return fail('expected a field name');
    pos++;
    if (tokens[pos]?.t !== ':') return fail('expected ":"');
    pos++;
    if (tokens[pos]?.t === '*') {
      pos++;
      return { field: field.v, values: [] };
    }
    if (tokens[pos]?.t !== '(') return { field: field.v, values: [value()] };
    pos++;
    const values = [value()];
    while (isKeyword(tokens[pos], 'or')) {
      pos++;
      values.push(value());
    }
    if (tokens[pos]?.t !== ')') return fail('expected ")"');
    pos++;
    return { field: field.v, values };
  };
  const conjunction = (): KqlClause[] => {
    const clauses = [clause()];
    while (isKeyword(tokens[pos], 'and')) {
      pos++;
      clauses.push(clause());
    }
    return clauses;
  };
  const query = [conjunction()];
  while (isKeyword(tokens[pos], 'or')) {
    pos++;
    query.push(conjunction());
  }
  if (pos !== tokens.length) fail('unexpected token');
  return query;
}

export function kqlFields(q: KqlQuery): string[] {
  return [...new Set(q.flatMap((conj) => conj.map((c) => c.field)))];
}

/** The query Kibana's KQL compiles to: match_phrase for quoted values, match for bare ones. */
export function kqlToEs(q: KqlQuery): Record<string, unknown> {
  const valueQuery = (field: string, v: KqlValue): Record<string, unknown> => (v.quoted ? { match_phrase: { [field]: v.text } } : { match: { [field]: v.text } });
  const clauseQuery = (c: KqlClause): Record<string, unknown> => {
    if (c.values.length === 0) return { exists: { field: c.field } };
    const [only, ...rest] = c.values;
    if (only !== undefined && rest.length === 0) return valueQuery(c.field, only);
    return { bool: { should: c.values.map((v) => valueQuery(c.field, v)), minimum_should_match: 1 } };
  };
  if (q.length === 0) return { match_all: {} };
  const conjunctions = q.map((conj) => ({ bool: { filter: conj.map(clauseQuery) } }));
  const [single, ...more] = conjunctions;
  if (single !== undefined && more.length === 0) return single;
  return { bool: { should: conjunctions, minimum_should_match: 1 } };
}

// ---------------------------------------------------------------------------------------------
// Lens layer -> Elasticsearch request and rows

export interface TimeRange {
  readonly fromIso: string;
  readonly toIso: string;
  /**
   * What Kibana's `auto` date_histogram interval resolves to for this range (it derives it from
   * the time picker and the chart width; the test fixes it to a calendar interval).
   */
  readonly autoInterval: string;
}

function metricAgg(c: LensColumn): Record<string, unknown> | undefined {
  // A filtered count is a filter aggregation; its doc_count is the value (Kibana's filtered_metric of a count).
  if (c.kind === 'count' && c.filter !== undefined) return { filter: kqlToEs(parseKql(c.filter)) };
  if (c.kind === 'unique_count') return { cardinality: { field: c.field } };
  if (c.kind === 'sum') return { sum: { field: c.field } };
  return undefined;
}

/**
 * The aggregations Kibana's esaggs builds for a layer: bucket columns nested in columnOrder,
 * metric columns inside the innermost bucket, and a terms ordered by a metric column carries that
 * metric as `orderAgg`. `otherBucket` is a second request in Kibana and does not change the top
 * buckets, so it is not issued here.
 */
export function layerAggs(layer: LensLayer, range: TimeRange): Record<string, unknown> {
  const buckets = layer.columnOrder.filter((id) => {
    const c = layer.columns.get(id);
    return c !== undefined && (c.kind === 'terms' || c.kind === 'date_histogram' || c.kind === 'range');
  });
  const metrics: Record<string, unknown> = {};
  for (const id of layer.columnOrder) {
    const c = layer.columns.get(id);
    const agg = c === undefined ? undefined : metricAgg(c);
    if (agg !== undefined) metrics[id] = agg;
  }
  let inner: Record<string, unknown> = metrics;
  for (const id of [...buckets].reverse()) {
    const c = layer.columns.get(id);
    let agg: Record<string, unknown>;
    if (c?.kind === 'terms') {
      const orderCol = layer.columns.get(c.orderBy);
      if (orderCol === undefined) throw new Error(`terms column ${id} orders by unknown column ${c.orderBy}`);
      const orderMetric = metricAgg(orderCol);
      agg = {
        terms: {
          field: c.field,
          size: c.size,
          order: orderMetric === undefined ? { _count: c.orderDirection } : { orderAgg: c.orderDirection },
          ...(c.missingBucket && c.dataType === 'string' ? { missing: MISSING_KEY } : {}),
        },
      };
      inner = orderMetric === undefined ? inner : { ...inner, orderAgg: orderMetric };
    } else if (c?.kind === 'date_histogram') {
      const interval = c.interval === 'auto' ? range.autoInterval : c.interval;
      agg = {
        date_histogram: {
          field: c.field,
          calendar_interval: interval,
          time_zone: 'UTC',
          min_doc_count: c.includeEmptyRows ? 0 : 1,
          ...(c.includeEmptyRows ? { extended_bounds: { min: range.fromIso, max: range.toIso } } : {}),
        },
      };
    } else if (c?.kind === 'range') {
      agg = { range: { field: c.field, ranges: c.ranges.map((r) => ({ from: r.from, to: r.to, key: r.label })) } };
    } else {
      throw new Error(`column ${id} is not a bucket column`);
    }
    inner = { [id]: Object.keys(inner).length === 0 ? agg : { ...agg, aggs: inner } };
  }
  return inner;
}

/** The search body for one layer: the panel's KQL query and the time range, as Kibana filters. */
export function layerSearchBody(panel: LensPanel, layer: LensLayer, timeField: string, range: TimeRange): Record<string, unknown> {
  return {
    size: 0,
    track_total_hits: true,
    query: { bool: { filter: [kqlToEs(parseKql(panel.query)), { range: { [timeField]: { gte: range.fromIso, lte: range.toIso, format: 'strict_date_optional_time' } } }] } },
    aggs: layerAggs(layer, range),
  };
}

export type Cell = string | number | null;
export type Row = Readonly<Record<string, Cell>>;

function bucketList(agg: unknown): readonly Record<string, unknown>[] {
  if (!isRecord(agg)) throw new Error('aggregation result is not an object');
  const b = agg['buckets'];
  if (!Array.isArray(b)) throw new Error('aggregation result has no bucket array');
  return b.filter(isRecord);
}

function cellOf(v: unknown): Cell {
  return typeof v === 'string' || typeof v === 'number' ? v : null;
}

/**
 * Kibana's tabify: one row per innermost bucket, with every bucket column's key and every metric
 * (count = the innermost bucket's doc_count, a filtered count its filter's doc_count). A bucket
 * whose nested buckets are empty gives no row. Math and formula columns are then computed per
 * row from the columns they reference, as Lens's math expression does.
 */
export function tabify(layer: LensLayer, aggregations: unknown, totalHits?: number): Row[] {
  const rows: Row[] = [];
  const order = layer.columnOrder;
  const walk = (level: Record<string, unknown>, idx: number, row: Record<string, Cell>, docCount: number | undefined): void => {
    const id = order[idx];
    if (id === undefined) {
      rows.push(computeColumns(layer, row));
      return;
    }
    const c = layer.columns.get(id);
    if (c === undefined) throw new Error(`unknown column ${id}`);
    if (c.kind === 'math' || c.kind === 'formula') {
      walk(level, idx + 1, row, docCount);
    } else if (c.kind === 'count' && c.filter !== undefined) {
      const m = level[id];
      walk(level, idx + 1, { ...row, [id]: isRecord(m) ? cellOf(m['doc_count']) : null }, docCount);
    } else if (c.kind === 'count') {
      walk(level, idx + 1, { ...row, [id]: docCount ?? null }, docCount);
    } else if (c.kind === 'unique_count' || c.kind === 'sum') {
      const m = level[id];
      walk(level, idx + 1, { ...row, [id]: isRecord(m) ? cellOf(m['value']) : null }, docCount);
    } else {
      for (const b of bucketList(level[id])) {
        const key = c.kind === 'date_histogram' ? cellOf(b['key_as_string']) : cellOf(b['key']);
        const dc = typeof b['doc_count'] === 'number' ? b['doc_count'] : undefined;
        if (dc === 0) continue;
        walk(b, idx + 1, { ...row, [id]: key }, dc);
      }
    }
  };
  // A layer without bucket columns (a metric tile) counts the whole result: Kibana reads hits.total.
  const top = aggregations === undefined && totalHits !== undefined ? {} : aggregations;
  if (!isRecord(top)) throw new Error('response has no aggregations');
  walk(top, 0, {}, totalHits);
  return rows;
}

/** The math and formula columns of a row, from the columns they reference (a formula is its math column's value). */
function computeColumns(layer: LensLayer, row: Record<string, Cell>): Record<string, Cell> {
  const out: Record<string, Cell> = { ...row };
  const resolving = new Set<string>();
  const value = (id: string): number | null => {
    if (id in out) {
      const v = out[id];
      return typeof v === 'number' ? v : null;
    }
    const c = layer.columns.get(id);
    if (c === undefined) throw new Error(`math references unknown column ${id}`);
    if (resolving.has(id)) throw new Error(`column ${id} references itself`);
    resolving.add(id);
    let v: number | null;
    if (c.kind === 'math') v = evalMath(c.ast, value);
    else if (c.kind === 'formula') v = value(c.references[0] ?? '');
    else v = null;
    out[id] = v;
    return v;
  };
  for (const [id, c] of layer.columns) if (c.kind === 'math' || c.kind === 'formula') value(id);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Index template mapping

/** Leaf field path -> mapping type of an index template mapping (`properties` trees). */
export function mappingFieldTypes(mapping: unknown): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (props: unknown, prefix: string): void => {
    if (!isRecord(props)) return;
    for (const [name, def] of Object.entries(props)) {
      if (!isRecord(def)) continue;
      const path = prefix === '' ? name : `${prefix}.${name}`;
      if (typeof def['type'] === 'string') out.set(path, def['type']);
      if (isRecord(def['properties'])) walk(def['properties'], path);
    }
  };
  if (isRecord(mapping)) walk(mapping['properties'], '');
  return out;
}

/** Mapping types Kibana can aggregate on (doc values by default). text and object cannot be. */
export const AGGREGATABLE_TYPES: ReadonlySet<string> = new Set(['keyword', 'ip', 'date', 'long', 'integer', 'short', 'byte', 'double', 'float', 'half_float', 'scaled_float', 'boolean']);

/** The Lens `dataType` that a mapping type shows up as in a data view. */
export function lensDataTypeOf(mappingType: string): string | undefined {
  if (mappingType === 'keyword') return 'string';
  if (mappingType === 'ip') return 'ip';
  if (mappingType === 'date') return 'date';
  if (mappingType === 'boolean') return 'boolean';
  if (['long', 'integer', 'short', 'byte', 'double', 'float', 'half_float', 'scaled_float'].includes(mappingType)) return 'number';
  return undefined;
}
