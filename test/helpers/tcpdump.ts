/**
 * tcpdump for the live-capture test: the distribution's package, installed here when missing
 * (`apt-get install -y tcpdump`, after `apt-get update` if the first attempt fails), so that a
 * fresh machine running `npm ci && npm test` (CI, as root) needs no step by hand.
 */
import { spawnSync } from 'node:child_process';

function hasTcpdump(): boolean {
  const r = spawnSync('tcpdump', ['--version'], { encoding: 'utf8' });
  return r.error === undefined && r.status === 0;
}

function apt(args: readonly string[]): { ok: boolean; output: string } {
  const r = spawnSync('apt-get', [...args], { encoding: 'utf8', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, timeout: 300_000 });
  return { ok: r.error === undefined && r.status === 0, output: `${r.stdout}${r.stderr}`.slice(-2000) };
}

/** Makes sure `tcpdump` runs; throws with apt's last lines when it cannot be installed. */
export function ensureTcpdump(): void {
  if (hasTcpdump()) return;
  let install = apt(['install', '-y', 'tcpdump']);
  if (!install.ok) {
    apt(['update']);
    install = apt(['install', '-y', 'tcpdump']);
  }
  if (!install.ok || !hasTcpdump()) throw new Error(`tcpdump is missing and apt-get install -y tcpdump failed:\n${install.output}`);
}
