/**
 * What every fact group reads (docs/architecture.md, "Rules as data"): the conn, its parsed
 * history, its sampled headers with the side each came from, and every sampled RST judged on its
 * own (rst-evidence.ts). Computed once per connection by `factInput`; the groups in this folder
 * derive their facts from it and never look at the records again.
 */
import type { ConnRecord, Correlated, PacketHeader, RstJudgement, Side } from '../../domain';
import { isRst } from '../../correlate/baseline';
import { firstIndex, firstRstSide, parseHistory, type HistoryLetter, type ParsedHistory } from '../history';
import { firstUnsentAck, headerSide, judgeRsts, type RstEvidenceSettings, type UnsentAck } from '../rst-evidence';

/** A sampled header of the flow with the endpoint it came from. */
export interface SidedHeader {
  readonly side: Side;
  readonly h: PacketHeader;
}

export interface FactInput {
  readonly corr: Correlated;
  readonly conn: ConnRecord;
  readonly history: ParsedHistory;
  /** The flow's headers sent by one of the conn's endpoints, in the correlator's (time) order. */
  readonly sided: readonly SidedHeader[];
  /** The RSTs among them. */
  readonly rstHeaders: readonly SidedHeader[];
  /** Index of the first `R`/`r` in the history, -1 when it has none. */
  readonly firstRIndex: number;
  /** Who sent the first RST: the history's first `R`/`r`, else the first sampled RST. */
  readonly firstRstBy: Side | 'unknown';
  /** `firstRstBy` when known. */
  readonly sender: Side | undefined;
  /** `R` + `r` letters. */
  readonly rstLetters: number;
  /** A RST is in the history or among the sampled headers. */
  readonly rstPresent: boolean;
  /** The conn's distinct weird names, sorted. */
  readonly weirdNames: readonly string[];
  readonly weirdSet: ReadonlySet<string>;
  /** Every sampled RST, in capture order, each judged against its own claimed sender. */
  readonly judged: readonly RstJudgement[];
  /** The first RST proven forged. */
  readonly forged: RstJudgement | undefined;
  /** The RST that decides: the first one proven forged, else the first RST of the side that reset first. */
  readonly deciding: RstJudgement | undefined;
  /** The deciding RST's claimed sender, else the side that reset first. */
  readonly decidingSide: Side | undefined;
  /** The first ACK of a sequence number the peer never sent (a forged segment was received). */
  readonly unsent: UnsentAck | undefined;
}

export function factInput(corr: Correlated, settings: RstEvidenceSettings): FactInput {
  const conn = corr.conn;
  const history = parseHistory(conn.history);
  const sided = corr.headers.flatMap((h) => {
    const side = headerSide(conn, h);
    return side === undefined ? [] : [{ side, h }];
  });
  const rstHeaders = sided.filter((x) => isRst(x.h));
  const firstRstBy: Side | 'unknown' = firstRstSide(history) ?? rstHeaders[0]?.side ?? 'unknown';
  const sender = firstRstBy === 'unknown' ? undefined : firstRstBy;
  const rstLetters = history.events.filter((e) => e.letter === 'r').length;
  const weirdNames = [...new Set(corr.weirds.map((w) => w.name))].sort();
  const judged = judgeRsts(sided, corr.hostBaselines, settings);
  const forged = judged.find((j) => j.origin === 'middlebox');
  const deciding = forged ?? judged.find((j) => j.side === sender);
  return {
    corr,
    conn,
    history,
    sided,
    rstHeaders,
    firstRIndex: firstIndex(history, 'r'),
    firstRstBy,
    sender,
    rstLetters,
    rstPresent: rstLetters > 0 || rstHeaders.length > 0,
    weirdNames,
    weirdSet: new Set(weirdNames),
    judged,
    forged,
    deciding,
    decidingSide: deciding?.side ?? sender,
    unsent: firstUnsentAck(sided, { originator: conn.origIpBytes, responder: conn.respIpBytes }),
  };
}

/** The letter (of `side`, or of either) appears in the history before the first RST, or anywhere when there is none. */
export function beforeFirstRst(input: FactInput, letter: HistoryLetter, side?: Side): boolean {
  const i = firstIndex(input.history, letter, side);
  return i >= 0 && (input.firstRIndex < 0 || i < input.firstRIndex);
}
