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
import { applyTsvHeaderLine, createTsvHeader, tsvRowFields } from '../decode/zeek-tsv';
import { isProblem } from '../decode/validate';

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

/** Yields one message value per record: JSON lines as they are, TSV rows converted. */
export async function* zeekMessages(path: string): AsyncGenerator<Buffer> {
  const rl = createInterface({ input: await openMaybeGzip(path), crlfDelay: Infinity });
  const h = createTsvHeader();
  for await (const line of rl) {
    if (line.trim() === '') continue;
    if (line.startsWith('{')) {
      yield Buffer.from(line, 'utf8');
      continue;
    }
    if (line.startsWith('#')) {
      applyTsvHeaderLine(h, line);
      continue;
    }
    const fields = tsvRowFields(h, line);
    // A line that is neither JSON nor a well-formed TSV row goes out as it is: the pipeline's
    // decode dead-letters it with the original bytes.
    yield Buffer.from(isProblem(fields) ? line : JSON.stringify(Object.fromEntries(fields)), 'utf8');
  }
}
