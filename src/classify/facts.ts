/**
 * Every signal a rule may read, derived once per connection (docs/architecture.md: rules read facts, never
 * raw records). Facts are flat scalars so that a rule's evidence template can name and quote the
 * values it used. Evidence strength lives here, not in side branches of the engine.
 */
import { TCP_FLAGS, type Baseline, type ConnRecord, type Correlated, type Facts, type Origin, type RstJudgement, type RstStage, type RstTag, type ScannerFingerprint, type Sender, type Side } from '../domain';
import { baselineOf, isRst } from '../correlate/baseline';
import { matchDevice, type Device, type DeviceMatch } from './devices';
import { countLetter, firstIndex, firstRstSide, hasLetter, logarithmicLowerBound, parseHistory, type ParsedHistory } from './history';
import { idleThresholdFor, type ClassifySettings } from './settings';
import { firstUnsentAck, headerSide, judgeRsts, reasonText, unsentAckText } from './rst-evidence';
import { rstStage, rstTags, scannerFingerprint } from './stage';

/** Weirds Zeek raises when a SYN reuses a 4-tuple it still tracks (docs/verdicts.md, time_wait_reuse). */
export const REUSE_WEIRDS: ReadonlySet<string> = new Set(['active_connection_reuse', 'SYN_after_close', 'SYN_after_reset', 'SYN_seq_jump']);
/** Raised for a SYN after a RST, but also for the responder's SYN-ACK retransmitted after its own RST. */
export const SYN_AFTER_RESET_WEIRD = 'SYN_after_reset';
/** Zeek's checksum weird for TCP. */
export const CHECKSUM_WEIRDS: ReadonlySet<string> = new Set(['bad_TCP_checksum']);
/** Zeek's weird for payload seen after a RST from the same endpoint. */
export const DATA_AFTER_RESET_WEIRD = 'data_after_reset';

/** conn_states that mean "established, then closed or reset" for a previous connection. */
const CLOSED_STATES: ReadonlySet<string> = new Set(['SF', 'S2', 'S3', 'RSTO', 'RSTR']);

export type FactKey = keyof Facts;

function sideIp(c: ConnRecord, side: Side): string {
  return side === 'originator' ? c.origH : c.respH;
}

function flagNames(flags: number): string {
  return (Object.keys(TCP_FLAGS) as (keyof typeof TCP_FLAGS)[]).filter((k) => (flags & TCP_FLAGS[k]) !== 0).join('+');
}

function previousEstablishedClosed(state: string | undefined, history: string | undefined): boolean {
  if (state === undefined || !CLOSED_STATES.has(state)) return false;
  const h = parseHistory(history);
  return hasLetter(h, 'originator', 's') && hasLetter(h, 'responder', 'h') && (hasLetter(h, 'originator', 'a') || hasLetter(h, 'originator', 'd'));
}

function senderOf(h: ParsedHistory, rstHeaders: readonly { side: Side }[]): Sender {
  const o = hasLetter(h, 'originator', 'r') || rstHeaders.some((x) => x.side === 'originator');
  const r = hasLetter(h, 'responder', 'r') || rstHeaders.some((x) => x.side === 'responder');
  if (o && r) return 'both';
  if (o) return 'originator';
  if (r) return 'responder';
  return 'unknown';
}

/** Facts plus what the document reports beside them: every judged RST, the stage and shape tags of the resets. */
export interface DerivedEvidence {
  readonly facts: Facts;
  /** Every sampled RST, in capture order, each with its own origin evidence. */
  readonly resets: readonly RstJudgement[];
  readonly stage: RstStage | undefined;
  readonly tags: readonly RstTag[];
  readonly fingerprint: ScannerFingerprint | undefined;
}

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

export function deriveFacts(corr: Correlated, settings: ClassifySettings, devices: readonly Device[]): Facts {
  return deriveEvidence(corr, settings, devices).facts;
}

export function deriveEvidence(corr: Correlated, settings: ClassifySettings, devices: readonly Device[]): DerivedEvidence {
  const c = corr.conn;
  const h = parseHistory(c.history);
  const sided = corr.headers.flatMap((hd) => {
    const side = headerSide(c, hd);
    return side === undefined ? [] : [{ side, h: hd }];
  });
  const rstHeaders = sided.filter((x) => isRst(x.h));
  const historyFirst = firstRstSide(h);
  const firstRstBy: Side | 'unknown' = historyFirst ?? rstHeaders[0]?.side ?? 'unknown';
  const sender = firstRstBy === 'unknown' ? undefined : firstRstBy;
  const rstLetters = h.events.filter((e) => e.letter === 'r').length;
  const rstPresent = rstLetters > 0 || rstHeaders.length > 0;
  const firstRIndex = firstIndex(h, 'r');
  const before = (letter: Parameters<typeof firstIndex>[1], side?: Side): boolean => {
    const i = firstIndex(h, letter, side);
    return i >= 0 && (firstRIndex < 0 || i < firstRIndex);
  };

  const origSyn = hasLetter(h, 'originator', 's');
  const respSynAck = hasLetter(h, 'responder', 'h');
  const origAck = hasLetter(h, 'originator', 'a');
  const respAck = hasLetter(h, 'responder', 'a');
  // D/d say whether data was exchanged; byte counts are inferred from sequence numbers and can
  // span a content gap (an ACK of data never seen), so they count only without a history.
  const noHistory = h.events.length === 0;
  const origData = hasLetter(h, 'originator', 'd') || (noHistory && (c.origBytes ?? 0) > 0);
  const respData = hasLetter(h, 'responder', 'd') || (noHistory && (c.respBytes ?? 0) > 0);
  const payload = origData || respData;
  const nonRst = (side: Side): boolean => h.events.some((e) => e.side === side && e.letter !== 'r');
  const established = (origSyn && respSynAck) || (nonRst('originator') && nonRst('responder'));
  const finBeforeRst = rstPresent && before('f');
  const durationS = c.durationUs === undefined ? undefined : c.durationUs / 1e6;

  // REJ is not enough: after a SYN-ACK (`h`) the responder's RST answers something later, not the SYN.
  const firstRespRst = h.events.find((e) => e.side === 'responder' && e.letter === 'r');
  const synAckBeforeRespRst = h.events.some((e) => e.side === 'responder' && e.letter === 'h' && (firstRespRst === undefined || e.index < firstRespRst.index));
  const rstAnswersSyn =
    rstPresent &&
    !synAckBeforeRespRst &&
    (c.connState === 'REJ' || (origSyn && !respSynAck && !payload && firstRstBy === 'responder' && !hasLetter(h, 'responder', 'a')));
  const onlyLetters = (side: Side, allowed: string): boolean => h.events.every((e) => e.side !== side || allowed.includes(e.letter));

  // --- every sampled RST, each judged against its own claimed sender (rst-evidence.ts) -----------
  const judged = judgeRsts(sided, corr.hostBaselines, settings);
  const forged = judged.find((j) => j.origin === 'middlebox');
  // The RST that decides: the first one proven forged, else the first RST of the side that reset first.
  const deciding = forged ?? judged.find((j) => j.side === sender);
  const rst = deciding?.header;
  const decidingSide: Side | undefined = deciding?.side ?? sender;
  const senderHeaders = decidingSide === undefined ? [] : sided.filter((x) => x.side === decidingSide).map((x) => x.h);
  const hostBaseline: Baseline | undefined =
    decidingSide === undefined ? undefined : decidingSide === 'originator' ? corr.hostBaselines.orig : corr.hostBaselines.resp;
  const baseline = deciding?.baseline ?? baselineOf(senderHeaders, 'flow') ?? hostBaseline;
  const rstTtl = deciding?.ttl;
  const ttlDelta = deciding?.ttlDelta;
  const rstHops = deciding?.hops;
  const ttlMismatch = judged.some((j) => j.signals.some((s) => s.kind === 'ttl' || s.kind === 'handshake_hops'));
  const ipIdDelta = deciding?.ipIdDelta;
  const ipIdOutOfSequence = deciding?.ipIdOutOfSequence ?? false;

  const weirdNames = [...new Set(corr.weirds.map((w) => w.name))].sort();
  const weirdSet = new Set(weirdNames);
  const dataAfterRstHeaders = judged.some((j) => j.signals.some((s) => s.kind === 'data_after'));
  const dataAfterRstWeird = weirdSet.has(DATA_AFTER_RESET_WEIRD);
  const dataAfterRst = dataAfterRstHeaders || dataAfterRstWeird;
  const spread = judged.find((j) => j.seqGap !== undefined);
  const rstSeqGap = spread?.seqGap;
  const rstSeqSpread = spread !== undefined;
  const reasons: string[] = (forged?.signals ?? []).map(reasonText);
  if (dataAfterRstWeird && !dataAfterRstHeaders) reasons.push('data from the sender after its RST (weird data_after_reset)');
  const rstFromMiddlebox = reasons.length > 0;
  const rstHasAck = deciding?.hasAck;
  const synRstWithoutAck = rstAnswersSyn && rstHasAck === false;
  const origin: Origin = rst === undefined ? 'unknown' : rstFromMiddlebox || synRstWithoutAck ? 'middlebox' : 'endpoint';

  const lastOrigBeforeRst =
    rst === undefined ? undefined : sided.filter((x) => x.side === 'originator' && x.h.tsUs <= rst.tsUs && !isRst(x.h) && (x.h.tcpFlags & TCP_FLAGS.ACK) !== 0).pop()?.h;
  const bareRstForSegment =
    deciding !== undefined && deciding.side === 'responder' && !deciding.hasAck && lastOrigBeforeRst !== undefined && deciding.header.seq === lastOrigBeforeRst.ack;
  const prevEndedBefore = corr.previousClose !== undefined && corr.previousClose.closedTsUs <= c.tsUs;
  const midStreamData = rstPresent && !origSyn && !respSynAck && origData && firstRstBy === 'responder';
  const unknownConnectionReason = bareRstForSegment
    ? `a bare RST with seq ${deciding.header.seq}, the ACK of the originator's segment before it`
    : prevEndedBefore
      ? `the previous connection on this 4-tuple (${corr.previousClose.connState ?? '-'}) had ended before`
      : undefined;
  const reservedRst = judged.find((j) => j.signals.some((x) => x.kind === 'reserved_bits'));
  const unsent = firstUnsentAck(sided, { originator: c.origIpBytes, responder: c.respIpBytes });
  const missed = c.missedBytes ?? 0;
  const gapIsWholeByteCount =
    (hasLetter(h, 'originator', 'g') || hasLetter(h, 'responder', 'g')) && missed > 0 && (missed === (c.origBytes ?? -1) || missed === (c.respBytes ?? -1));

  // --- idle ------------------------------------------------------------------------------------
  let idleBeforeS: number | undefined;
  if (rst !== undefined) {
    const prior = corr.headers.filter((p) => p.tsUs < rst.tsUs);
    const last = prior[prior.length - 1];
    if (last !== undefined) idleBeforeS = (rst.tsUs - last.tsUs) / 1e6;
  }
  const idleThresholdS = idleThresholdFor(settings, c.respP);
  const totalPkts = (c.origPkts ?? 0) + (c.respPkts ?? 0);
  const headersComplete = corr.headers.length > 0 && c.origPkts !== undefined && c.respPkts !== undefined && corr.headers.length >= totalPkts;
  const idleGapArtefactOdds =
    idleBeforeS === undefined || headersComplete ? (idleBeforeS === undefined ? undefined : 0) : samplingGapOdds(corr.headers, totalPkts, durationS, idleBeforeS);
  const longQuietDuration =
    idleBeforeS === undefined &&
    durationS !== undefined &&
    durationS >= idleThresholdS &&
    (c.origPkts ?? Infinity) <= settings.idleMaxPacketsPerSide &&
    (c.respPkts ?? Infinity) <= settings.idleMaxPacketsPerSide;

  // --- retransmissions and checksums ---------------------------------------------------------------
  const senderT = sender === undefined ? 0 : h.events.filter((e) => e.side === sender && e.letter === 't' && (firstRIndex < 0 || e.index < firstRIndex)).length;
  const checksumHistory = before('c');
  const checksumWeird = [...CHECKSUM_WEIRDS].some((n) => weirdSet.has(n));

  // --- malformed SYN, reuse -------------------------------------------------------------------
  const malformedHistoryLetter = h.events.find((e) => e.side === 'originator' && (e.letter === 'q' || e.letter === 'i') && (firstRIndex < 0 || e.index < firstRIndex));
  const badSyn = sided.find(
    (x) => x.side === 'originator' && (x.h.tcpFlags & TCP_FLAGS.SYN) !== 0 && (x.h.tcpFlags & (TCP_FLAGS.FIN | TCP_FLAGS.URG | TCP_FLAGS.RST)) !== 0,
  );
  // SYN_after_reset is also raised by the responder retransmitting its SYN-ACK after its own RST:
  // it means reuse only with a new SYN from the originator (a second S: Zeek logs S again only for
  // a new sequence number; or a sampled originator SYN after a sampled RST).
  const firstRstTs = Math.min(...sided.filter((x) => isRst(x.h)).map((x) => x.h.tsUs));
  const newSynAfterRst =
    countLetter(h, 'originator', 's') >= 2 ||
    sided.some((x) => x.side === 'originator' && (x.h.tcpFlags & (TCP_FLAGS.SYN | TCP_FLAGS.ACK)) === TCP_FLAGS.SYN && x.h.tsUs > firstRstTs);
  const reuseWeird = weirdNames.find((n) => REUSE_WEIRDS.has(n) && (n !== SYN_AFTER_RESET_WEIRD || newSynAfterRst));
  const prev = corr.previousClose;
  const previousCloseAgoS = prev === undefined ? undefined : (c.tsUs - prev.closedTsUs) / 1e6;
  const prevClosed = prev !== undefined && previousEstablishedClosed(prev.connState, prev.history);
  const reuseWithin2Msl = prevClosed && previousCloseAgoS !== undefined && previousCloseAgoS < settings.twoMslS;

  // --- devices ---------------------------------------------------------------------------------
  // The device is matched against the deciding RST's claimed sender (a forged RST may claim the other side).
  const claimed = decidingSide ?? sender;
  const senderIp = claimed === undefined ? c.respH : sideIp(c, claimed);
  const targetIp = claimed === 'responder' ? c.origH : claimed === 'originator' ? c.respH : c.origH;
  let match: DeviceMatch | undefined;
  if (rstFromMiddlebox || synRstWithoutAck) match = matchDevice(devices, senderIp, targetIp, rstHops);
  const rejectMatch = rstAnswersSyn
    ? matchDevice(devices, c.respH, c.origH, rstHops, (d) => d.mode === 'reject' && (d.kind === 'firewall' || d.kind === 'ips'))
    : undefined;
  const attributed = match ?? rejectMatch;

  const facts: Facts = {
    tcp: c.proto === 'tcp',
    observer: c.observer ?? '',
    history: h.raw,
    flipped: h.flipped,
    connState: c.connState ?? '-',
    durationS,
    origPkts: c.origPkts,
    respPkts: c.respPkts,
    origBytes: c.origBytes ?? 0,
    respBytes: c.respBytes ?? 0,
    rstPresent,
    rstSender: senderOf(h, rstHeaders),
    firstRstBy,
    rstLettersHistory: rstLetters,
    repeatedRstHistory: countLetter(h, 'originator', 'r') >= 2 || countLetter(h, 'responder', 'r') >= 2,
    rstCount: Math.max(rstLetters, rstHeaders.length),
    origSyn,
    origData,
    respData,
    payloadEitherWay: payload,
    established,
    finBeforeRst,
    rstAnswersSyn,
    acceptQueueShape: rstPresent && origSyn && respSynAck && origAck && firstRstBy === 'responder' && !payload && !finBeforeRst && unsent === undefined,
    halfOpenScanShape: rstPresent && origSyn && respSynAck && firstRstBy === 'originator' && !origAck && !payload && !finBeforeRst,
    connectScanShape:
      rstPresent && origSyn && respSynAck && origAck && firstRstBy === 'originator' && !payload && (durationS ?? 0) <= settings.connectScanMaxDurationS,
    challengeAckShape: rstPresent && onlyLetters('originator', 'sr') && origSyn && onlyLetters('responder', 'a') && respAck && firstRstBy === 'originator',
    midStreamData,
    rstForUnknownConnection: unknownConnectionReason !== undefined,
    unknownConnectionReason,
    noSynOnlyResets: rstPresent && !origSyn && !payload,
    malformedSynHistory: malformedHistoryLetter !== undefined,
    malformedLetter: malformedHistoryLetter === undefined ? undefined : malformedHistoryLetter.letter === 'q' ? 'Q' : 'I',
    malformedSynHeader: badSyn !== undefined,
    malformedSynFlags: badSyn === undefined ? undefined : flagNames(badSyn.h.tcpFlags),
    reuseWeird,
    previousUid: prev?.uid,
    previousState: prev?.connState,
    previousCloseAgoS,
    twoMslS: settings.twoMslS,
    reuseWithin2Msl,
    headersSampled: corr.headers.length,
    headersComplete,
    rstSampled: rst !== undefined,
    rstHasAck,
    rstTtl,
    expectedTtl: baseline?.ttl,
    ttlDelta,
    rstHops,
    expectedHops: baseline?.hops,
    baselineSource: baseline?.source ?? 'none',
    ipIdBehaviour: baseline?.ipIdBehaviour ?? 'unknown',
    ipIdDelta,
    ipIdOutOfSequence,
    ttlDeltaThreshold: settings.ttlDeltaThreshold,
    ttlMismatch,
    dataAfterRst,
    dataAfterRstSource: dataAfterRstHeaders ? 'headers' : dataAfterRstWeird ? 'weird' : undefined,
    rstSeqSpread,
    rstSeqGap,
    rstFromMiddlebox,
    middleboxReason: reasons.length === 0 ? undefined : reasons.join('; '),
    synRstWithoutAck,
    origin,
    reservedBitsRst: reservedRst !== undefined,
    reservedBitsFlags: reservedRst?.header.tcpFlags,
    unsentAck: unsent !== undefined,
    unsentAckDetail: unsent === undefined ? undefined : unsentAckText(unsent),
    gapIsWholeByteCount,
    idleBeforeS,
    idleThresholdS,
    idleGapExceeded: idleBeforeS !== undefined && idleBeforeS >= idleThresholdS && idleGapArtefactOdds !== undefined && idleGapArtefactOdds <= IDLE_ARTEFACT_MAX_ODDS,
    idleGapArtefactOdds,
    longQuietDuration,
    idleMaxPacketsPerSide: settings.idleMaxPacketsPerSide,
    senderRetransmitLetters: senderT,
    senderRetransmissionsAtLeast: logarithmicLowerBound(senderT),
    retransmitsRepeatedly: senderT >= 2,
    checksumSignal: checksumHistory || checksumWeird,
    checksumSource: checksumHistory ? 'history C/c' : checksumWeird ? 'weird bad_TCP_checksum' : undefined,
    weirdNames: weirdNames.length === 0 ? undefined : weirdNames.join(','),
    deviceName: attributed?.device.name,
    deviceKind: attributed?.device.kind,
    deviceMode: attributed?.device.mode,
    deviceNetwork: attributed?.network,
    deviceExplainsMiddlebox: rstFromMiddlebox && match !== undefined,
    rejectDeviceCoversPath: rejectMatch !== undefined,
  };
  const rstCount = Math.max(rstLetters, rstHeaders.length);
  return {
    facts,
    resets: judged,
    stage: rstPresent ? rstStage(h, sided) : undefined,
    tags: rstPresent ? rstTags(rstCount, sided) : [],
    fingerprint: scannerFingerprint(c, sided),
  };
}
