/**
 * Reads the configuration: defaults from CONFIG_SCHEMA, then the YAML file (`--config FILE`),
 * then `ZEEK_RST_*` environment variables; secret files are read last. Every problem is
 * collected and reported at once as ZRST_CONFIG_INVALID, each naming the field and the fix.
 */
import { readFileSync, statSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { ZeekRstError } from '../errors';
import { parseCidr } from '../classify/ip';
import { CONFIG_SCHEMA, isField, isGroup, type Config, type Field } from './schema';

/** Where values come from; injectable so that tests need no files or process environment. */
export interface ConfigInputs {
  /** The YAML document, already parsed (unknown: narrowed here). Undefined = no file. */
  readonly yaml?: unknown;
  /** Name of the YAML file, for messages. */
  readonly yamlName?: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Reads a secret file; the trailing newline is removed by the caller. */
  readonly readSecretFile: (path: string) => string;
}

export type ConfigResult = { readonly ok: true; readonly config: Config } | { readonly ok: false; readonly problems: readonly string[] };

type Parsed = { ok: true; value: unknown } | { ok: false; problem: string };

function parseEnv(field: Field<unknown>, raw: string): Parsed {
  const kind = field.kind;
  switch (kind.type) {
    case 'string':
    case 'optionalString':
    case 'enum':
    case 'optionalEnum':
      return parseValue(field, raw);
    case 'int': {
      if (!/^-?\d+$/.test(raw.trim())) return { ok: false, problem: `expected an integer, got '${raw}'` };
      return parseValue(field, Number(raw.trim()));
    }
    case 'bool': {
      const v = raw.trim().toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(v)) return { ok: true, value: true };
      if (['false', '0', 'no', 'off'].includes(v)) return { ok: true, value: false };
      return { ok: false, problem: `expected true or false, got '${raw}'` };
    }
    case 'stringList':
      return parseValue(
        field,
        raw.split(',').map((s) => s.trim()).filter((s) => s !== ''),
      );
    case 'portIntMap': {
      const map: Record<string, number> = {};
      for (const pair of raw.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
        const m = /^(\d+)\s*=\s*(-?\d+)$/.exec(pair);
        if (m === null) return { ok: false, problem: `expected port=value pairs separated by commas, got '${raw}'` };
        map[m[1] ?? ''] = Number(m[2]);
      }
      return parseValue(field, map);
    }
    default: {
      const never: never = kind;
      return never;
    }
  }
}

function parseValue(field: Field<unknown>, raw: unknown): Parsed {
  const kind = field.kind;
  switch (kind.type) {
    case 'string':
      if (typeof raw !== 'string') return { ok: false, problem: `expected a string, got ${describe(raw)}` };
      if (kind.nonEmpty === true && raw.trim() === '') return { ok: false, problem: 'must not be empty' };
      return { ok: true, value: raw };
    case 'optionalString':
      if (raw === null || raw === undefined) return { ok: true, value: undefined };
      if (typeof raw !== 'string' || raw === '') return { ok: false, problem: `expected a non-empty string, got ${describe(raw)}` };
      return { ok: true, value: raw };
    case 'int':
      if (typeof raw !== 'number' || !Number.isInteger(raw)) return { ok: false, problem: `expected an integer, got ${describe(raw)}` };
      if (raw < kind.min || raw > kind.max) return { ok: false, problem: `must be between ${kind.min} and ${kind.max}${field.unit === undefined ? '' : ` ${field.unit}`}, got ${raw}` };
      return { ok: true, value: raw };
    case 'bool':
      if (typeof raw !== 'boolean') return { ok: false, problem: `expected true or false, got ${describe(raw)}` };
      return { ok: true, value: raw };
    case 'stringList': {
      const items: unknown[] = Array.isArray(raw) ? raw : [raw];
      const strings = items.filter((s): s is string => typeof s === 'string' && s.trim() !== '');
      if (strings.length !== items.length) return { ok: false, problem: `expected a list of non-empty strings, got ${describe(raw)}` };
      if (strings.length < kind.minItems) return { ok: false, problem: `needs at least ${kind.minItems} entr${kind.minItems === 1 ? 'y' : 'ies'}` };
      return { ok: true, value: Object.freeze(strings) };
    }
    case 'enum':
    case 'optionalEnum':
      if (kind.type === 'optionalEnum' && (raw === null || raw === undefined)) return { ok: true, value: undefined };
      if (typeof raw !== 'string' || !kind.values.includes(raw)) return { ok: false, problem: `expected one of ${kind.values.join(', ')}, got ${describe(raw)}` };
      return { ok: true, value: raw };
    case 'portIntMap': {
      if (raw === null || raw === undefined) return { ok: true, value: Object.freeze({}) };
      if (typeof raw !== 'object' || Array.isArray(raw)) return { ok: false, problem: `expected a mapping of port to value, got ${describe(raw)}` };
      const out: Record<number, number> = {};
      for (const [key, value] of Object.entries(raw)) {
        const port = Number(key);
        if (!/^\d+$/.test(key) || port > 65535) return { ok: false, problem: `key '${key}' is not a port (0-65535)` };
        if (typeof value !== 'number' || !Number.isInteger(value) || value < kind.min || value > kind.max) {
          return { ok: false, problem: `port ${key}: must be an integer between ${kind.min} and ${kind.max}${field.unit === undefined ? '' : ` ${field.unit}`}, got ${describe(value)}` };
        }
        out[port] = value;
      }
      return { ok: true, value: Object.freeze(out) };
    }
    default: {
      const never: never = kind;
      return never;
    }
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return `'${v}'`;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return `${typeof v} ${String(v)}`;
  return typeof v;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Walks the schema and the YAML together; builds a frozen object of field values. */
function resolveNode(schema: Readonly<Record<string, unknown>>, yaml: unknown, path: string, inputs: ConfigInputs, problems: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const where = inputs.yamlName ?? 'the config file';
  let given: Record<string, unknown> = {};
  if (yaml !== undefined && yaml !== null) {
    if (isPlainObject(yaml)) given = yaml;
    else problems.push(`${path === '' ? 'the top level' : path}: expected a mapping in ${where}, got ${describe(yaml)}`);
  }
  const known = new Set(Object.keys(schema));
  for (const key of Object.keys(given)) {
    if (!known.has(key)) {
      const full = path === '' ? key : `${path}.${key}`;
      problems.push(`${full}: unknown key in ${where}; known keys here: ${[...known].join(', ')}`);
    }
  }
  for (const [key, node] of Object.entries(schema)) {
    const full = path === '' ? key : `${path}.${key}`;
    if (isField(node)) {
      let value: unknown = node.default;
      if (key in given) {
        const r = parseValue(node, given[key]);
        if (r.ok) value = r.value;
        else problems.push(`${full}: ${r.problem} (in ${where}; ${node.doc})`);
      }
      const envRaw = inputs.env[node.env];
      if (envRaw !== undefined && envRaw !== '') {
        const r = parseEnv(node, envRaw);
        if (r.ok) value = r.value;
        else problems.push(`${full}: ${r.problem} (from ${node.env}; ${node.doc})`);
      }
      out[key] = value;
    } else if (isGroup(node)) {
      out[key] = resolveNode(node, given[key], full, inputs, problems);
    }
  }
  return Object.freeze(out);
}

/** Narrows the resolved tree: every leaf was produced by its field's parser, so the shape is the schema's. */
function isConfigShape(v: Record<string, unknown>): v is Record<string, unknown> & Config {
  return Object.keys(CONFIG_SCHEMA).every((k) => isPlainObject(v[k]));
}

type SecretPair = readonly [valueKey: string, fileKey: string];
const SECRET_FILES: Readonly<Record<'kafka' | 'elasticsearch', readonly SecretPair[]>> = {
  kafka: [['saslPassword', 'saslPasswordFile']],
  elasticsearch: [
    ['apiKey', 'apiKeyFile'],
    ['password', 'passwordFile'],
  ],
};

/** Reads `...File` secrets into their value fields; both set is an error (which one wins would surprise someone). */
function resolveSecrets(tree: Record<string, unknown>, inputs: ConfigInputs, problems: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = { ...tree };
  for (const group of ['kafka', 'elasticsearch'] as const) {
    const node = tree[group];
    if (!isPlainObject(node)) continue;
    const copy: Record<string, unknown> = { ...node };
    for (const [valueKey, fileKey] of SECRET_FILES[group]) {
      const file = node[fileKey];
      if (typeof file !== 'string') continue;
      if (node[valueKey] !== undefined) {
        problems.push(`${group}.${valueKey} and ${group}.${fileKey} are both set: keep one of them`);
        continue;
      }
      try {
        copy[valueKey] = inputs.readSecretFile(file).replace(/\r?\n$/, '');
      } catch (err: unknown) {
        const code = isPlainObject(err) && typeof err['code'] === 'string' ? err['code'] : 'unreadable';
        problems.push(`${group}.${fileKey}: cannot read '${file}' (${code}); fix the path or its permissions`);
      }
    }
    out[group] = Object.freeze(copy);
  }
  return Object.freeze(out);
}

/** Rules that involve several fields. */
function crossCheck(c: Config, problems: string[]): void {
  for (const b of c.kafka.brokers) {
    if (!/^[^\s:/]+:\d{1,5}$/.test(b) && !/^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(b)) problems.push(`kafka.brokers: '${b}' is not host:port (e.g. 127.0.0.1:9092)`);
  }
  if (c.kafka.saslMechanism !== undefined && (c.kafka.saslUsername === undefined || c.kafka.saslPassword === undefined)) {
    problems.push('kafka.saslMechanism is set: also set kafka.saslUsername and kafka.saslPassword (or ZEEK_RST_KAFKA_SASL_PASSWORD_FILE)');
  }
  if (c.kafka.saslMechanism === undefined && c.kafka.saslUsername !== undefined) {
    problems.push('kafka.saslUsername is set without kafka.saslMechanism: set it to plain, scram-sha-256 or scram-sha-512');
  }
  if ((c.kafka.certFile === undefined) !== (c.kafka.keyFile === undefined)) {
    problems.push('kafka.certFile and kafka.keyFile go together: set both for mutual TLS, or neither');
  }
  let url: URL | undefined;
  try {
    url = new URL(c.elasticsearch.node);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    problems.push(`elasticsearch.node: '${c.elasticsearch.node}' is not an http(s) URL (e.g. http://127.0.0.1:9200)`);
  } else if (url.username !== '' || url.password !== '') {
    problems.push('elasticsearch.node: put credentials in elasticsearch.username/password (or the environment), not in the URL');
  }
  if (c.elasticsearch.apiKey !== undefined && (c.elasticsearch.username !== undefined || c.elasticsearch.password !== undefined)) {
    problems.push('elasticsearch: both an API key and basic auth are set: keep one of them');
  }
  if ((c.elasticsearch.username === undefined) !== (c.elasticsearch.password === undefined)) {
    problems.push('elasticsearch.username and elasticsearch.password go together: set both (password may come from ZEEK_RST_ES_PASSWORD or passwordFile)');
  }
  if (!/^[a-z0-9][a-z0-9_.-]*$/.test(c.elasticsearch.indexPrefix)) {
    problems.push(`elasticsearch.indexPrefix: '${c.elasticsearch.indexPrefix}' is not a valid index name prefix (lower case letters, digits, - _ .)`);
  }
  if (c.sink.retryInitialMs > c.sink.retryMaxMs) problems.push('sink.retryInitialMs must not exceed sink.retryMaxMs');
  if (c.sink.bulkMaxDocs > c.sink.maxPendingDocs) problems.push('sink.bulkMaxDocs must not exceed sink.maxPendingDocs (a full bulk request would never fit)');
  if (c.correlate.graceMs >= c.correlate.lateWindowMs) problems.push('correlate.graceMs must be shorter than correlate.lateWindowMs (late evidence is evidence arriving after the grace)');
  for (const entry of c.decode.confluentSchemas) {
    if (!/^\d+=.+$/.test(entry)) problems.push(`decode.confluentSchemas: '${entry}' is not id=path (e.g. 7=schemas/packet_header.avsc)`);
  }
  for (const net of c.network.localNetworks) {
    if (parseCidr(net) === undefined) problems.push(`network.localNetworks: '${net}' is not a CIDR (e.g. 10.0.0.0/8 or 2001:db8::/32)`);
  }
  const topics = [c.topics.conn, c.topics.weird, c.topics.headers];
  if (topics.includes(c.topics.deadLetter)) problems.push('topics.deadLetter must differ from the input topics, or dead letters would be read back as input');
}

/** Pure: defaults + YAML + environment + secret files -> a frozen Config or the list of problems. */
export function resolveConfig(inputs: ConfigInputs): ConfigResult {
  const problems: string[] = [];
  const tree = resolveSecrets(resolveNode(CONFIG_SCHEMA, inputs.yaml, '', inputs, problems), inputs, problems);
  if (problems.length > 0 || !isConfigShape(tree)) return { ok: false, problems };
  crossCheck(tree, problems);
  return problems.length > 0 ? { ok: false, problems } : { ok: true, config: tree };
}

/** A warning about the configuration (a secret file others can read); the default prints it on stderr. */
export type ConfigWarn = (message: string) => void;

const warnOnStderr: ConfigWarn = (message) => {
  process.stderr.write(`zeek-rst: warning: ${message}\n`);
};

/**
 * Files holding secrets should be readable by their owner only. Looser permissions are a warning,
 * not an error: a Kubernetes secret volume or a container may mount them 0644 on purpose.
 */
export function checkSecretFileMode(file: string, setting: string, warn: ConfigWarn, stat: (p: string) => { mode: number } = statSync): void {
  let mode: number;
  try {
    mode = stat(file).mode;
  } catch {
    return; // unreadable: the read itself reports it
  }
  if ((mode & 0o077) !== 0) {
    warn(`${setting}: ${file} is readable or writable by group or others (mode ${(mode & 0o777).toString(8).padStart(4, '0')}); make it 0600 (chmod 600)`);
  }
}

/** Settings that name a file whose content is a secret. */
const SECRET_FILE_SETTINGS: readonly (readonly [group: 'kafka' | 'elasticsearch', key: string])[] = [
  ['kafka', 'saslPasswordFile'],
  ['kafka', 'keyFile'],
  ['elasticsearch', 'apiKeyFile'],
  ['elasticsearch', 'passwordFile'],
];

/** Reads the YAML file (if any) and the process environment; throws ZRST_CONFIG_INVALID listing every problem. */
export function loadConfig(file: string | undefined, env: Readonly<Record<string, string | undefined>> = process.env, warn: ConfigWarn = warnOnStderr): Config {
  let yaml: unknown;
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err: unknown) {
      throw new ZeekRstError('ZRST_CONFIG_INVALID', `cannot read ${file}`, { cause: err });
    }
    try {
      yaml = parseYaml(text);
    } catch (err: unknown) {
      throw new ZeekRstError('ZRST_CONFIG_INVALID', `${file} is not valid YAML: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const result = resolveConfig({
    yaml,
    ...(file === undefined ? {} : { yamlName: file }),
    env,
    readSecretFile: (p) => readFileSync(p, 'utf8'),
  });
  if (!result.ok) throw new ZeekRstError('ZRST_CONFIG_INVALID', `\n  - ${result.problems.join('\n  - ')}`);
  for (const [group, key] of SECRET_FILE_SETTINGS) {
    const node: Readonly<Record<string, unknown>> = result.config[group];
    const path = node[key];
    if (typeof path === 'string') checkSecretFileMode(path, `${group}.${key}`, warn);
  }
  return result.config;
}
