/**
 * `npm run bench:corpus [-- REF]`: proves that a speed-up changed no document. Builds this tree
 * (dist/) and REF (default HEAD, i.e. the uncommitted changes are judged; give HEAD~1 to judge the
 * last commit; bench/ref-build.ts), runs `zeek-rst classify` of both over every case of the
 * corpus copy (test/fixtures/corpus) and every crafted fixture (test/fixtures/classify/crafted),
 * and compares stdout (the documents) and stderr (the summary) byte for byte. The document ids
 * (`documentId`, not printed by classify) of both builds are compared for every document too.
 *
 * Runs per corpus case: the Zeek JSON conn log (conn.json or conn.redacted.json) with its weirds
 * and headers, the same without headers, and the Zeek TSV conn.log with its weirds and headers.
 * Prints one line per run with the SHA-256 of its output; exits 1 at the first difference.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

import type * as Ecs from '../src/sink/ecs';
import { buildRef, buildTree } from './ref-build';

const ROOT = path.resolve(__dirname, '..');
const CORPUS = path.join(ROOT, 'test/fixtures/corpus');
const CRAFTED = path.join(ROOT, 'test/fixtures/classify/crafted');
const WORK = path.join(ROOT, '.cache/corpus-compare');

interface Run {
  readonly name: string;
  readonly args: readonly string[];
}

function corpusRuns(): Run[] {
  const runs: Run[] = [];
  for (const name of readdirSync(CORPUS, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort()) {
    const dir = path.join(CORPUS, name);
    const files = readdirSync(dir).sort();
    const headers = files.filter((f) => f.endsWith('.headers.jsonl')).flatMap((f) => ['--headers', path.join(dir, f)]);
    const jsonConn = files.find((f) => f === 'conn.json') ?? files.find((f) => f === 'conn.redacted.json');
    const weirdJson = files.filter((f) => f === 'weird.json' || f.endsWith('.weird.redacted.json')).flatMap((f) => ['--weird', path.join(dir, f)]);
    const weirdTsv = files.filter((f) => f === 'weird.log' || f.endsWith('.weird.log')).flatMap((f) => ['--weird', path.join(dir, f)]);
    // Cases without a conn log still feed their evidence in, against an empty conn log.
    const conn = jsonConn === undefined ? path.join(WORK, 'empty.json') : path.join(dir, jsonConn);
    const common = ['--allow-canonified'];
    runs.push({ name: `${name} json+headers`, args: ['--conn', conn, ...weirdJson, ...headers, ...common] });
    runs.push({ name: `${name} json`, args: ['--conn', conn, ...weirdJson, ...common] });
    if (files.includes('conn.log')) runs.push({ name: `${name} tsv+headers`, args: ['--conn', path.join(dir, 'conn.log'), ...weirdTsv, ...headers, ...common] });
  }
  return runs;
}

interface Crafted {
  readonly conn: readonly unknown[];
  readonly weird?: readonly unknown[];
  readonly headers?: readonly unknown[];
  readonly devices?: string;
}

function isCrafted(x: unknown): x is Crafted {
  return typeof x === 'object' && x !== null && 'conn' in x && Array.isArray(x.conn);
}

/** Crafted fixtures hold their records inline: written out as JSON lines (and a devices YAML) once. */
function craftedRuns(): Run[] {
  const out = path.join(WORK, 'crafted');
  mkdirSync(out, { recursive: true });
  const runs: Run[] = [];
  for (const f of readdirSync(CRAFTED).filter((x) => x.endsWith('.json')).sort()) {
    const parsed: unknown = JSON.parse(readFileSync(path.join(CRAFTED, f), 'utf8'));
    if (!isCrafted(parsed)) throw new Error(`${f}: not a crafted fixture`);
    const base = path.join(out, f.replace(/\.json$/, ''));
    const jsonl = (xs: readonly unknown[]): string => xs.map((x) => `${JSON.stringify(x)}\n`).join('');
    writeFileSync(`${base}.conn.json`, jsonl(parsed.conn));
    const args = ['--conn', `${base}.conn.json`];
    if (parsed.weird !== undefined) {
      writeFileSync(`${base}.weird.json`, jsonl(parsed.weird));
      args.push('--weird', `${base}.weird.json`);
    }
    if (parsed.headers !== undefined) {
      writeFileSync(`${base}.headers.jsonl`, jsonl(parsed.headers));
      args.push('--headers', `${base}.headers.jsonl`);
    }
    if (parsed.devices !== undefined) {
      writeFileSync(`${base}.devices.yaml`, parsed.devices);
      args.push('--devices', `${base}.devices.yaml`);
    }
    runs.push({ name: `crafted ${f}`, args });
  }
  return runs;
}

function classify(root: string, args: readonly string[]): { stdout: string; stderr: string; status: number | null } {
  const r = spawnSync(process.execPath, [path.join(root, 'bin/zeek-rst'), 'classify', ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

function firstDifference(a: string, b: string): string {
  const la = a.split('\n');
  const lb = b.split('\n');
  for (let i = 0; i < Math.max(la.length, lb.length); i++) {
    if (la[i] !== lb[i]) return `line ${i + 1}:\n  before: ${la[i] ?? '(none)'}\n  after:  ${lb[i] ?? '(none)'}`;
  }
  return 'same lines, different bytes';
}

function idsOf(stdout: string): [string | undefined, string][] {
  return stdout.split('\n').filter((l) => l !== '').map((l) => {
    const d = JSON.parse(l) as { observer?: { name: string }; zeek: { session_id: string } };
    return [d.observer?.name, d.zeek.session_id];
  });
}

const USAGE = `usage: npm run bench:corpus [-- REF]

Builds this tree and REF (a commit; default HEAD, so the uncommitted changes are judged),
runs zeek-rst classify of both over the corpus copy and the crafted fixtures, and compares the
documents, the summaries and the document ids byte for byte. Exits 1 at the first difference.`;

function main(): number {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  if (args.length > 1 || args.some((a) => a.startsWith('-'))) {
    console.error(USAGE);
    return 2;
  }
  const ref = args[0] ?? 'HEAD';
  mkdirSync(WORK, { recursive: true });
  writeFileSync(path.join(WORK, 'empty.json'), '');
  console.log(`building this tree (dist/) and ${ref} ...`);
  buildTree(ROOT);
  const before = buildRef(ROOT, ref);
  const load = (root: string): typeof Ecs => createRequire(path.join(root, 'package.json'))(path.join(root, 'dist/sink/ecs.js')) as typeof Ecs;
  const ecsBefore = load(before.root);
  const ecsAfter = load(ROOT);
  const runs = [...corpusRuns(), ...craftedRuns()];
  let docs = 0;
  let bytes = 0;
  const all = createHash('sha256');
  for (const run of runs) {
    const a = classify(before.root, run.args);
    const b = classify(ROOT, run.args);
    if (a.status !== 0) {
      console.error(`${run.name}: ${ref} exited ${a.status}: ${a.stderr}`);
      return 1;
    }
    for (const [what, x, y] of [['documents (stdout)', a.stdout, b.stdout], ['summary (stderr)', a.stderr, b.stderr], ['exit status', String(a.status), String(b.status)]] as const) {
      if (x !== y) {
        console.error(`DIFFERENT: ${run.name}, ${what}, ${firstDifference(x, y)}`);
        return 1;
      }
    }
    for (const [observer, uid] of idsOf(b.stdout)) {
      if (ecsBefore.documentId(observer, uid) !== ecsAfter.documentId(observer, uid)) {
        console.error(`DIFFERENT: ${run.name}, document id of ${observer ?? ''}|${uid}`);
        return 1;
      }
    }
    const n = b.stdout.split('\n').filter((l) => l !== '').length;
    docs += n;
    bytes += Buffer.byteLength(b.stdout);
    all.update(b.stdout).update(b.stderr);
    console.log(`  same  ${createHash('sha256').update(b.stdout).digest('hex').slice(0, 16)}  ${String(n).padStart(5)} docs  ${run.name}`);
  }
  console.log(`byte-identical to ${ref} (${before.sha.slice(0, 12)}): ${runs.length} classify runs, ${docs} documents, ${bytes} bytes, sha256 ${all.digest('hex')}`);
  return 0;
}

process.exitCode = main();
