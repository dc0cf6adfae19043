/**
 * The correlator's state as changelog entries (docs/delivery.md, "State in Kafka").
 *
 * State is kept per flow, the Community ID: a flow's stored headers (waiting or joined) are one
 * entry, keyed `f|<community id>`, and each of its conns (pending or written, with its weirds)
 * is one entry, keyed `c|<length>|<community id>|<observer>|<uid>`. Both are partitioned by the Community
 * ID, so a changelog partitioned like that lines up with a topic repartitioned by it. A conn has
 * its own entry, not a place in its flow's, because a flow can hold many conns at once (a DNS
 * resolver's fixed port, retries on one 4-tuple), and a change to one of them would otherwise
 * rewrite them all. The rest is keyed by what it belongs to: weirds still waiting for their
 * conn (`w|<observer>|<uid>`), the last close of a 4-tuple (`r|<4-tuple>`), a host's TTL / IP ID
 * samples (`b|<host>`), and the stream times (`s`).
 *
 * Every entry carries `seq`s, the order in which the correlator inserted what it holds, so that a
 * restored correlator evicts and expires in the same order as the one that wrote the entries.
 * Processing-time deadlines are not state: a restored conn waits one grace again.
 *
 * Plain JSON values (records are plain objects). Pure: no I/O.
 */
import type { ConnRecord, PacketHeader, PreviousClose, WeirdRecord } from '../domain';

/** One conn of a flow: waiting for its evidence (`p`) or written and open to late evidence (`e`). */
export interface FlowConnState {
  /** The correlator's key of the conn (observer + uid). */
  readonly key: string;
  readonly seq: number;
  readonly stage: 'p' | 'e';
  readonly conn: ConnRecord;
  readonly weirds: readonly WeirdRecord[];
  /** Written conns: the headers of its last document, as seqs of the flow's headers or, for headers the flow no longer holds, in full. */
  readonly headers?: readonly (number | PacketHeader)[];
  readonly previousClose?: PreviousClose;
  /** Written conns: late evidence arrived and its update is not written yet. */
  readonly dirty?: true;
}

export interface StoredHeaderState {
  readonly seq: number;
  readonly header: PacketHeader;
  readonly joined: boolean;
}

export type StateValue =
  | {
      readonly t: 'flow';
      readonly headers: readonly StoredHeaderState[];
      /** Only in entries written before conns had their own (`c|`) entries; a restore moves them there. */
      readonly conns?: readonly FlowConnState[];
    }
  | ({ readonly t: 'conn' } & FlowConnState)
  | { readonly t: 'weirds'; readonly key: string; readonly seq: number; readonly observer?: string; readonly list: readonly WeirdRecord[]; readonly latestTsUs: number }
  | { readonly t: 'close'; readonly key: string; readonly seq: number; readonly close: PreviousClose }
  | { readonly t: 'host'; readonly key: string; readonly seq: number; readonly samples: readonly HostSampleState[] }
  | { readonly t: 'stream'; readonly streamUs: number | null; readonly byObserver: readonly (readonly [string, number])[] };

/** One non-RST packet of a host, as its baseline keeps it. */
export interface HostSampleState {
  readonly tsUs: number;
  readonly ttl: number;
  readonly ipId: number | null;
}

/** One change: the entry's new value, or null when the correlator no longer holds anything under the key. */
export interface StateChange {
  readonly key: string;
  readonly value: StateValue | null;
}

export const STREAM_KEY = 's';
export const flowKey = (communityId: string): string => `f|${communityId}`;
/** The Community ID goes first, its length before it: it comes from the input and may hold anything. */
export const connEntryKey = (communityId: string, connKey: string): string => `c|${communityId.length}|${communityId}|${connKey}`;
export const weirdsKey = (connKey: string): string => `w|${connKey}`;
export const closeKey = (tupleKey: string): string => `r|${tupleKey}`;
export const hostKey = (host: string): string => `b|${host}`;

/**
 * The Community ID an entry's key belongs to, for partitioning the changelog like the flows:
 * flows and their conns by their Community ID, everything else by its own key.
 */
export function partitionKeyOf(key: string): string {
  if (key.startsWith('f|')) return key.slice(2);
  if (key.startsWith('c|')) {
    const bar = key.indexOf('|', 2);
    return key.slice(bar + 1, bar + 1 + Number(key.slice(2, bar)));
  }
  return key;
}
