/**
 * BaselineFacts: the claimed sender's baseline (correlate/baseline.ts) against the deciding RST
 * (TTL, hops, IP ID), and the idle gap before the RST with the odds that sampling made it.
 */
import { TCP_FLAGS, type Baseline, type BaselineFacts, type HistoryFacts, type PacketHeader, type RstHeaderFacts, type Side } from '../../domain';
import { baselineOf } from '../../correlate/baseline';
import { idleThresholdFor, type ClassifySettings } from '../settings';
import type { FactInput, SidedHeader } from './input';

/** A header gap is taken for silence only when the odds that it hides unsampled packets are at most this. */
export const IDLE_ARTEFACT_MAX_ODDS = 0.001;

/**
 * Odds that a gap of `gapS` between sampled headers is a sampling artefact: the flow kept sending
 * at its own rate and none of those packets was sampled. Control packets (SYN, FIN, RST) are
 * always sampled by the producer, so the unseen packets are data or pure ACKs, sampled with
 * p = sampled non-control / (all packets - control). At the flow's rate outside the gap
 * ((duration - gap) / packets per packet), the gap would hold k packets, all unsampled with odds
 * (1 - p)^k.
 */
export function samplingGapOdds(headers: readonly { readonly tcpFlags: number }[], totalPkts: number, durationS: number | undefined, gapS: number): number {
  const control = headers.filter((x) => (x.tcpFlags & (TCP_FLAGS.SYN | TCP_FLAGS.FIN | TCP_FLAGS.RST)) !== 0).length;
  const others = totalPkts - control;
  if (others <= 0) return 0;
  const p = Math.min(1, (headers.length - control) / others);
  if (p >= 1) return 0;
  if (durationS === undefined || totalPkts <= 0) return 1;
  const spacingS = Math.max(durationS - gapS, 0) / totalPkts;
  if (spacingS <= 0) return 0;
  return (1 - p) ** (gapS / spacingS);
}

/**
 * A RST at most this long after the first packet that broke a silence, with nothing but the
 * peer's packets between, answers that packet: an RTT and the first retransmissions of it.
 */
export const IDLE_TRIGGER_MAX_S = 3;

/** The silence before a RST, and the peer's packets it answered when it answered some. */
export interface IdleGap {
  readonly gapS: number;
  readonly trigger: { readonly side: Side; readonly packets: number; readonly beforeRstS: number } | undefined;
}

/**
 * The silence before the RST. A firewall, NAT or load balancer that expired a session often
 * resets it only when the next segment comes, in the other endpoint's name, and an endpoint that
 * dropped the session does the same: that RST answers the first packets after the silence. It
 * follows the silence as much as a RST sent when the timer fired, so the gap is then the one
 * before those packets when it reaches the idle threshold (below it, the gap stays the one right
 * before the RST). A capture that sampled the peer's packets and one that did not therefore see
 * the same gap. `headers`: the flow's headers in time order; `sided`: those of its endpoints.
 */
export function idleGapBefore(
  headers: readonly PacketHeader[],
  sided: readonly SidedHeader[],
  rst: PacketHeader,
  sender: Side | undefined,
  thresholdS: number,
): IdleGap | undefined {
  let last: PacketHeader | undefined;
  for (const p of headers) if (p.tsUs < rst.tsUs) last = p;
  if (last === undefined) return undefined;
  const atRst: IdleGap = { gapS: (rst.tsUs - last.tsUs) / 1e6, trigger: undefined };
  if (sender === undefined) return atRst;
  const prior = sided.filter((x) => x.h.tsUs < rst.tsUs);
  // Back from the RST over the peer's packets of the last IDLE_TRIGGER_MAX_S: what the RST answered.
  const answered = (x: SidedHeader | undefined): boolean => x !== undefined && x.side !== sender && rst.tsUs - x.h.tsUs <= IDLE_TRIGGER_MAX_S * 1e6;
  let i = prior.length - 1;
  while (answered(prior[i])) i--;
  const first = prior[i + 1];
  const before = prior[i];
  if (first === undefined || before === undefined) return atRst;
  const gapS = (first.h.tsUs - before.h.tsUs) / 1e6;
  if (gapS <= atRst.gapS || gapS < thresholdS) return atRst;
  return { gapS, trigger: { side: first.side, packets: prior.length - 1 - i, beforeRstS: (rst.tsUs - first.h.tsUs) / 1e6 } };
}

function triggerText(g: IdleGap | undefined): string {
  const t = g?.trigger;
  if (t === undefined) return '';
  const what = t.packets === 1 ? `the ${t.side}'s first packet` : `the ${t.side}'s first ${t.packets} packets`;
  return `, answering ${what} after it (${Math.round(t.beforeRstS * 1000) / 1000} s before the RST)`;
}

export function baselineFacts(input: FactInput, history: HistoryFacts, rstHeaders: RstHeaderFacts, settings: ClassifySettings): BaselineFacts {
  const { conn: c, deciding, decidingSide } = input;
  const headers = input.corr.headers;
  const rst = deciding?.header;
  const senderHeaders = decidingSide === undefined ? [] : input.sided.filter((x) => x.side === decidingSide).map((x) => x.h);
  const hostBaseline: Baseline | undefined =
    decidingSide === undefined ? undefined : decidingSide === 'originator' ? input.corr.hostBaselines.orig : input.corr.hostBaselines.resp;
  const baseline = deciding?.baseline ?? baselineOf(senderHeaders, 'flow') ?? hostBaseline;
  const idleThresholdS = idleThresholdFor(settings, c.respP);
  const idle = rst === undefined ? undefined : idleGapBefore(headers, input.sided, rst, decidingSide, idleThresholdS);
  const idleBeforeS = idle?.gapS;
  const totalPkts = (c.origPkts ?? 0) + (c.respPkts ?? 0);
  const durationS = history.durationS;
  const idleGapArtefactOdds =
    idleBeforeS === undefined ? undefined : rstHeaders.headersComplete ? 0 : samplingGapOdds(headers, totalPkts, durationS, idleBeforeS);
  return {
    expectedTtl: baseline?.ttl,
    ttlDelta: deciding?.ttlDelta,
    expectedHops: baseline?.hops,
    baselineSource: baseline?.source ?? 'none',
    ipIdBehaviour: baseline?.ipIdBehaviour ?? 'unknown',
    ipIdDelta: deciding?.ipIdDelta,
    ipIdOutOfSequence: deciding?.ipIdOutOfSequence ?? false,
    ttlMismatch: input.judged.some((j) => j.signals.some((s) => s.kind === 'ttl' || s.kind === 'handshake_hops')),
    idleBeforeS,
    idleTrigger: triggerText(idle),
    idleThresholdS,
    idleGapExceeded: idleBeforeS !== undefined && idleBeforeS >= idleThresholdS && idleGapArtefactOdds !== undefined && idleGapArtefactOdds <= IDLE_ARTEFACT_MAX_ODDS,
    idleGapArtefactOdds,
    longQuietDuration:
      idleBeforeS === undefined &&
      durationS !== undefined &&
      durationS >= idleThresholdS &&
      (c.origPkts ?? Infinity) <= settings.idleMaxPacketsPerSide &&
      (c.respPkts ?? Infinity) <= settings.idleMaxPacketsPerSide,
    idleMaxPacketsPerSide: settings.idleMaxPacketsPerSide,
  };
}
