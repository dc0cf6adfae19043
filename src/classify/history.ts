/**
 * Zeek's connection `history` letters (base/protocols/conn/main.zeek, field `history`), defined
 * once with Zeek's own explanations. Upper case is the originator, lower case the responder.
 *
 * Repetition rules matter for every rule that counts letters:
 * - `s h f r` are logged again only when the sequence number changes, so `RR` / `rr` means two
 *   resets with *different* sequence numbers (a legitimate stack rarely does that; injectors do).
 * - `a d i q` are logged once per direction.
 * - `c g t w` are logarithmic: the 1st, 10th, 100th ... occurrence. So one `t` means 1..9
 *   retransmissions, two `t` mean at least 10, three at least 100.
 * - `^` means Zeek flipped the direction by heuristic (it saw no SYN): letters after it already
 *   use the flipped roles, and the conn record's orig/resp are the flipped ones too.
 */
import type { Side } from '../domain';

export const HISTORY_LETTERS = {
  s: 'a SYN without the ACK bit set',
  h: 'a SYN+ACK ("handshake")',
  a: 'a pure ACK',
  d: 'packet with payload ("data")',
  f: 'packet with FIN bit set',
  r: 'packet with RST bit set',
  c: 'packet with a bad checksum',
  g: 'a content gap',
  t: 'packet with retransmitted payload',
  w: 'packet with a zero window advertisement',
  i: 'inconsistent packet (e.g. FIN+RST bits set)',
  q: 'multi-flag packet (SYN+FIN or SYN+RST bits set)',
} as const;

export type HistoryLetter = keyof typeof HISTORY_LETTERS;

/** The flipped-direction marker. */
export const HISTORY_FLIPPED = '^';

/** Letters Zeek logs logarithmically (1st, 10th, 100th ... occurrence). */
export const LOGARITHMIC_LETTERS: ReadonlySet<HistoryLetter> = new Set(['c', 'g', 't', 'w']);

export interface HistoryEvent {
  readonly letter: HistoryLetter;
  readonly side: Side;
  /** Position in the history string, for "before/after" questions. */
  readonly index: number;
}

export interface ParsedHistory {
  readonly raw: string;
  readonly flipped: boolean;
  readonly events: readonly HistoryEvent[];
  /** Originator letters, in order, lower-cased. */
  readonly orig: string;
  /** Responder letters, in order. */
  readonly resp: string;
}

function isHistoryLetter(c: string): c is HistoryLetter {
  return Object.hasOwn(HISTORY_LETTERS, c);
}

/** Splits a history string into per-side events; unknown characters are ignored. */
export function parseHistory(raw: string | undefined): ParsedHistory {
  const text = raw ?? '';
  const events: HistoryEvent[] = [];
  let orig = '';
  let resp = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text.charAt(i);
    const lower = ch.toLowerCase();
    if (!isHistoryLetter(lower)) continue;
    const side: Side = ch === lower ? 'responder' : 'originator';
    events.push({ letter: lower, side, index: i });
    if (side === 'originator') orig += lower;
    else resp += lower;
  }
  return { raw: text, flipped: text.includes(HISTORY_FLIPPED), events, orig, resp };
}

export function countLetter(h: ParsedHistory, side: Side, letter: HistoryLetter): number {
  return h.events.filter((e) => e.side === side && e.letter === letter).length;
}

export function hasLetter(h: ParsedHistory, side: Side, letter: HistoryLetter): boolean {
  return h.events.some((e) => e.side === side && e.letter === letter);
}

/** Index of the first event matching, or -1. */
export function firstIndex(h: ParsedHistory, letter: HistoryLetter, side?: Side): number {
  const e = h.events.find((x) => x.letter === letter && (side === undefined || x.side === side));
  return e === undefined ? -1 : e.index;
}

/**
 * Lower bound of occurrences implied by `n` logarithmic letters: 0, 1, 10, 100 ...
 * (Zeek logs the 1st, 10th, 100th occurrence.)
 */
export function logarithmicLowerBound(n: number): number {
  return n <= 0 ? 0 : 10 ** (n - 1);
}

/** Who sent the first RST according to the history, or undefined when there is none. */
export function firstRstSide(h: ParsedHistory): Side | undefined {
  return h.events.find((e) => e.letter === 'r')?.side;
}
