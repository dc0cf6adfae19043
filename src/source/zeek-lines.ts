/**
 * Zeek log files as Kafka message values for `zeek-rst produce`: one Zeek JSON object per
 * record, as zeek-kafka sends them. JSON lines pass through byte for byte; TSV ("ASCII") logs
 * are converted with their #fields/#types header the way Zeek's JSON writer writes the same
 * record (unset fields left out, numbers as numbers, sets and vectors as arrays). gzip is
 * recognised by its magic bytes.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { unescapeZeek } from '../decode/zeek-tsv';

/** Opens a file, gunzipping it when it starts with 1f 8b. */
export async function openMaybeGzip(path: string): Promise<Readable> {
  const handle = await open(path, 'r');
  const head = Buffer.alloc(2);
  try {
    await handle.read(head, 0, 2, 0);
  } finally {
    await handle.close();
  }
  const stream = createReadStream(path);
  return head[0] === 0x1f && head[1] === 0x8b ? stream.pipe(createGunzip()) : stream;
}

interface TsvHeader {
  separator: string;
  setSeparator: string;
  emptyField: string;
  unsetField: string;
  fields: string[] | undefined;
  types: string[] | undefined;
}

function convertValue(text: string, type: string, h: TsvHeader): unknown {
  const container = /^(set|vector)\[(.+)\]$/.exec(type);
  if (container !== null) {
    if (text === h.emptyField) return [];
    const inner = container[2] ?? 'string';
    return text.split(h.setSeparator).map((t) => convertValue(t, inner, h));
  }
  switch (type) {
    case 'time':
    case 'interval':
    case 'double':
    case 'count':
    case 'int':
    case 'port': {
      const n = Number(text);
      // Canonified values (X's) and anything odd stay strings: decode turns them into dead letters.
      return Number.isFinite(n) && text.trim() !== '' ? n : text;
    }
    case 'bool':
      return text === 'T' ? true : text === 'F' ? false : text;
    default:
      return text === h.emptyField ? '' : unescapeZeek(text);
  }
}

/** Yields one message value per record: JSON lines as they are, TSV rows converted. */
export async function* zeekMessages(path: string): AsyncGenerator<Buffer> {
  const rl = createInterface({ input: await openMaybeGzip(path), crlfDelay: Infinity });
  const h: TsvHeader = { separator: '\t', setSeparator: ',', emptyField: '(empty)', unsetField: '-', fields: undefined, types: undefined };
  for await (const line of rl) {
    if (line.trim() === '') continue;
    if (line.startsWith('{')) {
      yield Buffer.from(line, 'utf8');
      continue;
    }
    if (line.startsWith('#')) {
      if (line.startsWith('#separator ')) h.separator = unescapeZeek(line.slice('#separator '.length));
      const [key, ...values] = line.split(h.separator);
      if (key === '#set_separator') h.setSeparator = unescapeZeek(values[0] ?? ',');
      else if (key === '#empty_field') h.emptyField = values[0] ?? '(empty)';
      else if (key === '#unset_field') h.unsetField = values[0] ?? '-';
      else if (key === '#fields') h.fields = values;
      else if (key === '#types') h.types = values;
      continue;
    }
    if (h.fields === undefined) {
      // Neither JSON nor a TSV row after a header: pass it on; decode dead-letters it (malformed_json).
      yield Buffer.from(line, 'utf8');
      continue;
    }
    const cols = line.split(h.separator);
    const obj: Record<string, unknown> = {};
    h.fields.forEach((name, i) => {
      const text = cols[i];
      if (text === undefined || text === h.unsetField) return;
      obj[name] = convertValue(text, h.types?.[i] ?? 'string', h);
    });
    yield Buffer.from(JSON.stringify(obj), 'utf8');
  }
}
