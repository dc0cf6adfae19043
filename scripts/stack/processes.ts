/**
 * The stack's processes: started detached in their own process group, logs to files, a pid
 * file per service. A pid file names the group leader and a marker (a path that must appear in
 * its command line), so a pid reused by an unrelated process is never taken for ours.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { waitFor } from '../../src/wait';

/** Runs a tool to its end; throws with its output, naming `what`, unless it exits 0. Returns its stdout. */
export function runOrThrow(command: string, args: readonly string[], what: string, options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
  const result = spawnSync(command, [...args], { encoding: 'utf8', ...options });
  if (result.error !== undefined) throw new Error(`${what}: could not run ${command} (${result.error.message})`);
  if (result.status !== 0) throw new Error(`${what} failed (exit ${result.status ?? result.signal ?? 'unknown'}):\n${result.stdout}${result.stderr}`);
  return result.stdout;
}

export interface PidRecord {
  readonly pid: number;
  /** A string the leader's command line contains (its home folder). */
  readonly marker: string;
  readonly startedAt: string;
}

export function tailOfFile(file: string, lines: number): string {
  try {
    const text = fs.readFileSync(file, 'utf8');
    return text.split('\n').slice(-lines - 1).join('\n').trimEnd();
  } catch {
    return `(no ${file})`;
  }
}

export function readPidFile(file: string): PidRecord | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined; // absent or unreadable: nothing of ours is recorded
  }
  if (typeof raw !== 'object' || raw === null) return undefined;
  if (!('pid' in raw) || typeof raw.pid !== 'number' || !Number.isInteger(raw.pid) || raw.pid <= 1) return undefined;
  if (!('marker' in raw) || typeof raw.marker !== 'string' || raw.marker === '') return undefined;
  const startedAt = 'startedAt' in raw && typeof raw.startedAt === 'string' ? raw.startedAt : '';
  return { pid: raw.pid, marker: raw.marker, startedAt };
}

export function writePidFile(file: string, record: PidRecord): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(record)}\n`);
}

export function removePidFile(file: string): void {
  fs.rmSync(file, { force: true });
}

interface ProcStat {
  readonly pid: number;
  readonly state: string;
  readonly pgrp: number;
}

function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // gone
  }
  // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses, so split after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  const pgrp = Number(fields[2]);
  if (state === undefined || !Number.isInteger(pgrp)) return undefined;
  return { pid, state, pgrp };
}

function commandLine(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

/** Alive (not a zombie) and still the process we started. */
export function isOurs(record: PidRecord): boolean {
  const stat = readStat(record.pid);
  if (stat === undefined || stat.state === 'Z' || stat.state === 'X') return false;
  return commandLine(record.pid).includes(record.marker);
}

/** Every live process of a process group (the leader and what it spawned). */
export function groupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readStat(Number(name));
    if (stat !== undefined && stat.pgrp === pgid && stat.state !== 'Z' && stat.state !== 'X') members.push(stat.pid);
  }
  return members;
}

export interface DetachedSpec {
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly logFile: string;
  readonly uid?: number;
  readonly gid?: number;
}

/** Starts a process in its own group (detached), stdout and stderr appended to its log file. */
export function spawnDetached(spec: DetachedSpec): number {
  fs.mkdirSync(path.dirname(spec.logFile), { recursive: true });
  const out = fs.openSync(spec.logFile, 'a');
  try {
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: spec.env,
      detached: true,
      stdio: ['ignore', out, out],
      ...(spec.uid === undefined ? {} : { uid: spec.uid }),
      ...(spec.gid === undefined ? {} : { gid: spec.gid }),
    });
    child.on('error', () => undefined); // a failed exec shows up as a dead pid and the log file
    child.unref();
    if (child.pid === undefined) throw new Error(`could not start ${spec.command}; see ${spec.logFile}`);
    return child.pid;
  } finally {
    fs.closeSync(out);
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (err: unknown) {
    if (err instanceof Error && 'code' in err && err.code === 'ESRCH') return; // already gone
    throw err;
  }
}

/**
 * Sends `signal` to every process of the group that `record` leads, if its leader is still ours:
 * SIGSTOP freezes a service (its sockets stay open and accept, nothing answers), SIGCONT resumes
 * it. Returns false when the service is not running.
 */
export function signalOurGroup(record: PidRecord, signal: 'SIGSTOP' | 'SIGCONT'): boolean {
  if (!isOurs(record)) return false;
  signalGroup(record.pid, signal);
  return true;
}

/**
 * Stops the group that `record` leads: SIGTERM, then SIGKILL when it is still there after the
 * deadline. Only a group whose leader is still ours is signalled.
 */
export async function stopGroup(record: PidRecord, timeoutMs: number): Promise<'stopped' | 'killed' | 'not-running'> {
  if (!isOurs(record)) return 'not-running';
  signalGroup(record.pid, 'SIGTERM');
  try {
    await waitFor(() => groupMembers(record.pid).length === 0, { timeoutMs, intervalMs: 200, what: `process group ${record.pid} to exit` });
    return 'stopped';
  } catch {
    signalGroup(record.pid, 'SIGKILL');
    await waitFor(() => groupMembers(record.pid).length === 0, { timeoutMs: 10_000, intervalMs: 100, what: `process group ${record.pid} to die` });
    return 'killed';
  }
}
