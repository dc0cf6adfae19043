import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SEMI_SPACE_ARG, semiSpaceGiven } from './node-flags';

const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'bin/zeek-rst');

describe('node flags', () => {
  it('tells whether node was given a semi-space size, on its command line or in NODE_OPTIONS', () => {
    expect(semiSpaceGiven(['--max-semi-space-size=64'], undefined)).toBe(true);
    expect(semiSpaceGiven(['--max_semi_space_size=32'], '')).toBe(true);
    expect(semiSpaceGiven(['--cpu-prof'], '--inspect --max-semi-space-size=128')).toBe(true);
    expect(semiSpaceGiven(['--max-old-space-size=4096', '--cpu-prof'], '--max-semi-space')).toBe(false);
    expect(semiSpaceGiven([], undefined)).toBe(false);
  });

  it('is what bin/zeek-rst starts node with, the image runs bin/zeek-rst itself, and the bench passes it too', () => {
    const [shebang] = readFileSync(BIN, 'utf8').split('\n');
    expect(shebang).toBe(`#!/usr/bin/env -S node ${SEMI_SPACE_ARG}`);
    const entrypoint = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8').split('\n').find((l) => l.startsWith('ENTRYPOINT'));
    expect(entrypoint).toBe('ENTRYPOINT ["/app/bin/zeek-rst"]');
    // The in-process bench measures what users run.
    const scripts = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    expect(scripts.bench).toContain(`node ${SEMI_SPACE_ARG} `);
  });

  it('reaches node when bin/zeek-rst is run through its shebang', () => {
    // A preload prints the options node received and exits before the CLI (and dist/) loads.
    const dir = mkdtempSync(path.join(tmpdir(), 'zeek-rst-flags-'));
    try {
      const probe = path.join(dir, 'probe.js');
      writeFileSync(probe, 'process.stdout.write(JSON.stringify(process.execArgv)); process.exit(0);\n');
      const out = execFileSync(BIN, ['--help'], {
        env: { ...process.env, NODE_OPTIONS: `--require ${probe}`, PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}` },
        encoding: 'utf8',
      });
      expect(JSON.parse(out)).toContain(SEMI_SPACE_ARG);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
