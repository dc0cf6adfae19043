/**
 * A build of another commit of this repository, for comparing it with this tree: its `src`, `bin`,
 * `schemas` and build configuration (`git archive`), compiled into .cache/ref/<sha>/dist with this
 * checkout's node_modules. Reused when it exists: a commit's build does not change.
 * Used by `npm run bench:corpus` (documents) and `npm run bench -- --against REF` (speed).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';

export interface RefBuild {
  /** The checkout's root: `dist/`, `bin/` and `package.json` are below it. */
  readonly root: string;
  readonly sha: string;
}

const TSC = (root: string): string => path.join(root, 'node_modules/typescript/bin/tsc');

/** Compiles this tree's dist/ (`tsconfig.build.json`). */
export function buildTree(root: string): void {
  execFileSync(process.execPath, [TSC(root), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
}

/** The build of REF (any git revision) below `root`/.cache/ref/. */
export function buildRef(root: string, ref: string): RefBuild {
  const sha = execFileSync('git', ['rev-parse', '--verify', `${ref}^{commit}`], { cwd: root, encoding: 'utf8' }).trim();
  const dir = path.join(root, '.cache/ref', sha);
  if (existsSync(path.join(dir, 'dist/cli/main.js'))) return { root: dir, sha };
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const tar = execFileSync('git', ['archive', '--format=tar', sha, 'src', 'bin', 'schemas', 'package.json', 'tsconfig.json', 'tsconfig.build.json'], { cwd: root, maxBuffer: 1 << 28 });
  execFileSync('tar', ['-x', '-C', dir], { input: tar });
  symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
  buildTree(dir); // its node_modules is this checkout's: the same compiler
  return { root: dir, sha };
}
