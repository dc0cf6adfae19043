/**
 * A bounded pool of equal strings: the decoders hand out one string object per distinct value
 * instead of the fresh copy each record's bytes decode to.
 *
 * A busy headers topic repeats the same few values in every record of a flow (its Community ID,
 * both addresses, the sensor), and the correlator keeps the headers for the late window, so each
 * fresh copy is an object the collector copies out of the young generation and then keeps. One
 * string per value is cheaper to keep, and a value already in the pool of checked addresses
 * (packet-header.ts) has passed `isIp` once and need not again.
 *
 * Bounded: past `max` values the pool starts again empty, so memory stays flat under any stream.
 * It only changes which string object a record holds, never its value.
 */
export class StringPool {
  private readonly values = new Map<string, string>();

  constructor(private readonly max: number) {}

  /** The pooled string equal to `s`, or undefined. */
  get(s: string): string | undefined {
    return this.values.get(s);
  }

  /** Pools `s` (a value the caller has checked, for a pool of checked values) and returns it. */
  add(s: string): string {
    if (this.values.size >= this.max) this.values.clear();
    this.values.set(s, s);
    return s;
  }

  /** The pooled string equal to `s`, pooling `s` first when there is none. */
  intern(s: string): string {
    return this.values.get(s) ?? this.add(s);
  }

  get size(): number {
    return this.values.size;
  }
}
