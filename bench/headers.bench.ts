/**
 * Avro packet-header decoding (bytes -> validated PacketHeader), single-object messages and
 * batched messages (100 consecutive single-object records in one message), beside avsc's own
 * decoding of the same bytes (the ceiling: `Type.fromBuffer` of each body; for a batch, avsc's
 * `Type.decode` walking the records), and the header path of `run`: batched decode + correlate
 * (`header_rps`). Input: bench/inputs.ts (~10 headers per m57 TCP conn, Community ID set).
 * A batch is decoded by decodeHeaderMessage, which finds the record boundaries itself, as in `run`.
 */
import type * as Correlator from '../src/correlate/correlator';
import type * as CorrelateSettings from '../src/correlate/settings';
import type * as HeaderMessage from '../src/decode/header-message';
import type * as PacketHeaderModule from '../src/decode/packet-header';
import type { PacketHeader } from '../src/domain';
import { fromDist } from './dist';
import { defineBench } from './index';
import { benchSource, headerCount, tcpFlows } from './inputs';

const { createHeaderCodec } = fromDist('decode/packet-header') as typeof PacketHeaderModule;
const { decodeHeaderMessage } = fromDist('decode/header-message') as typeof HeaderMessage;
const { createCorrelator, createRecordClock } = fromDist('correlate/correlator') as typeof Correlator;
const { DEFAULT_CORRELATE_SETTINGS } = fromDist('correlate/settings') as typeof CorrelateSettings;

const PER_MESSAGE = 100;
const PREFIX_BYTES = 10; // C3 01 + 8-byte fingerprint
const codec = createHeaderCodec();
const headers: PacketHeader[] = tcpFlows.flatMap((f) => [...f.headers]).sort((a, b) => a.tsUs - b.tsUs);
const messages: Buffer[] = headers.map((h) => codec.encodeSingleObject(h));

/** Messages of PER_MESSAGE single-object records back to back, as a batching sensor sends them. */
const batches: Buffer[] = [];
for (let i = 0; i < messages.length; i += PER_MESSAGE) batches.push(Buffer.concat(messages.slice(i, i + PER_MESSAGE)));

function single(): number {
  let ok = 0;
  for (const m of messages) if (codec.decode(m, benchSource).ok) ok++;
  if (ok !== messages.length) throw new Error('bench headers do not decode');
  return ok;
}

function avscSingle(): number {
  let n = 0;
  for (const m of messages) if (codec.type.fromBuffer(m.subarray(PREFIX_BYTES)) !== null) n++;
  return n;
}

function avscBatched(): number {
  let n = 0;
  for (const b of batches) {
    let pos = 0;
    while (pos < b.length) {
      const r = codec.type.decode(b, pos + PREFIX_BYTES);
      if (r.value !== null) n++;
      pos = r.offset;
    }
  }
  return n;
}

/** Each batch through decodeHeaderMessage, as `run` decodes a message of the headers topic. */
function batched(each?: (h: PacketHeader) => void): number {
  let ok = 0;
  for (const b of batches) {
    for (const d of decodeHeaderMessage(b, benchSource, codec)) {
      if (!d.ok) throw new Error(`bench header does not decode: ${d.dead.detail}`);
      ok++;
      each?.(d.value);
    }
  }
  return ok;
}

function batchedCorrelated(): number {
  const clock = createRecordClock();
  const correlator = createCorrelator(DEFAULT_CORRELATE_SETTINGS, clock);
  let n = 0;
  return batched((h) => {
    clock.observe(h.tsUs);
    correlator.addHeader(h);
    if (++n % 1000 === 0) correlator.tick();
  });
}

export default defineBench({
  name: `headers: Avro packet headers (${headerCount} records; batches of ${PER_MESSAGE})`,
  unit: 'header records',
  baseline: 'avsc fromBuffer, one per message (ceiling)',
  cases: [
    { name: 'avsc fromBuffer, one per message (ceiling)', items: messages.length, run: avscSingle },
    { name: 'decode single-object', items: messages.length, run: single, report: { rps: 'header_single_rps' } },
    { name: 'avsc decode, batched (ceiling)', items: messages.length, run: avscBatched },
    { name: 'decode batched', items: messages.length, run: () => batched() },
    { name: 'decode batched + correlate', items: messages.length, run: batchedCorrelated, report: { rps: 'header_rps', ratio: 'header_ratio' } },
  ],
});
