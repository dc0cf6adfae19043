/**
 * The repository stands alone: a clone with nothing beside it must be enough for the tests, the
 * bench, the demo and the docs. This check fails when a tracked file names a path outside the
 * repository (a sibling checkout, an absolute path of a developer's machine) or a product
 * definition that is not in the repository, and when a relative path literal next to
 * `__dirname` climbs out of the checkout. It also keeps the product definition in `docs/` whole:
 * every `docs/<page>.md` (and `#anchor`) a tracked file names exists, relative links in the
 * markdown files resolve, the README links every page, and docs/architecture.md names every
 * source file.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const SKIP_DIRS = new Set(['node_modules', '.cache', 'dist', 'coverage', '.git']);

function trackedFiles(): string[] {
  if (existsSync(path.join(ROOT, '.git'))) {
    const out = execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' });
    return out.split('\0').filter((f) => f !== '' && existsSync(path.join(ROOT, f)));
  }
  // A source archive without .git: walk the tree instead.
  const files: string[] = [];
  const walk = (rel: string): void => {
    for (const entry of readdirSync(path.join(ROOT, rel), { withFileTypes: true })) {
      if (SKIP_DIRS.has(entry.name)) continue;
      const child = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory()) walk(child);
      else files.push(child);
    }
  };
  walk('');
  return files;
}

const TEXT = /\.(ts|js|mjs|cjs|json|jsonl|md|yml|yaml|avsc|ndjson|tsv|sh|txt|log|out)$|^(Dockerfile|\.ci\/run|bin\/zeek-rst|\.gitignore|\.dockerignore)$/;
/** This file spells the patterns it looks for; it is the one exception. */
const SELF = path.relative(ROOT, __filename).split(path.sep).join('/');

/** Paths and documents that exist only on the developers' machines, never in a clone. */
const FORBIDDEN: readonly { readonly pattern: RegExp; readonly why: string }[] = [
  { pattern: /\.\.\/shared\b/, why: 'a sibling folder of the checkout' },
  { pattern: /\bshared\/corpus/, why: 'the developers\' shared corpus (use test/fixtures/corpus)' },
  { pattern: /\/work\/(main|shared)\b/, why: 'an absolute path of a development machine' },
  { pattern: /\bSPEC\.md\b|\bSTYLE\.md\b/, why: 'a document that is not in the repository (docs/ holds the definition)' },
];

/** Anchors GitHub gives the headings of a markdown text (fenced code skipped, duplicates numbered). */
function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    const m = fenced ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (m === null) continue;
    const slug = (m[1] ?? '').toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').trim().replace(/\s/g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    anchors.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return anchors;
}

const anchorCache = new Map<string, Set<string>>();
function anchorsOf(file: string): Set<string> {
  let a = anchorCache.get(file);
  if (a === undefined) {
    a = headingAnchors(readFileSync(file, 'utf8'));
    anchorCache.set(file, a);
  }
  return a;
}

describe('the repository stands alone', () => {
  const files = trackedFiles().filter((f) => f !== SELF && f !== 'package-lock.json' && TEXT.test(f));

  it('finds the tracked files', () => {
    expect(files.length).toBeGreaterThan(50);
  });

  it('no tracked file names a path outside the repository', () => {
    const hits: string[] = [];
    for (const f of files) {
      const lines = readFileSync(path.join(ROOT, f), 'utf8').split('\n');
      lines.forEach((line, i) => {
        for (const { pattern, why } of FORBIDDEN) if (pattern.test(line)) hits.push(`${f}:${i + 1}: ${why}: ${line.trim().slice(0, 120)}`);
      });
    }
    expect(hits).toEqual([]);
  });

  it('no path literal next to __dirname climbs out of the checkout', () => {
    const hits: string[] = [];
    const literal = /(?:path\.(?:resolve|join)\(\s*__dirname\s*,\s*)((?:'[^']*'\s*,?\s*)+)\)/g;
    for (const f of files.filter((x) => /\.(ts|js|mjs|cjs)$/.test(x))) {
      const text = readFileSync(path.join(ROOT, f), 'utf8');
      for (const m of text.matchAll(literal)) {
        const parts = [...(m[1] ?? '').matchAll(/'([^']*)'/g)].map((p) => p[1] ?? '');
        const target = path.resolve(path.dirname(path.join(ROOT, f)), ...parts);
        const rel = path.relative(ROOT, target);
        if (rel.startsWith('..') || path.isAbsolute(rel)) hits.push(`${f}: ${m[0]}`);
      }
    }
    expect(hits).toEqual([]);
  });
  it('every docs/ page (and #anchor) that a tracked file points at exists', () => {
    const missing = new Set<string>();
    for (const f of files) {
      for (const m of readFileSync(path.join(ROOT, f), 'utf8').matchAll(/\bdocs\/([A-Za-z0-9_-]+\.md)(?:#([a-z0-9-]+))?/g)) {
        const name = m[1] ?? '';
        const page = path.join(ROOT, 'docs', name);
        if (!existsSync(page) || !statSync(page).isFile()) missing.add(`${f} -> docs/${name}`);
        else if (m[2] !== undefined && !anchorsOf(page).has(m[2])) missing.add(`${f} -> docs/${name}#${m[2]} (no such heading)`);
      }
    }
    expect([...missing]).toEqual([]);
  });

  it('relative links in the markdown files resolve (files and #anchors)', () => {
    const broken: string[] = [];
    for (const f of files.filter((x) => x.endsWith('.md'))) {
      const text = readFileSync(path.join(ROOT, f), 'utf8');
      for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1] ?? '';
        if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http:, https:, mailto:
        const [rel = '', anchor] = target.split('#');
        const file = rel === '' ? path.join(ROOT, f) : path.resolve(path.dirname(path.join(ROOT, f)), rel);
        if (!existsSync(file)) broken.push(`${f}: ${target} (no such file)`);
        else if (anchor !== undefined && file.endsWith('.md') && !anchorsOf(file).has(anchor)) broken.push(`${f}: ${target} (no such heading)`);
      }
    }
    expect(broken).toEqual([]);
  });
  it('the README links every docs/ page', () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const pages = readdirSync(path.join(ROOT, 'docs')).filter((p) => p.endsWith('.md'));
    expect(pages.length).toBeGreaterThan(0);
    expect(pages.filter((p) => !readme.includes(`](docs/${p}`))).toEqual([]);
  });
  it('docs/architecture.md names every source file under src/ (the newcomer\'s map)', () => {
    const map = readFileSync(path.join(ROOT, 'docs', 'architecture.md'), 'utf8');
    const sources = files.filter((f) => f.startsWith('src/') && f.endsWith('.ts') && !f.endsWith('.test.ts'));
    expect(sources.length).toBeGreaterThan(10);
    // A new file needs a row in the "Which file does what" table; a removed one, its row gone.
    expect(sources.filter((f) => !map.includes(`\`${f}\``))).toEqual([]);
    const named = [...map.matchAll(/`(src\/[\w/.-]+\.ts)`/g)].map((m) => m[1] ?? '');
    expect(named.filter((f) => !existsSync(path.join(ROOT, f)))).toEqual([]);
  });
});
