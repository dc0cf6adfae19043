/**
 * Static checks of the Kibana saved objects in dashboards/ (docs/dashboards.md): the NDJSON is what
 * Kibana's import API takes, every reference resolves inside the file, every panel parses, and
 * every field a panel reads exists in the index template with a type Kibana can aggregate.
 * The queries themselves run on the real Elasticsearch in test/integration/dashboards.test.ts.
 */
import path from 'node:path';
import { VERDICTS } from '../../src/domain';
import { CONN_MAPPING, indexNames } from '../../src/sink/templates';
import {
  AGGREGATABLE_TYPES,
  columnField,
  isRecord,
  kqlFields,
  lensDataTypeOf,
  mappingFieldTypes,
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
const names = indexNames('zeek-rst');

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
function panelFields(p: LensPanel): { field: string; where: string; dataType?: string }[] {
  const fromColumns = p.layers.flatMap((l) =>
    [...l.columns.entries()].flatMap(([id, c]) => {
      const field = columnField(c);
      return field === undefined ? [] : [{ field, where: `${p.id} column ${id}`, ...(c.kind === 'terms' ? { dataType: c.dataType } : {}) }];
    }),
  );
  const fromQuery = kqlFields(parseKql(p.query)).map((field) => ({ field, where: `${p.id} query` }));
  return [...fromColumns, ...fromQuery];
}

describe('dashboards/zeek-rst.ndjson', () => {
  it('holds data views, Lens visualizations and four dashboards with unique ids per type', () => {
    expect(byType('index-pattern').length).toBe(2);
    expect(byType('dashboard').map((d) => d.id).sort()).toEqual(['zeek-rst-forged', 'zeek-rst-overview', 'zeek-rst-policy', 'zeek-rst-scans']);
    expect(lensPanels.length).toBeGreaterThanOrEqual(12);
    const keys = objects.map((o) => `${o.type}/${o.id}`);
    expect(new Set(keys).size).toBe(keys.length);
    const unknownTypes = objects.filter((o) => !['index-pattern', 'lens', 'dashboard'].includes(o.type));
    expect(unknownTypes).toEqual([]);
  });

  it('sets 8.x migration versions that Kibana 8.8+ accepts on import (coreMigrationVersion 8.8.0; type versions no later than the type has)', () => {
    // typeMigrationVersion must not exceed the latest migration Kibana knows for the type, or the
    // import is refused: index-pattern 8.0.0, lens 8.6.0 (the formBased datasource), dashboard 8.7.0.
    const expected: Record<string, string> = { 'index-pattern': '8.0.0', lens: '8.6.0', dashboard: '8.7.0' };
    for (const o of objects) {
      expect({ id: o.id, core: o.coreMigrationVersion, type: o.typeMigrationVersion }).toEqual({ id: o.id, core: '8.8.0', type: expected[o.type] });
    }
  });

  it('data views point at the conn alias and the per-firewall alias of the template, with @timestamp as time field', () => {
    const views = new Map(byType('index-pattern').map((o) => [o.id, o.attributes]));
    expect(views.get('zeek-rst-conn')?.['title']).toBe(names.connAlias);
    expect(views.get('zeek-rst-firewall')?.['title']).toBe(names.firewallAlias);
    for (const attrs of views.values()) {
      expect(attrs['timeFieldName']).toBe('@timestamp');
      expect(fieldTypes.get('@timestamp')).toBe('date');
    }
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
      const indices = panels.map((p) => p['panelIndex']);
      expect(new Set(indices).size).toBe(panels.length);
      for (const p of panels) {
        const ref = d.references.find((r) => r.name === `${String(p['panelIndex'])}:${String(p['panelRefName'])}`);
        expect({ panel: p['panelIndex'], type: ref?.type }).toEqual({ panel: p['panelIndex'], type: p['type'] });
        const grid = p['gridData'];
        expect(isRecord(grid) && grid['i'] === p['panelIndex']).toBe(true);
        if (ref !== undefined) onDashboards.add(ref.id);
      }
      expect(d.references.length).toBe(panels.length);
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
      for (const { field, where, dataType } of panelFields(p)) {
        const type = fieldTypes.get(field);
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
            if (clause.field === 'rst.verdict' && !(VERDICTS as readonly string[]).includes(v.text)) problems.push(`${p.id}: unknown verdict ${v.text}`);
            if (fieldTypes.get(clause.field) === 'boolean' && !['true', 'false'].includes(v.text)) problems.push(`${p.id}: ${clause.field} : ${v.text}`);
          }
        }
      }
    }
    expect(problems).toEqual([]);
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
    expect([...fieldsOf('zeek-rst-overview')]).toEqual(expect.arrayContaining(['@timestamp', 'rst.verdict', 'rst.phase', 'rst.origin']));
    expect([...fieldsOf('zeek-rst-policy')]).toEqual(expect.arrayContaining(['@timestamp', 'rst.device.name']));
    expect([...fieldsOf('zeek-rst-scans')]).toEqual(expect.arrayContaining(['source.ip', 'destination.port', 'destination.ip', 'rst.verdict', 'rst.scan.scanner']));
    expect([...fieldsOf('zeek-rst-forged')]).toEqual(expect.arrayContaining(['rst.ttl.delta', 'rst.hops.observed', 'rst.hops.expected', 'destination.ip']));
    // The policy view reads the firewall alias; the others the conn alias.
    const policyIds = new Set(byType('dashboard').find((o) => o.id === 'zeek-rst-policy')?.references.map((r) => r.id));
    for (const p of lensPanels) expect({ id: p.id, view: p.layers[0]?.dataViewId }).toEqual({ id: p.id, view: policyIds.has(p.id) ? 'zeek-rst-firewall' : 'zeek-rst-conn' });
  });
});
