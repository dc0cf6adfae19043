/**
 * The conns known on each flow (Community ID -> conn keys), as the correlator looks them up for
 * every header and conn of the flow.
 *
 * Most flows have one conn: for those the key itself is the entry, and only a flow with a second
 * conn gets a Set. A Set per flow was about 200 bytes of long-lived heap per flow (its object and
 * its hash table; a heap snapshot of `npm run bench -- state`), which every major collection marks
 * again for as long as the late window keeps the conn.
 */
const NONE: readonly string[] = [];

export class FlowIndex {
  private readonly byCid = new Map<string, string | Set<string>>();

  add(cid: string, key: string): void {
    const held = this.byCid.get(cid);
    if (held === undefined) this.byCid.set(cid, key);
    else if (typeof held === 'string') {
      if (held !== key) this.byCid.set(cid, new Set([held, key]));
    } else held.add(key);
  }

  delete(cid: string, key: string): void {
    const held = this.byCid.get(cid);
    if (held === undefined) return;
    if (typeof held === 'string') {
      if (held === key) this.byCid.delete(cid);
      return;
    }
    held.delete(key);
    if (held.size === 1) this.byCid.set(cid, held.values().next().value as string);
    else if (held.size === 0) this.byCid.delete(cid);
  }

  /**
   * The keys of the flow's conns, in the order they were added. Not to be changed through: callers
   * iterate it, and must not add to or delete from this flow while they do.
   */
  keysOf(cid: string): Iterable<string> {
    const held = this.byCid.get(cid);
    if (held === undefined) return NONE;
    return typeof held === 'string' ? [held] : held;
  }
}
