/**
 * Test support for the classification corpus tests: reads a case folder of the corpus copy (test/fixtures/corpus)
 * (or a crafted fixture) with the real decoders and runs it through the real pipeline.
 */
import { readFileSync, readdirSync, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { TCP_FLAGS, type ConnRecord, type PacketHeader, type WeirdRecord } from '../../src/domain';
import { decodeConnJson, decodeWeirdJson } from '../../src/decode/zeek-json';
import { decodeHeaderJson } from '../../src/decode/packet-header';
import { createRecordClock } from '../../src/correlate/correlator';
import { createClassifyPipeline, DEFAULT_PIPELINE_SETTINGS, type OutputDoc, type PipelineSettings } from '../../src/pipeline';
import { parseDevicesYaml } from '../../src/config/devices';

export const CORPUS = path.resolve(__dirname, '../fixtures/corpus');
export const CRAFTED = path.resolve(__dirname, '../fixtures/classify/crafted');
/** Real captures of tampered connections with modelled conn records (test/fixtures/corpus-tampering/README.md). */
export const TAMPERING = path.resolve(__dirname, '../fixtures/corpus-tampering');
/** Hand-written tampering cases in the same layout (test/fixtures/tampering-synthetic/README.md). */
export const TAMPERING_SYNTHETIC = path.resolve(__dirname, '../fixtures/tampering-synthetic');

export interface CaseInput {
  readonly conns: readonly ConnRecord[];
  readonly weirds: readonly WeirdRecord[];
  readonly headers: readonly PacketHeader[];
}

function lines(file: string): string[] {
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '');
}

function decodeAll<T>(file: string, texts: readonly string[], decode: (raw: Uint8Array, line: number) => { ok: true; value: T } | { ok: false; dead: { detail: string } }): T[] {
  return texts.map((t, i) => {
    const d = decode(Buffer.from(t), i + 1);
    if (!d.ok) throw new Error(`${file}:${i + 1}: ${d.dead.detail}`);
    return d.value;
  });
}

export function decodeConns(file: string, texts: readonly string[], allowCanonified = false): ConnRecord[] {
  return decodeAll(file, texts, (raw, line) => decodeConnJson(raw, { kind: 'file', path: file, line }, { allowCanonified }));
}
export function decodeWeirds(file: string, texts: readonly string[]): WeirdRecord[] {
  return decodeAll(file, texts, (raw, line) => decodeWeirdJson(raw, { kind: 'file', path: file, line }, {}));
}
export function decodeHeaders(file: string, texts: readonly string[]): PacketHeader[] {
  return decodeAll(file, texts, (raw, line) => decodeHeaderJson(raw, { kind: 'file', path: file, line }));
}

/** conn.json (or conn.redacted.json), weird.json and every *.headers.jsonl of a corpus case. */
/** The case folders under a fixture root (CORPUS, TAMPERING, TAMPERING_SYNTHETIC). */
export function caseDirs(root: string): string[] {
  return readdirSync(root).filter((d) => statSync(path.join(root, d)).isDirectory());
}

export function loadCase(caseName: string, withHeaders: boolean, root: string = CORPUS): CaseInput {
  const dir = path.join(root, caseName);
  const files = readdirSync(dir);
  const connFile = files.find((f) => f === 'conn.json') ?? files.find((f) => f === 'conn.redacted.json');
  const conns = connFile === undefined ? [] : decodeConns(path.join(dir, connFile), lines(path.join(dir, connFile)), connFile.includes('redacted'));
  const weirdFile = path.join(dir, 'weird.json');
  const weirds = existsSync(weirdFile) ? decodeWeirds(weirdFile, lines(weirdFile)) : [];
  const headers = withHeaders
    ? files.filter((f) => f.endsWith('.headers.jsonl')).flatMap((f) => decodeHeaders(path.join(dir, f), lines(path.join(dir, f))))
    : [];
  return { conns, weirds, headers };
}

/** A crafted fixture: Zeek JSON objects and header objects inline, plus an optional devices YAML. */
export interface CraftedFixture {
  readonly comment: string;
  readonly conn: readonly unknown[];
  readonly weird?: readonly unknown[];
  readonly headers?: readonly unknown[];
  readonly devices?: string;
  readonly expect: {
    readonly uid: string;
    readonly verdict: string;
    readonly rules?: readonly string[];
    readonly origin?: string;
    readonly device?: string;
    readonly stage?: string;
    readonly tags?: readonly string[];
  };
}

function isCrafted(x: unknown): x is CraftedFixture {
  return typeof x === 'object' && x !== null && 'conn' in x && 'expect' in x && 'comment' in x;
}

export function loadCrafted(name: string): { fixture: CraftedFixture; input: CaseInput; settings: PipelineSettings } {
  const file = path.join(CRAFTED, `${name}.json`);
  const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (!isCrafted(parsed)) throw new Error(`${file}: not a crafted fixture`);
  const devices = parsed.devices === undefined ? { ok: true as const, devices: [] } : parseDevicesYaml(parsed.devices);
  if (!devices.ok) throw new Error(`${file}: ${devices.errors.join('; ')}`);
  return {
    fixture: parsed,
    input: {
      conns: decodeConns(file, parsed.conn.map((c) => JSON.stringify(c))),
      weirds: decodeWeirds(file, (parsed.weird ?? []).map((c) => JSON.stringify(c))),
      headers: decodeHeaders(file, (parsed.headers ?? []).map((c) => JSON.stringify(c))),
    },
    settings: { ...DEFAULT_PIPELINE_SETTINGS, devices: devices.devices },
  };
}

/**
 * File mode, as the CLI does it: evidence first, then conns, ticking on record time, then flush.
 * `evidenceLast` feeds conns first instead, to check that arrival order does not matter.
 */
export function runPipeline(input: CaseInput, settings: PipelineSettings = DEFAULT_PIPELINE_SETTINGS, evidenceLast = false): OutputDoc[] {
  const clock = createRecordClock();
  const p = createClassifyPipeline(settings, clock);
  const out: OutputDoc[] = [];
  const evidence = (): void => {
    for (const h of input.headers) out.push(...p.addHeader(h).docs);
    for (const w of input.weirds) out.push(...p.addWeird(w).docs);
  };
  if (!evidenceLast) evidence();
  for (const c of input.conns) out.push(...p.addConn(c).docs);
  if (evidenceLast) evidence();
  out.push(...p.flush().docs);
  // Keep only the latest document per id: updates replace the first write.
  const latest = new Map<string, OutputDoc>();
  for (const d of out) latest.set(d.id, d);
  return [...latest.values()];
}

const CONTROL = TCP_FLAGS.SYN | TCP_FLAGS.FIN | TCP_FLAGS.RST;

/**
 * Headers thinned as a 1-in-N sampler with control packets always kept would thin them: every
 * SYN, FIN and RST, and every n-th of the others from the `phase`-th (`zeek-rst headers --sample
 * N` keeps as many, picked by a hash of the flow and the packet's index instead).
 */
export function thinHeaders(headers: readonly PacketHeader[], n: number, phase = 0): PacketHeader[] {
  let i = 0;
  return headers.filter((h) => (h.tcpFlags & CONTROL) !== 0 || (i++ + phase) % n === 0);
}
