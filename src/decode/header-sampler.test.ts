import { TCP_FLAGS } from '../domain';
import { createHeaderSampler, sampleHash } from './header-sampler';

/** The documented hash, written again with BigInt arithmetic from the file comment's description. */
function referenceHash(id: string, index: number): number {
  const M = 0xffffffffn;
  let h = 0x811c9dc5n;
  const bytes = [...Buffer.from(id, 'utf8'), index & 0xff, (index >>> 8) & 0xff, (index >>> 16) & 0xff, (index >>> 24) & 0xff];
  for (const b of bytes) h = ((h ^ BigInt(b)) * 0x01000193n) & M;
  h ^= h >> 16n;
  h = (h * 0x85ebca6bn) & M;
  h ^= h >> 13n;
  h = (h * 0xc2b2ae35n) & M;
  h ^= h >> 16n;
  return Number(h);
}

describe('header sampler', () => {
  it('the hash is FNV-1a 32 over the Community ID and the index, then fmix32', () => {
    for (const [id, i] of [['1:LQU9qZlK+B5F3KDmev6m5PMibrg=', 0], ['1:LQU9qZlK+B5F3KDmev6m5PMibrg=', 1], ['', 0], ['1:x', 0xffffffff], ['1:é', 7], ['1:aé€😀z', 3], ['é', 0]] as const) {
      expect(sampleHash(id, i)).toBe(referenceHash(id, i));
    }
  });

  it('keeps every SYN, FIN and RST, and exactly the packets whose hash is 0 mod N', () => {
    const s = createHeaderSampler({ oneIn: 4 });
    const id = '1:abc';
    const kept: number[] = [];
    for (let i = 0; i < 200; i++) if (s.keep(id, TCP_FLAGS.ACK)) kept.push(i);
    expect(kept).toEqual(Array.from({ length: 200 }, (_, i) => i).filter((i) => referenceHash(id, i) % 4 === 0));
    expect(kept.length).toBeGreaterThan(20);
    for (const f of [TCP_FLAGS.SYN, TCP_FLAGS.SYN | TCP_FLAGS.ACK, TCP_FLAGS.FIN | TCP_FLAGS.ACK, TCP_FLAGS.RST, TCP_FLAGS.RST | TCP_FLAGS.ACK]) {
      expect(s.keep(id, f)).toBe(true);
    }
    const all = createHeaderSampler({ oneIn: 1 });
    for (let i = 0; i < 50; i++) expect(all.keep(id, TCP_FLAGS.ACK)).toBe(true);
  });

  it('indexes each flow on its own: interleaving with other flows changes nothing', () => {
    const alone = createHeaderSampler({ oneIn: 8 });
    const mixed = createHeaderSampler({ oneIn: 8 });
    const a: boolean[] = [];
    const b: boolean[] = [];
    for (let i = 0; i < 300; i++) {
      a.push(alone.keep('1:flow-a', TCP_FLAGS.ACK));
      mixed.keep(`1:noise-${i % 7}`, TCP_FLAGS.ACK);
      b.push(mixed.keep('1:flow-a', TCP_FLAGS.ACK));
    }
    expect(b).toEqual(a);
  });

  it('bounds its flow table: least recently seen flows go first, counted', () => {
    const s = createHeaderSampler({ oneIn: 64, maxFlows: 2 });
    s.keep('1:a', 0x10);
    s.keep('1:b', 0x10);
    s.keep('1:a', 0x10); // a is now the most recent
    s.keep('1:c', 0x10); // evicts b
    expect([s.trackedFlows, s.evictedFlows]).toEqual([2, 1]);
    for (let i = 0; i < 1000; i++) s.keep(`1:f${i}`, 0x10);
    expect([s.trackedFlows, s.evictedFlows]).toEqual([2, 1001]);
  });

  it('rejects a bad rate', () => {
    expect(() => createHeaderSampler({ oneIn: 0 })).toThrow(RangeError);
  });
});
