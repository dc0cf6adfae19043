/**
 * The bench measures the compiled `dist/` that users run (`npm run build`), not the TypeScript
 * sources: `npm run bench` builds both, then runs the compiled bench (.cache/bench/) with plain
 * node. Types come from src/ (type-only imports); the code from dist/, loaded here.
 */
import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

function findRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'src/pipeline.ts'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`bench: no zeek-rst checkout above ${from}`);
  }
}

/** The repository root (bench inputs are read from it). */
export const ROOT = findRoot(__dirname);
export const DIST = path.join(ROOT, 'dist');

let current = DIST;

/**
 * Makes `fromDist` load from another build's dist/ (`npm run bench -- --against REF` loads every
 * suite once per build); `fromDist` of a module already loaded keeps the module it gave.
 */
export function useDist(dir: string): void {
  current = dir;
}

/** A module of dist/; the caller types it as its source: `fromDist('decode/zeek-json') as typeof ZeekJson`. */
export function fromDist(module: string): unknown {
  const file = path.join(current, `${module}.js`);
  if (!existsSync(file)) throw new Error(`bench: ${path.relative(ROOT, file)} is missing: run npm run build (npm run bench does)`);
  return createRequire(path.join(current, 'index.js'))(file);
}

/** Whether the current dist/ has `module` (a build of an older revision may lack one). */
export function inDist(module: string): boolean {
  return existsSync(path.join(current, `${module}.js`));
}

/** When dist/ was built (its pipeline module's mtime), for the printout. */
export function distBuiltAt(dir: string = DIST): Date {
  return statSync(path.join(dir, 'pipeline.js')).mtime;
}
