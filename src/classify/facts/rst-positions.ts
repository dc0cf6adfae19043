/**
 * RstPositionFacts: where the RSTs sit: who reset first, what came before it, and the history
 * shapes of the decision order (docs/verdicts.md#decision-order).
 */
import type { HistoryFacts, RstPositionFacts, Sender, Side } from '../../domain';
import { countLetter, hasLetter, type ParsedHistory } from '../history';
import type { ClassifySettings } from '../settings';
import { beforeFirstRst, type FactInput, type SidedHeader } from './input';

function senderOf(h: ParsedHistory, rstHeaders: readonly SidedHeader[]): Sender {
  const o = hasLetter(h, 'originator', 'r') || rstHeaders.some((x) => x.side === 'originator');
  const r = hasLetter(h, 'responder', 'r') || rstHeaders.some((x) => x.side === 'responder');
  if (o && r) return 'both';
  if (o) return 'originator';
  if (r) return 'responder';
  return 'unknown';
}

export function rstPositionFacts(input: FactInput, history: HistoryFacts, settings: ClassifySettings): RstPositionFacts {
  const { conn: c, history: h, rstPresent, firstRstBy } = input;
  const { origSyn, origData, payloadEitherWay: payload, durationS } = history;
  const respSynAck = hasLetter(h, 'responder', 'h');
  const origAck = hasLetter(h, 'originator', 'a');
  const respAck = hasLetter(h, 'responder', 'a');
  const finBeforeRst = rstPresent && beforeFirstRst(input, 'f');
  // REJ is not enough: after a SYN-ACK (`h`) the responder's RST answers something later, not the SYN.
  const firstRespRst = h.events.find((e) => e.side === 'responder' && e.letter === 'r');
  const synAckBeforeRespRst = h.events.some((e) => e.side === 'responder' && e.letter === 'h' && (firstRespRst === undefined || e.index < firstRespRst.index));
  const onlyLetters = (side: Side, allowed: string): boolean => h.events.every((e) => e.side !== side || allowed.includes(e.letter));
  return {
    rstPresent,
    rstSender: senderOf(h, input.rstHeaders),
    firstRstBy,
    rstLettersHistory: input.rstLetters,
    repeatedRstHistory: countLetter(h, 'originator', 'r') >= 2 || countLetter(h, 'responder', 'r') >= 2,
    rstCount: Math.max(input.rstLetters, input.rstHeaders.length),
    finBeforeRst,
    rstAnswersSyn:
      rstPresent &&
      !synAckBeforeRespRst &&
      (c.connState === 'REJ' || (origSyn && !respSynAck && !payload && firstRstBy === 'responder' && !hasLetter(h, 'responder', 'a'))),
    acceptQueueShape: rstPresent && origSyn && respSynAck && origAck && firstRstBy === 'responder' && !payload && !finBeforeRst && input.unsent === undefined,
    halfOpenScanShape: rstPresent && origSyn && respSynAck && firstRstBy === 'originator' && !origAck && !payload && !finBeforeRst,
    connectScanShape:
      rstPresent && origSyn && respSynAck && origAck && firstRstBy === 'originator' && !payload && (durationS ?? 0) <= settings.connectScanMaxDurationS,
    challengeAckShape: rstPresent && onlyLetters('originator', 'sr') && origSyn && onlyLetters('responder', 'a') && respAck && firstRstBy === 'originator',
    midStreamData: rstPresent && !origSyn && !respSynAck && origData && firstRstBy === 'responder',
    noSynOnlyResets: rstPresent && !origSyn && !payload,
  };
}
