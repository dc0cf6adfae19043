/**
 * Conn decoding (Zeek JSON -> ConnRecord, validation included) beside its ceiling, a bare
 * JSON.parse of the same bytes. Input: bench/inputs.ts (10,820 m57 lines). The figure that counts
 * (`decode_ratio`) is the decode that computes the Community ID, as it must when Zeek's
 * community-id policy script is not loaded, against JSON.parse of those same lines.
 */
import type * as ZeekJson from '../src/decode/zeek-json';
import { fromDist } from './dist';
import { defineBench } from './index';
import { benchSource, connLines, connLinesNoCid } from './inputs';

const { decodeConnJson } = fromDist('decode/zeek-json') as typeof ZeekJson;

function parseAll(input: readonly Buffer[]): number {
  let n = 0;
  for (const line of input) if (JSON.parse(line.toString('utf8')) !== null) n++;
  return n;
}

function decodeAll(input: readonly Buffer[]): number {
  let ok = 0;
  for (const line of input) if (decodeConnJson(line, benchSource).ok) ok++;
  if (ok !== input.length) throw new Error(`bench input failed to decode: ${input.length - ok} dead letters`);
  return ok;
}

export default defineBench({
  name: `decode: Zeek JSON conn (m57, ${connLines.length} lines)`,
  unit: 'records',
  baseline: 'JSON.parse, no community_id (ceiling)',
  cases: [
    { name: 'JSON.parse, no community_id (ceiling)', items: connLinesNoCid.length, run: () => parseAll(connLinesNoCid) },
    { name: 'decodeConnJson + Community ID', items: connLinesNoCid.length, run: () => decodeAll(connLinesNoCid), report: { rps: 'decode_rps', ratio: 'decode_ratio' } },
    { name: 'JSON.parse, community_id given', items: connLines.length, run: () => parseAll(connLines) },
    { name: 'decodeConnJson, community_id given', items: connLines.length, run: () => decodeAll(connLines) },
  ],
});
