/**
 * The header codec a deployment needs: the reader schema, plus the writer schemas its sensors use
 * where they differ from it: Confluent ones by id (`decode.confluentSchemas`, id=path) and
 * single-object ones by fingerprint (`decode.writerSchemas`, paths). Reading those files is I/O, so
 * it lives here and not in decode; `run` and `classify` both build their codec with it.
 */
import { readFile } from 'node:fs/promises';
import { createHeaderCodec, type HeaderCodec } from '../decode/packet-header';
import { ZeekRstError } from '../errors';
import type { Config } from './schema';

/** A schema file's parsed JSON; one that cannot be read or parsed is ZRST_SCHEMA_INVALID, naming the option. */
async function readSchema(option: string, file: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(file, 'utf8'));
  } catch (err: unknown) {
    throw new ZeekRstError('ZRST_SCHEMA_INVALID', `${option}: ${file}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

/**
 * Throws ZRST_SCHEMA_INVALID when a file cannot be read, is not Avro, or cannot be resolved to the
 * reader schema: a sensor's schema is configuration, refused at start rather than at its first record.
 */
export async function loadHeaderCodec(decode: Pick<Config['decode'], 'confluentSchemas' | 'writerSchemas'>): Promise<HeaderCodec> {
  const registry: Record<number, unknown> = {};
  for (const entry of decode.confluentSchemas) {
    const eq = entry.indexOf('=');
    registry[Number(entry.slice(0, eq))] = await readSchema('decode.confluentSchemas', entry.slice(eq + 1));
  }
  const writerSchemas: Record<string, unknown> = {};
  for (const file of decode.writerSchemas) writerSchemas[file] = await readSchema('decode.writerSchemas', file);
  return createHeaderCodec({ registry, writerSchemas });
}
