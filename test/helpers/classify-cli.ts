/** `zeek-rst classify` run in process, its stdout (the documents) and stderr (progress, summary) captured; it must exit 0. */
import { run } from '../../src/cli/classify';

const text = (chunk: string | Uint8Array): string => (typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));

export async function classifyCli(args: readonly string[]): Promise<{ readonly out: string; readonly err: string }> {
  let out = '';
  let err = '';
  const so = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += text(chunk);
    return true;
  });
  const se = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    err += text(chunk);
    return true;
  });
  try {
    expect(await run(args)).toBe(0);
  } finally {
    so.mockRestore();
    se.mockRestore();
  }
  return { out, err };
}
