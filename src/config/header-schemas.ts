/**
 * The header codec a deployment needs: the reader schema plus the Confluent writer schemas named
 * in `decode.confluentSchemas` (id=path). Reading those files is I/O, so it lives here and not in
 * decode; `run` and `classify` both build their codec with it.
 */
import { readFile } from 'node:fs/promises';
import { createHeaderCodec, type HeaderCodec } from '../decode/packet-header';
import { ZeekRstError } from '../errors';

export async function loadHeaderCodec(confluentSchemas: readonly string[]): Promise<HeaderCodec> {
  const registry: Record<number, unknown> = {};
  for (const entry of confluentSchemas) {
    const eq = entry.indexOf('=');
    const id = Number(entry.slice(0, eq));
    const file = entry.slice(eq + 1);
    try {
      registry[id] = JSON.parse(await readFile(file, 'utf8'));
    } catch (err: unknown) {
      throw new ZeekRstError('ZRST_SCHEMA_INVALID', `decode.confluentSchemas: ${file}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  }
  return createHeaderCodec({ registry });
}
