/**
 * RstHeaderFacts: the per-RST header evidence (rst-evidence.ts) for the deciding RST and the
 * connection: header coverage, the RST's ACK, TTL and hops, middlebox signals and the origin they
 * give, malformed SYNs, reserved flag bits, ACKs of data never sent.
 */
import { TCP_FLAGS, type Origin, type RstHeaderFacts, type RstPositionFacts } from '../../domain';
import { reasonText, unsentAckText } from '../rst-evidence';
import type { FactInput } from './input';

/** Zeek's weird for payload seen after a RST from the same endpoint. */
export const DATA_AFTER_RESET_WEIRD = 'data_after_reset';

function flagNames(flags: number): string {
  return (Object.keys(TCP_FLAGS) as (keyof typeof TCP_FLAGS)[]).filter((k) => (flags & TCP_FLAGS[k]) !== 0).join('+');
}

export function rstHeaderFacts(input: FactInput, positions: RstPositionFacts): RstHeaderFacts {
  const { conn: c, judged, forged, deciding, unsent } = input;
  const headers = input.corr.headers;
  const rst = deciding?.header;
  const dataAfterRstHeaders = judged.some((j) => j.signals.some((s) => s.kind === 'data_after'));
  const dataAfterRstWeird = input.weirdSet.has(DATA_AFTER_RESET_WEIRD);
  const spread = judged.find((j) => j.seqGap !== undefined);
  const reasons: string[] = (forged?.signals ?? []).map(reasonText);
  if (dataAfterRstWeird && !dataAfterRstHeaders) reasons.push('data from the sender after its RST (weird data_after_reset)');
  const rstFromMiddlebox = reasons.length > 0;
  const rstHasAck = deciding?.hasAck;
  const synRstWithoutAck = positions.rstAnswersSyn && rstHasAck === false;
  const origin: Origin = rst === undefined ? 'unknown' : rstFromMiddlebox || synRstWithoutAck ? 'middlebox' : 'endpoint';
  const badSyn = input.sided.find(
    (x) => x.side === 'originator' && (x.h.tcpFlags & TCP_FLAGS.SYN) !== 0 && (x.h.tcpFlags & (TCP_FLAGS.FIN | TCP_FLAGS.URG | TCP_FLAGS.RST)) !== 0,
  );
  const reservedRst = judged.find((j) => j.signals.some((x) => x.kind === 'reserved_bits'));
  const totalPkts = (c.origPkts ?? 0) + (c.respPkts ?? 0);
  return {
    headersSampled: headers.length,
    headersComplete: headers.length > 0 && c.origPkts !== undefined && c.respPkts !== undefined && headers.length >= totalPkts,
    rstSampled: rst !== undefined,
    rstHasAck,
    rstTtl: deciding?.ttl,
    rstHops: deciding?.hops,
    malformedSynHeader: badSyn !== undefined,
    malformedSynFlags: badSyn === undefined ? undefined : flagNames(badSyn.h.tcpFlags),
    dataAfterRst: dataAfterRstHeaders || dataAfterRstWeird,
    dataAfterRstSource: dataAfterRstHeaders ? 'headers' : dataAfterRstWeird ? 'weird' : undefined,
    rstSeqSpread: spread !== undefined,
    rstSeqGap: spread?.seqGap,
    rstFromMiddlebox,
    middleboxReason: reasons.length === 0 ? undefined : reasons.join('; '),
    synRstWithoutAck,
    origin,
    reservedBitsRst: reservedRst !== undefined,
    reservedBitsFlags: reservedRst?.header.tcpFlags,
    unsentAck: unsent !== undefined,
    unsentAckDetail: unsent === undefined ? undefined : unsentAckText(unsent),
  };
}
