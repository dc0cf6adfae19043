/**
 * Static checks of the Kibana saved objects in dashboards/ (docs/dashboards.md): the NDJSON is what
 * Kibana's import API takes, every reference resolves inside the file, every panel parses, and
 * every field a panel reads exists in the index template with a type Kibana can aggregate.
 * The queries themselves run on the real Elasticsearch in test/integration/dashboards.test.ts.
 */
import path from 'node:path';
import { VERDICT_TABLE, verdictsWhere } from '../../src/classify/verdicts';
import { CONN_MAPPING, SCANS_MAPPING, indexNames } from '../../src/sink/templates';
import { rewriteIndexPrefix } from '../../src/sink/kibana';
import { readFileSync } from 'node:fs';
import {
  AGGREGATABLE_TYPES,
  columnField,
  isRecord,
  kqlFields,
  lensDataTypeOf,
  mappingFieldTypes,
  mathColumns,
  parseKql,
  parseLens,
  readSavedObjects,
  type LensPanel,
  type SavedObject,
} from '../helpers/kibana-saved-objects';

const FILE = path.resolve(__dirname, '../../dashboards/zeek-rst.ndjson');
const objects = readSavedObjects(FILE);
const byType = (type: string): SavedObject[] => objects.filter((o) => o.type === type);
const lensPanels: LensPanel[] = byType('lens').map(parseLens);
const fieldTypes = mappingFieldTypes(CONN_MAPPING);
const scanFieldTypes = mappingFieldTypes(SCANS_MAPPING);
/** The mapping behind each data view: the scans view reads the summaries index. */
const typesOfView = (viewId: string): Map<string, string> => (viewId === 'zeek-rst-scans' ? scanFieldTypes : fieldTypes);
/** Closed sets (the verdict table, src/domain.ts, classify/scans.ts, ECS): a terms column on one must show every member. */
const CLOSED_SETS: Readonly<Record<string, number>> = {
  'rst.verdict': Object.keys(VERDICT_TABLE).length,
  'rst.phase': 6,
  'rst.origin': 3,
  'rst.sender': 4,
  'rst.device.kind': 4,
  'scan.kind': 4,
  'network.direction': 5,
  'rst.headers.sampled': 2,
};
/** Fields every document of the view has: a terms column on them needs no missing bucket. */
const ALWAYS_PRESENT: ReadonlySet<string> = new Set(['source.ip', 'source.port', 'destination.ip', 'destination.port', 'rst.present', 'rst.scan.scanner', 'rst.scan.probe']);
/** Reset panels' fields that every reset has (rst.present : true in their query or view). */
const PRESENT_ON_RESETS: ReadonlySet<string> = new Set(['rst.verdict', 'rst.phase', 'rst.sender', 'rst.origin', 'rst.confidence', 'rst.headers.sampled', 'rst.count']);
const names = indexNames('zeek-rst');
/** Every verdict, from the verdict table (src/classify/verdicts.ts), as the templates and the scan detector read it. */
const TABLE_VERDICTS: readonly string[] = Object.keys(VERDICT_TABLE);

/** Dashboard panels (panelsJSON), narrowed. */
function panelsOf(d: SavedObject): Record<string, unknown>[] {
  const raw = d.attributes['panelsJSON'];
  if (typeof raw !== 'string') throw new Error(`dashboard ${d.id}: panelsJSON is not a string`);
  const parsed: unknown = JSON.parse(raw);
  if (!Array.isArray(parsed)) throw new Error(`dashboard ${d.id}: panelsJSON is not an array`);
  return parsed.filter(isRecord);
}

const list = (v: unknown): readonly unknown[] => (Array.isArray(v) ? Array.from<unknown>(v) : []);

/** Every field a panel reads, with where it is read. */
function panelFields(p: LensPanel): { field: string; where: string; dataType?: string; view: string }[] {
  const fromColumns = p.layers.flatMap((l) =>
    [...l.columns.entries()].flatMap(([id, c]) => {
      const field = columnField(c);
      return field === undefined ? [] : [{ field, where: `${p.id} column ${id}`, view: l.dataViewId, ...(c.kind === 'terms' ? { dataType: c.dataType } : {}) }];
    }),
  );
  const fromQuery = kqlFields(parseKql(p.query)).map((field) => ({ field, where: `${p.id} query`, view: p.layers[0]?.dataViewId ?? '' }));
  // A formula's filtered counts (count(kql='...')) read the fields of their KQL.
  const fromFilters = p.layers.flatMap((l) =>
    [...l.columns.entries()].flatMap(([id, c]) => (c.kind === 'count' && c.filter !== undefined ? kqlFields(parseKql(c.filter)).map((field) => ({ field, where: `${p.id} column ${id} filter`, view: l.dataViewId })) : [])),
  );
  return [...fromColumns, ...fromQuery, ...fromFilters];
}

/** Whether every conjunction of the query requires the field to exist (`field : *` or `field : value`). */
function queryRequires(p: LensPanel, field: string): boolean {
  const q = parseKql(p.query);
  return q.length > 0 && q.every((conj) => conj.some((c) => c.field === field || (c.field === 'rst.present' && PRESENT_ON_RESETS.has(field))));
}

/** The drilldown events of a dashboard panel (embeddableConfig.enhancements.dynamicActions.events). */
function drilldownEvents(p: Readonly<Record<string, unknown>>): Record<string, unknown>[] {
  const cfg = p['embeddableConfig'];
  const enh = isRecord(cfg) ? cfg['enhancements'] : undefined;
  const dyn = isRecord(enh) ? enh['dynamicActions'] : undefined;
  return list(isRecord(dyn) ? dyn['events'] : undefined).filter(isRecord);
}

/**
 * What a URL drilldown's template opens in Discover: a saved search (`#/view/<id>`) or a data
 * view (`_a=(index:'<id>',...)`), and the KQL query it carries, with `{{event.*}}` left in.
 */
function urlDrilldownTarget(template: string): { kind: 'search' | 'dataView'; id: string; query: string } | undefined {
  if (!template.startsWith('{{kibanaUrl}}/app/discover#/')) return undefined;
  const view = /#\/view\/([a-z0-9-]+)\?/.exec(template);
  const index = /_a=\(index:'([a-z0-9-]+)'/.exec(template);
  const query = /query:\(language:kuery,query:'([^']*)'\)/.exec(template);
  if (query === null) return undefined;
  if (view !== null) return { kind: 'search', id: view[1] ?? '', query: query[1] ?? '' };
  if (index !== null) return { kind: 'dataView', id: index[1] ?? '', query: query[1] ?? '' };
  return undefined;
}

function lensObject(id: string): SavedObject {
  const o = byType('lens').find((l) => l.id === id);
  if (o === undefined) throw new Error(`no lens ${id}`);
  return o;
}

/** The raw column objects of a lens saved object. */
function rawColumns(o: SavedObject): { id: string; c: Record<string, unknown> }[] {
  const state = o.attributes['state'];
  const ds = isRecord(state) ? state['datasourceStates'] : undefined;
  const fb = isRecord(ds) ? ds['formBased'] : undefined;
  const layers = isRecord(fb) && isRecord(fb['layers']) ? Object.values(fb['layers']) : [];
  return layers.flatMap((l) => (isRecord(l) && isRecord(l['columns']) ? Object.entries(l['columns']).flatMap(([id, c]) => (isRecord(c) ? [{ id: `${o.id}/${id}`, c }] : [])) : []));
}

describe('dashboards/zeek-rst.ndjson', () => {
  it('holds data views, Lens visualizations and four dashboards with unique ids per type', () => {
    expect(byType('index-pattern').map((o) => o.id).sort()).toEqual(['zeek-rst-conn', 'zeek-rst-firewall', 'zeek-rst-resets', 'zeek-rst-scans']);
    expect(byType('dashboard').map((d) => d.id).sort()).toEqual(['zeek-rst-forged', 'zeek-rst-overview', 'zeek-rst-policy', 'zeek-rst-scans']);
    expect(byType('search').map((o) => o.id)).toEqual(['zeek-rst-resets-search']);
    expect(byType('visualization').map((o) => o.id)).toEqual(['zeek-rst-links']);
    expect(lensPanels.length).toBeGreaterThanOrEqual(12);
    const keys = objects.map((o) => `${o.type}/${o.id}`);
    expect(new Set(keys).size).toBe(keys.length);
    const unknownTypes = objects.filter((o) => !['index-pattern', 'lens', 'dashboard', 'search', 'visualization'].includes(o.type));
    expect(unknownTypes).toEqual([]);
  });

  it('sets 8.x migration versions that Kibana 8.8+ accepts on import (coreMigrationVersion 8.8.0; type versions no later than the type has)', () => {
    // typeMigrationVersion must not exceed the latest migration Kibana knows for the type, or the
    // import is refused: index-pattern 8.0.0, lens 8.6.0 (the formBased datasource), dashboard 8.7.0,
    // search 8.0.0, visualization 8.5.0.
    const expected: Record<string, string> = { 'index-pattern': '8.0.0', lens: '8.6.0', dashboard: '8.7.0', search: '8.0.0', visualization: '8.5.0' };
    for (const o of objects) {
      expect({ id: o.id, core: o.coreMigrationVersion, type: o.typeMigrationVersion }).toEqual({ id: o.id, core: '8.8.0', type: expected[o.type] });
    }
  });

  it('data views: connections by @timestamp, resets and the firewall view by rst.ts (when the RST happened), summaries by window; ports without thousands separators', () => {
    const views = new Map(byType('index-pattern').map((o) => [o.id, o.attributes]));
    const expected: Record<string, [string, string]> = {
      'zeek-rst-conn': [names.connAlias, '@timestamp'],
      'zeek-rst-resets': [names.connAlias, 'rst.ts'],
      'zeek-rst-firewall': [names.firewallAlias, 'rst.ts'],
      'zeek-rst-scans': [names.scansIndex, '@timestamp'],
    };
    for (const [id, [title, timeField]] of Object.entries(expected)) {
      expect({ id, title: views.get(id)?.['title'], time: views.get(id)?.['timeFieldName'] }).toEqual({ id, title, time: timeField });
      expect(typesOfView(id).get(timeField)).toBe('date');
    }
    for (const id of ['zeek-rst-conn', 'zeek-rst-resets', 'zeek-rst-firewall']) {
      const formats: unknown = JSON.parse(String(views.get(id)?.['fieldFormatMap']));
      // Kibana's default number format is 0,0.[000]: port 8080 would read "8,080".
      expect(formats).toMatchObject({ 'destination.port': { id: 'number', params: { pattern: '0' } }, 'source.port': { id: 'number', params: { pattern: '0' } } });
    }
  });

  it('setup --kibana-url moves every data view to the configured prefix and nothing else', () => {
    const text = readFileSync(FILE, 'utf8');
    const moved = rewriteIndexPrefix(text, 'soc-a');
    const titles = moved.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as { type: string; attributes: { title?: string } }).filter((o) => o.type === 'index-pattern').map((o) => o.attributes.title);
    expect(titles.sort()).toEqual(['soc-a-conn', 'soc-a-conn', 'soc-a-firewall', 'soc-a-scans']);
    expect(moved.split('\n').length).toBe(text.split('\n').length);
  });

  it('every reference resolves to an object of that type in the file', () => {
    const keys = new Set(objects.map((o) => `${o.type}/${o.id}`));
    const dangling = objects.flatMap((o) => o.references.filter((r) => !keys.has(`${r.type}/${r.id}`)).map((r) => `${o.type}/${o.id} -> ${r.type}/${r.id} (${r.name})`));
    expect(dangling).toEqual([]);
  });

  it('dashboard panels parse and each panelRefName has its reference (panelIndex:panelRefName), and every Lens object is on a dashboard', () => {
    const onDashboards = new Set<string>();
    for (const d of byType('dashboard')) {
      expect(typeof d.attributes['title']).toBe('string');
      const meta = d.attributes['kibanaSavedObjectMeta'];
      const search: unknown = isRecord(meta) && typeof meta['searchSourceJSON'] === 'string' ? JSON.parse(meta['searchSourceJSON']) : undefined;
      expect(isRecord(search)).toBe(true);
      expect(typeof JSON.parse(String(d.attributes['optionsJSON']))).toBe('object');
      const panels = panelsOf(d);
      expect(panels.length).toBeGreaterThanOrEqual(3);
      const panelRefs = d.references.filter((r) => !r.name.startsWith('controlGroup_') && !r.name.includes(':drilldown:'));
      const indices = panels.map((p) => p['panelIndex']);
      expect(new Set(indices).size).toBe(panels.length);
      for (const p of panels) {
        const ref = d.references.find((r) => r.name === `${String(p['panelIndex'])}:${String(p['panelRefName'])}`);
        expect({ panel: p['panelIndex'], type: ref?.type }).toEqual({ panel: p['panelIndex'], type: p['type'] });
        const grid = p['gridData'];
        expect(isRecord(grid) && grid['i'] === p['panelIndex']).toBe(true);
        if (ref !== undefined) onDashboards.add(ref.id);
      }
      expect(panelRefs.length).toBe(panels.length);
    }
    expect(lensPanels.map((p) => p.id).filter((id) => !onDashboards.has(id))).toEqual([]);
  });

  it('Lens visualizations reference their layers: every accessor names a column of the layer', () => {
    for (const p of lensPanels) {
      const columns = new Set(p.layers.flatMap((l) => [...l.columns.keys()]));
      const accessors: unknown[] = [];
      const v = p.visualization;
      if (p.visualizationType === 'lnsXY') {
        const layers = list(v['layers']).filter(isRecord);
        expect(layers.length).toBe(p.layers.length);
        for (const l of layers) accessors.push(l['xAccessor'], ...list(l['accessors']), ...(l['splitAccessor'] === undefined ? [] : [l['splitAccessor']]));
      } else if (p.visualizationType === 'lnsPie') {
        for (const l of list(v['layers']).filter(isRecord)) accessors.push(...list(l['primaryGroups']), ...list(l['metrics']));
      } else if (p.visualizationType === 'lnsMetric') {
        accessors.push(v['metricAccessor']);
      } else if (p.visualizationType === 'lnsDatatable') {
        accessors.push(...list(v['columns']).filter(isRecord).map((c) => c['columnId']));
      } else {
        throw new Error(`${p.id}: visualization ${p.visualizationType} is not checked here`);
      }
      expect(accessors.length).toBeGreaterThan(0);
      expect({ id: p.id, missing: accessors.filter((a) => typeof a !== 'string' || !columns.has(a)) }).toEqual({ id: p.id, missing: [] });
    }
  });

  it('every field a panel reads exists in the index template with an aggregatable type, and terms columns carry its data type', () => {
    const problems: string[] = [];
    for (const p of lensPanels) {
      for (const { field, where, dataType, view } of panelFields(p)) {
        const type = typesOfView(view).get(field);
        if (type === undefined) problems.push(`${where}: ${field} is not in the template`);
        else if (!AGGREGATABLE_TYPES.has(type)) problems.push(`${where}: ${field} is ${type}, not aggregatable`);
        else if (dataType !== undefined && lensDataTypeOf(type) !== dataType) problems.push(`${where}: ${field} is ${type} but the column says ${dataType}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('KQL values fit their fields: verdicts are known verdicts, booleans are true/false', () => {
    const problems: string[] = [];
    for (const p of lensPanels) {
      for (const conj of parseKql(p.query)) {
        for (const clause of conj) {
          for (const v of clause.values) {
            if (clause.field === 'rst.verdict' && !TABLE_VERDICTS.includes(v.text)) problems.push(`${p.id}: unknown verdict ${v.text}`);
            if (typesOfView(p.layers[0]?.dataViewId ?? '').get(clause.field) === 'boolean' && !['true', 'false'].includes(v.text)) problems.push(`${p.id}: ${clause.field} : ${v.text}`);
          }
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('missing buckets: a string terms split shows documents without the field; other types split only fields every counted document has', () => {
    const problems: string[] = [];
    for (const p of lensPanels) {
      for (const l of p.layers) {
        for (const [id, c] of l.columns) {
          if (c.kind !== 'terms') continue;
          // Kibana honours missingBucket for string fields only (terms.ts: missing: '__missing__').
          if (c.dataType === 'string' && !c.missingBucket) problems.push(`${p.id}/${id}: ${c.field} without missingBucket drops documents that lack it`);
          if (c.dataType !== 'string' && !ALWAYS_PRESENT.has(c.field) && !queryRequires(p, c.field)) problems.push(`${p.id}/${id}: ${c.field} (${c.dataType}) can be absent and has no missing bucket: require it in the query`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('every terms size covers its field\'s closed set (16 verdicts, 6 phases ...)', () => {
    const problems: string[] = [];
    for (const p of lensPanels) for (const l of p.layers) for (const [id, c] of l.columns) {
      const n = c.kind === 'terms' ? CLOSED_SETS[c.field] : undefined;
      if (c.kind === 'terms' && n !== undefined && c.size < n) problems.push(`${p.id}/${id}: size ${c.size} < ${n} values of ${c.field}`);
    }
    expect(problems).toEqual([]);
    expect(CLOSED_SETS['rst.verdict']).toBe(16);
  });

  it('range columns in explicit-ranges mode are ordinal strings (as Lens writes them), on a numeric field', () => {
    const ranges = byType('lens').flatMap(rawColumns).filter(({ c }) => c['operationType'] === 'range');
    expect(ranges.length).toBeGreaterThanOrEqual(2);
    for (const { id, c } of ranges) {
      expect({ id, dataType: c['dataType'], scale: c['scale'], parent: isRecord(c['params']) ? c['params']['parentFormat'] : undefined }).toEqual({ id, dataType: 'string', scale: 'ordinal', parent: { id: 'range', params: { template: 'arrow_right', replaceInfinity: true } } });
      expect(lensDataTypeOf(fieldTypes.get(String(c['sourceField'])) ?? '')).toBe('number');
    }
  });

  it('dashboards sync colors, restore a default time range, link each other and carry option-list controls on mapped fields', () => {
    const ids = byType('dashboard').map((d) => d.id);
    const links = byType('visualization')[0];
    const visState: unknown = JSON.parse(String(links?.attributes['visState']));
    const params = isRecord(visState) ? visState['params'] : undefined;
    const md = isRecord(params) && typeof params['markdown'] === 'string' ? params['markdown'] : '';
    for (const d of byType('dashboard')) {
      const opts: unknown = JSON.parse(String(d.attributes['optionsJSON']));
      expect({ id: d.id, sync: isRecord(opts) ? opts['syncColors'] : undefined }).toEqual({ id: d.id, sync: true });
      expect({ id: d.id, restore: d.attributes['timeRestore'], from: d.attributes['timeFrom'], to: d.attributes['timeTo'] }).toEqual({ id: d.id, restore: true, from: 'now-24h', to: 'now' });
      expect(d.references.some((r) => r.type === 'visualization' && r.id === 'zeek-rst-links')).toBe(true);
      const cg = d.attributes['controlGroupInput'];
      const controls: unknown = isRecord(cg) ? JSON.parse(String(cg['panelsJSON'])) : undefined;
      expect(isRecord(controls)).toBe(true);
      for (const [cid, ctl] of Object.entries(isRecord(controls) ? controls : {})) {
        const input = isRecord(ctl) ? ctl['explicitInput'] : undefined;
        const ref = d.references.find((r) => r.name === `controlGroup_${cid}:optionsListDataView`);
        expect({ cid, type: isRecord(ctl) ? ctl['type'] : undefined, ref: ref?.type }).toEqual({ cid, type: 'optionsListControl', ref: 'index-pattern' });
        const field = isRecord(input) ? String(input['fieldName']) : '';
        expect({ cid, field, aggregatable: AGGREGATABLE_TYPES.has(typesOfView(ref?.id ?? '').get(field) ?? '') }).toEqual({ cid, field, aggregatable: true });
      }
      // Drilldowns: every dashboard-to-dashboard event has its reference, and it names a dashboard of the file;
      // every URL drilldown opens Discover on a saved search or a data view of the file (urlDrilldownTarget).
      for (const p of panelsOf(d)) {
        for (const e of drilldownEvents(p)) {
          const action = e['action'];
          if (isRecord(action) && action['factoryId'] === 'URL_DRILLDOWN') {
            const target = urlDrilldownTarget(String(isRecord(action['config']) && isRecord(action['config']['url']) ? action['config']['url']['template'] : ''));
            const known = target !== undefined && objects.some((o) => o.type === (target.kind === 'search' ? 'search' : 'index-pattern') && o.id === target.id);
            expect({ event: e['eventId'], triggers: e['triggers'], known }).toEqual({ event: e['eventId'], triggers: ['VALUE_CLICK_TRIGGER'], known: true });
            continue;
          }
          if (!isRecord(action) || action['factoryId'] !== 'DASHBOARD_TO_DASHBOARD_DRILLDOWN') continue;
          const ref = d.references.find((r) => r.name === `${String(p['panelIndex'])}:drilldown:DASHBOARD_TO_DASHBOARD_DRILLDOWN:${String(e['eventId'])}:dashboardId`);
          expect({ event: e['eventId'], target: ref?.type, known: ids.includes(ref?.id ?? '') }).toEqual({ event: e['eventId'], target: 'dashboard', known: true });
        }
      }
      expect(md).toContain(`(#/view/${d.id})`);
    }
  });

  it('formulas: the formula text is its math column\'s, the math reads only parts of the layer, and each count(kql=...) is a filtered part', () => {
    const formulas = lensPanels.flatMap((p) => p.layers.flatMap((l) => [...l.columns].filter(([, c]) => c.kind === 'formula').map(([id]) => ({ p, l, id }))));
    expect(formulas.length).toBeGreaterThanOrEqual(1);
    for (const { p, l, id } of formulas) {
      const raw = rawColumns(lensObject(p.id));
      const rawOf = (cid: string): Record<string, unknown> => raw.find((r) => r.id === `${p.id}/${cid}`)?.c ?? {};
      const formula = l.columns.get(id);
      const mathId = formula?.kind === 'formula' ? formula.references[0] ?? '' : '';
      const math = l.columns.get(mathId);
      if (formula?.kind !== 'formula' || math?.kind !== 'math') throw new Error(`${p.id}/${id}: formula without its math column`);
      const params = rawOf(mathId)['params'];
      const ast = isRecord(params) ? params['tinymathAst'] : undefined;
      expect({ id, text: isRecord(ast) ? ast['text'] : undefined }).toEqual({ id, text: formula.formula });
      expect(new Set(mathColumns(math.ast))).toEqual(new Set(math.references));
      // Every count(kql='Q') in the formula text is a part with exactly that filter; count() is an unfiltered part.
      const kqls = [...formula.formula.matchAll(/count\(kql='([^']*)'\)/g)].map((m) => m[1]);
      const parts = math.references.map((r) => l.columns.get(r));
      expect(parts.filter((c) => c?.kind === 'count' && c.filter !== undefined).map((c) => (c?.kind === 'count' ? c.filter : undefined)).sort()).toEqual(kqls.sort());
      expect(parts.filter((c) => c?.kind === 'count' && c.filter === undefined).length).toBe([...formula.formula.matchAll(/count\(\)/g)].length);
    }
  });

  it('KPI "policy": the verdicts the table marks as policy actions (src/classify/verdicts.ts), as the firewall view filters them', () => {
    const tile = lensPanels.find((p) => p.id === 'zeek-rst-kpi-policy');
    const listed = parseKql(tile?.query ?? '').flatMap((conj) => conj.filter((c) => c.field === 'rst.verdict').flatMap((c) => c.values.map((v) => v.text)));
    expect([...listed].sort()).toEqual(verdictsWhere('policyAction').sort());
  });

  it('KPI "share injected": injected_reset and policy_reset over every reset, as a percentage, on the overview and forged dashboards', () => {
    const share = lensPanels.find((p) => p.id === 'zeek-rst-kpi-share-injected');
    const layer = share?.layers[0];
    const formula = [...(layer?.columns.values() ?? [])].find((c) => c.kind === 'formula');
    expect(share?.visualizationType).toBe('lnsMetric');
    expect(share?.query).toBe('rst.present : true');
    expect(formula?.kind === 'formula' ? formula.formula : undefined).toBe("count(kql='rst.verdict : (injected_reset or policy_reset)') / count()");
    const raw = rawColumns(lensObject('zeek-rst-kpi-share-injected')).find((r) => r.c['operationType'] === 'formula')?.c;
    expect(isRecord(raw) && isRecord(raw['params']) ? raw['params']['format'] : undefined).toEqual({ id: 'percent', params: { decimals: 1 } });
    for (const id of ['zeek-rst-overview', 'zeek-rst-forged']) {
      expect(byType('dashboard').find((d) => d.id === id)?.references.some((r) => r.id === 'zeek-rst-kpi-share-injected')).toBe(true);
    }
  });

  it('a connection drills down to its Community ID: a Community ID column opens every connection of that flow, and focuses the overview on it', () => {
    const overview = byType('dashboard').find((d) => d.id === 'zeek-rst-overview');
    if (overview === undefined) throw new Error('no overview');
    const withCid = panelsOf(overview).filter((p) => {
      const ref = overview.references.find((r) => r.name === `${String(p['panelIndex'])}:${String(p['panelRefName'])}`);
      const lens = lensPanels.find((l) => l.id === ref?.id);
      // The only clickable cells are Community IDs: every bucket column is on network.community_id.
      const buckets = lens?.layers.flatMap((l) => [...l.columns.values()].filter((c) => c.kind === 'terms' || c.kind === 'date_histogram' || c.kind === 'range')) ?? [];
      return buckets.length > 0 && buckets.every((c) => c.kind === 'terms' && c.field === 'network.community_id');
    });
    expect(withCid.map((p) => p['panelIndex'])).toEqual(['x9']);
    const events = withCid.flatMap(drilldownEvents);
    const url = events.map((e) => e['action']).filter(isRecord).find((a) => a['factoryId'] === 'URL_DRILLDOWN');
    const template = isRecord(url) && isRecord(url['config']) && isRecord(url['config']['url']) ? String(url['config']['url']['template']) : '';
    const target = urlDrilldownTarget(template);
    // All connections (data view on the conn alias, not only resets): the flow's conns without a RST too.
    expect(target).toEqual({ kind: 'dataView', id: 'zeek-rst-conn', query: 'network.community_id:"{{event.value}}"' });
    expect(parseKql((target?.query ?? '').replace('{{event.value}}', '1:abc+/='))).toEqual([[{ field: 'network.community_id', values: [{ text: '1:abc+/=', quoted: true }] }]]);
    const drill = events.find((e) => isRecord(e['action']) && e['action']['factoryId'] === 'DASHBOARD_TO_DASHBOARD_DRILLDOWN');
    const ref = overview.references.find((r) => r.name === `x9:drilldown:DASHBOARD_TO_DASHBOARD_DRILLDOWN:${String(drill?.['eventId'])}:dashboardId`);
    expect({ triggers: drill?.['triggers'], target: ref?.id }).toEqual({ triggers: ['FILTER_TRIGGER'], target: 'zeek-rst-overview' });
  });

  it('the README shows each dashboard with every one of its panels (by title) and the question it answers', () => {
    const readme = readFileSync(path.resolve(__dirname, '../../README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('\n## Dashboards\n'), readme.indexOf('Details, time fields and the checks'));
    const titles = new Map(objects.map((o) => [`${o.type}/${o.id}`, String(o.attributes['title']).replace(/^zeek-rst: /, '')]));
    for (const d of byType('dashboard')) {
      const heading = `**${String(d.attributes['title'])}** (\`${d.id}\``;
      const at = section.indexOf(heading);
      expect({ dashboard: d.id, listed: at >= 0 }).toEqual({ dashboard: d.id, listed: true });
      const table = section.slice(at).split('\n\n')[1] ?? '';
      const rows = table.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| panel |')).map((l) => l.split(' | ').map((c) => c.replace(/^\| |\s*\|$/g, '')));
      expect(rows.every(([panel, question]) => panel !== undefined && panel !== '' && question !== undefined && question.length > 5)).toBe(true);
      const missing = panelsOf(d)
        .map((p) => d.references.find((r) => r.name === `${String(p['panelIndex'])}:${String(p['panelRefName'])}`))
        .filter((r) => r !== undefined && r.type !== 'visualization') // the links row
        .map((r) => titles.get(`${r?.type ?? ''}/${r?.id ?? ''}`) ?? '')
        .filter((t) => !rows.some(([panel]) => (panel ?? '').toLowerCase().includes(t.toLowerCase())));
      expect({ dashboard: d.id, missing }).toEqual({ dashboard: d.id, missing: [] });
    }
  });

  it('the field checks can fail: a text field, an unknown field and an unsupported KQL form are caught', () => {
    expect(fieldTypes.get('rst.explanation')).toBe('text');
    expect(AGGREGATABLE_TYPES.has(fieldTypes.get('rst.explanation') ?? '')).toBe(false);
    expect(fieldTypes.get('rst.no_such_field')).toBeUndefined();
    expect(() => parseKql('not rst.verdict : "closed_port"')).toThrow(/KQL/);
    expect(() => parseKql('rst.verdict : closed*')).toThrow(/KQL/);
    expect(() => parseKql('(rst.verdict : a or rst.origin : b) and rst.present : true')).toThrow(/KQL/);
    expect(kqlFields(parseKql('rst.verdict : ("a" or b) and rst.origin : middlebox or rst.scan.scanner : true'))).toEqual(['rst.verdict', 'rst.origin', 'rst.scan.scanner']);
  });

  it('covers the four views of docs/dashboards.md with the fields they promise', () => {
    const fieldsOf = (dashboardId: string): Set<string> => {
      const d = byType('dashboard').find((o) => o.id === dashboardId);
      const ids = new Set(d?.references.map((r) => r.id));
      return new Set(lensPanels.filter((p) => ids.has(p.id)).flatMap((p) => panelFields(p).map((f) => f.field)));
    };
    expect([...fieldsOf('zeek-rst-overview')]).toEqual(expect.arrayContaining(['rst.ts', 'rst.verdict', 'rst.phase', 'rst.origin', 'rst.confidence', 'rst.headers.sampled']));
    expect([...fieldsOf('zeek-rst-policy')]).toEqual(expect.arrayContaining(['rst.ts', 'rst.device.name']));
    expect([...fieldsOf('zeek-rst-scans')]).toEqual(expect.arrayContaining(['source.ip', 'destination.port', 'destination.ip', 'rst.verdict', 'rst.scan.probe', 'scan.scanner', 'scan.kind', 'scan.probes']));
    expect([...fieldsOf('zeek-rst-forged')]).toEqual(expect.arrayContaining(['rst.ttl.delta', 'rst.hops.observed', 'rst.hops.expected', 'destination.ip']));
    // The policy view reads the firewall alias; reset panels plot by rst.ts; scan panels read probes (by @timestamp) or summaries.
    const policyIds = new Set(byType('dashboard').find((o) => o.id === 'zeek-rst-policy')?.references.map((r) => r.id));
    const summaryPanels = new Set(['zeek-rst-kpi-scanners', 'zeek-rst-scans-summaries', 'zeek-rst-scans-backscatter']);
    for (const p of lensPanels) {
      const view = p.layers[0]?.dataViewId;
      const expected = summaryPanels.has(p.id) ? 'zeek-rst-scans' : p.id.startsWith('zeek-rst-scans-') ? 'zeek-rst-conn' : policyIds.has(p.id) ? 'zeek-rst-firewall' : 'zeek-rst-resets';
      expect({ id: p.id, view }).toEqual({ id: p.id, view: expected });
      for (const l of p.layers) for (const c of l.columns.values()) if (c.kind === 'date_histogram') expect({ id: p.id, field: c.field }).toEqual({ id: p.id, field: expected === 'zeek-rst-conn' ? '@timestamp' : 'rst.ts' });
    }
  });
});
