import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';

import type { InputRecord } from '../decode/dispatch';
import type { Decoded } from '../domain';
import { emptyCaptureCounts, readCapture, readPcapHeaders, type CaptureItem } from './pcap';

const TRACE = path.resolve(__dirname, '../../test/fixtures/corpus/pop3-rej/pop3.pcap');

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** Standard input as a pipe delivers it: arbitrary pieces, with pauses. */
function pipeOf(bytes: Buffer, piece: number): PassThrough {
  const p = new PassThrough();
  let i = 0;
  const next = (): void => {
    if (i >= bytes.length) {
      p.end();
      return;
    }
    p.write(bytes.subarray(i, i + piece));
    i += piece;
    setImmediate(next);
  };
  next();
  return p;
}

describe('capture source', () => {
  it('standard input in small pieces gives the same headers as the file, with counts', async () => {
    const bytes = readFileSync(TRACE);
    const fileCounts = emptyCaptureCounts();
    const fromFile = await collect(readCapture(TRACE, { counts: fileCounts }));
    const pipeCounts = emptyCaptureCounts();
    const fromPipe = await collect(readCapture('-', { stdin: pipeOf(bytes, 997), counts: pipeCounts }));
    expect(fromPipe).toEqual(fromFile);
    // pop3.pcap: 125 TCP packets (its headers.jsonl), the rest of its records are not TCP.
    expect(fileCounts.tcp).toBe(125);
    expect(pipeCounts).toEqual(fileCounts);
    expect(fileCounts.bytes).toBe(bytes.length);
    expect(fromFile[0]?.kind === 'header' && fromFile[0].record).toBe(1);
  });

  it('readPcapHeaders: a cut-off capture ends with one dead letter holding the unread bytes', async () => {
    const bytes = readFileSync(TRACE);
    const cut = bytes.subarray(0, 3000);
    const out: Decoded<InputRecord>[] = await collect(readPcapHeaders('-', { stdin: pipeOf(cut, 512) }));
    const last = out[out.length - 1];
    expect(out.slice(0, -1).every((d) => d.ok)).toBe(true);
    expect(last?.ok).toBe(false);
    if (last?.ok !== false) return;
    expect(last.dead.reason).toBe('truncated_capture');
    expect(last.dead.detail).toMatch(/^byte \d+, record \d+: the input ends inside a record/);
    const offset = Number(/^byte (\d+)/.exec(last.dead.detail)?.[1]);
    expect(Buffer.from(last.dead.raw)).toEqual(cut.subarray(offset));
  });

  it('an abort stops a live read and keeps what came before', async () => {
    const bytes = readFileSync(TRACE);
    const stdin = new PassThrough();
    stdin.write(bytes.subarray(0, 4000)); // the pipe stays open: a live capture
    const stop = new AbortController();
    const got: CaptureItem[] = [];
    for await (const x of readCapture('-', { stdin, signal: stop.signal })) {
      got.push(x);
      if (got.length === 3) stop.abort();
    }
    expect(got.length).toBeGreaterThanOrEqual(3);
    expect(got.every((x) => x.kind === 'header')).toBe(true);
  });
});
