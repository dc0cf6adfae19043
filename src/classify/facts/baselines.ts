/**
 * BaselineFacts: the claimed sender's baseline (correlate/baseline.ts) against the deciding RST
 * (TTL, hops, IP ID), and the idle gap before the RST with the odds that sampling made it.
 */
import { TCP_FLAGS, type Baseline, type BaselineFacts, type HistoryFacts, type RstHeaderFacts } from '../../domain';
import { baselineOf } from '../../correlate/baseline';
import { idleThresholdFor, type ClassifySettings } from '../settings';
import type { FactInput } from './input';

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

export function baselineFacts(input: FactInput, history: HistoryFacts, rstHeaders: RstHeaderFacts, settings: ClassifySettings): BaselineFacts {
  const { conn: c, deciding, decidingSide } = input;
  const headers = input.corr.headers;
  const rst = deciding?.header;
  const senderHeaders = decidingSide === undefined ? [] : input.sided.filter((x) => x.side === decidingSide).map((x) => x.h);
  const hostBaseline: Baseline | undefined =
    decidingSide === undefined ? undefined : decidingSide === 'originator' ? input.corr.hostBaselines.orig : input.corr.hostBaselines.resp;
  const baseline = deciding?.baseline ?? baselineOf(senderHeaders, 'flow') ?? hostBaseline;
  let idleBeforeS: number | undefined;
  if (rst !== undefined) {
    const prior = headers.filter((p) => p.tsUs < rst.tsUs);
    const last = prior[prior.length - 1];
    if (last !== undefined) idleBeforeS = (rst.tsUs - last.tsUs) / 1e6;
  }
  const idleThresholdS = idleThresholdFor(settings, c.respP);
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
