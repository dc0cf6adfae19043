import type { ConnRecord } from '../domain';
import type { StateChange, StateValue } from '../correlate/state';
import { createUnackedDocuments } from './unacked';

const conn: ConnRecord = {
  tsUs: 1_000_000,
  uid: 'C1',
  origH: '10.0.0.1',
  origP: 40000,
  respH: '10.0.0.2',
  respP: 80,
  proto: 'tcp',
  durationUs: 1_000,
  history: 'ShR',
  connState: 'RSTO',
  communityId: 'cid',
  source: { kind: 'file', path: 't', line: 1 },
};

const written = (key: string, extra: Partial<Extract<StateValue, { t: 'conn' }>> = {}): StateChange => ({
  key,
  value: { t: 'conn', key, seq: 1, stage: 'e', conn, weirds: [], ...extra },
});
const pending = (key: string): StateChange => ({ key, value: { t: 'conn', key, seq: 1, stage: 'p', conn, weirds: [] } });
const tombstone = (key: string): StateChange => ({ key, value: null });
const isDirty = (c: StateChange | undefined): boolean => c?.value !== null && c?.value?.t === 'conn' && c.value.dirty === true;

describe('documents a checkpoint does not wait for', () => {
  it('passes a change as it is when its conn has no unacknowledged document', () => {
    const u = createUnackedDocuments();
    u.noted('a', 1);
    const c = written('b');
    expect(u.prepare([c], 0)).toEqual({ changes: [c], barrier: 0, markedDirty: 0 });
  });

  it('writes a conn dirty while its document is unacknowledged, and clean again once it is', () => {
    const u = createUnackedDocuments();
    u.noted('a', 1);
    const c = written('a');
    const first = u.prepare([c], 0);
    expect(first.barrier).toBe(0);
    expect(first.markedDirty).toBe(1);
    expect(first.changes).toHaveLength(1);
    expect(isDirty(first.changes[0])).toBe(true);
    expect(u.size()).toBe(1);
    // The correlator's own value is not changed.
    expect(isDirty(c)).toBe(false);

    // Not yet acknowledged: nothing to write.
    expect(u.prepare([], 0).changes).toEqual([]);
    // Acknowledged: the entry as the correlator gave it, once.
    expect(u.prepare([], 1).changes).toEqual([c]);
    expect(u.size()).toBe(0);
    expect(u.prepare([], 1).changes).toEqual([]);
  });

  it('does not write the clean value over a newer change of the conn', () => {
    const u = createUnackedDocuments();
    u.noted('a', 1);
    u.prepare([written('a')], 0);
    // A newer change, passed as it is (its document is acknowledged by now) ...
    const newer = written('a', { seq: 2 });
    const second = u.prepare([newer], 1);
    expect(second.changes).toEqual([newer]);
    // ... and the clean copy of the older value is never written after it.
    expect(u.prepare([], 1).changes).toEqual([]);
  });

  it('waits for the document of a conn it cannot mark: a tombstone or a pending conn', () => {
    const u = createUnackedDocuments();
    u.noted('a', 3);
    u.noted('b', 7);
    const p = u.prepare([tombstone('a'), pending('b')], 0);
    expect(p.barrier).toBe(7);
    expect(p.markedDirty).toBe(0);
    expect(p.changes).toEqual([tombstone('a'), pending('b')]);
    // Acknowledged up to 3: only b's document still holds a barrier.
    expect(u.prepare([tombstone('a'), tombstone('b')], 3).barrier).toBe(7);
    expect(u.prepare([tombstone('b')], 7).barrier).toBe(0);
  });

  it('counts the last document of a conn: an earlier one acknowledged does not clean it', () => {
    const u = createUnackedDocuments();
    u.noted('a', 1);
    u.noted('a', 5);
    u.prepare([written('a')], 0);
    expect(u.prepare([], 4).changes).toEqual([]);
    expect(u.size()).toBe(1);
    expect(u.prepare([], 5).changes).toEqual([written('a')]);
  });

  it('passes a conn the correlator already marked dirty unchanged, and does not clean it later', () => {
    const u = createUnackedDocuments();
    u.noted('a', 1);
    const d = written('a', { dirty: true });
    expect(u.prepare([d], 0)).toEqual({ changes: [d], barrier: 0, markedDirty: 0 });
    expect(u.prepare([], 1).changes).toEqual([]);
  });

  it('keeps its memory to what is unacknowledged across many checkpoints', () => {
    const u = createUnackedDocuments();
    let seq = 0;
    for (let round = 0; round < 20; round++) {
      const changes: StateChange[] = [];
      for (let i = 0; i < 1_000; i++) {
        const key = `k${round}-${i}`;
        u.noted(key, ++seq);
        changes.push(written(key));
      }
      // Everything but the last 500 documents is acknowledged at each cut.
      const p = u.prepare(changes, seq - 500);
      expect(p.markedDirty).toBe(500);
      expect(u.size()).toBe(500);
    }
    // The earlier dirty entries were cleaned as their documents were acknowledged: 500 per round after the first.
    const last = u.prepare([], seq);
    expect(last.changes).toHaveLength(500);
    expect(last.changes.every((c) => !isDirty(c))).toBe(true);
    expect(u.size()).toBe(0);
  });
});
