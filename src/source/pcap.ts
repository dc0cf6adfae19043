/**
 * Packet headers from a capture: a pcap or pcapng file, or standard input (`-`, e.g. `tcpdump -w -
 * -U` on a pipe, read as it arrives). The bytes go through the pure capture reader and frame
 * decoder (src/decode/capture-file.ts, frame.ts, capture-headers.ts); this module only does the
 * reading and the counting.
 *
 * Two views of the same extraction:
 * - readCapture: every TCP packet's header, the capture error if any, and counts (packets, TCP
 *   packets, skipped by reason) for `zeek-rst headers`' progress and summary;
 * - readPcapHeaders: decoded header records (each named by its packet record) like readHeaderFile, for `classify --pcap`: a corrupt
 *   or cut-off capture ends with one dead letter (`truncated_capture` / `invalid_capture`, the
 *   unreadable bytes as raw) after every header before it.
 */
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';

import type { CaptureError } from '../decode/capture-file';
import { createCaptureReader } from '../decode/capture-file';
import type { HeaderSkipReason } from '../decode/capture-headers';
import { extractHeader } from '../decode/capture-headers';
import { headerRecord, type InputRecord } from '../decode/dispatch';
import type { Decoded, PacketHeader } from '../domain';
import { deadLetter, problem } from '../decode/validate';

export interface CaptureCounts {
  /** Bytes of the capture consumed. */
  bytes: number;
  /** Packet records read. */
  packets: number;
  /** Packets that gave a TCP header. */
  tcp: number;
  /** Packets without one, by reason. */
  readonly skipped: Map<HeaderSkipReason, number>;
}

export function emptyCaptureCounts(): CaptureCounts {
  return { bytes: 0, packets: 0, tcp: 0, skipped: new Map() };
}

export interface CaptureReadOptions {
  readonly teredo?: boolean;
  readonly sensor?: string | null;
  /** Filled as the capture is read. */
  readonly counts?: CaptureCounts;
  /** The bytes of `-` (default: process.stdin). */
  readonly stdin?: Readable;
  /** Stops reading (SIGTERM on a live capture): what was read is kept, a half-received record is dropped. */
  readonly signal?: AbortSignal;
}

export type CaptureItem = { readonly kind: 'header'; readonly header: PacketHeader; readonly record: number } | { readonly kind: 'error'; readonly error: CaptureError };

function open(path: string, options: CaptureReadOptions): Readable {
  if (path === '-') return options.stdin ?? process.stdin;
  return createReadStream(path, { highWaterMark: 1024 * 1024 });
}

/**
 * Every TCP header of the capture at `path` (`-` = standard input), in capture order, then the
 * capture error if the input is corrupt or cut off. A file that cannot be opened rejects with
 * the fs error (the caller turns it into ZRST_FILE_UNREADABLE).
 */
export async function* readCapture(path: string, options: CaptureReadOptions = {}): AsyncGenerator<CaptureItem> {
  const counts = options.counts ?? emptyCaptureCounts();
  const extract = { teredo: options.teredo ?? true, sensor: options.sensor ?? null };
  const reader = createCaptureReader();
  const input = open(path, options);
  const signal = options.signal;
  const onAbort = (): void => {
    input.destroy();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const chunk of input as AsyncIterable<Buffer>) {
      for (const e of reader.push(chunk)) {
        if (e.kind === 'error') {
          counts.bytes = reader.bytesRead;
          yield e;
          return; // the reader ignores what follows; stop reading (a pipe's writer gets EPIPE)
        }
        counts.packets++;
        const x = extractHeader(e.packet, extract);
        if (x.kind === 'skip') {
          counts.skipped.set(x.reason, (counts.skipped.get(x.reason) ?? 0) + 1);
          continue;
        }
        counts.tcp++;
        yield x;
      }
      counts.bytes = reader.bytesRead;
    }
  } catch (err) {
    if (signal?.aborted !== true) throw err; // destroying the stream on abort ends the loop with a premature-close error
    return;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    if (path !== '-') input.destroy();
  }
  if (signal?.aborted === true) return;
  for (const e of reader.end()) if (e.kind === 'error') yield e;
  counts.bytes = reader.bytesRead;
}

/** The capture's headers as Decoded records (classify --pcap); a capture error is the last, a dead letter. */
export async function* readPcapHeaders(path: string, options: CaptureReadOptions = {}): AsyncGenerator<Decoded<InputRecord>> {
  for await (const item of readCapture(path, options)) {
    if (item.kind === 'header') yield headerRecord({ ok: true, value: item.header }, { kind: 'file', path, line: item.record });
    else yield deadLetter(problem(item.error.reason, item.error.detail, 'decode'), item.error.raw, { kind: 'file', path, line: item.error.record });
  }
}
