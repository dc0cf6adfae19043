import type { PacketHeader } from '../domain';
import { createHostBaselineStore, hopsFromTtl, initialTtlClass, ipIdBehaviour, mode } from './baseline';

function packet(tsUs: number, ipTtl: number, ipId: number, tcpFlags = 0x10): PacketHeader {
  return {
    tsUs, sensor: null, srcIp: '10.0.0.1', dstIp: '10.0.0.2', srcPort: 80, dstPort: 40000, ipVersion: 4,
    ipTtl, ipId, tcpFlags, seq: 1, ack: 1, window: 1024, payloadLen: 0, communityId: '1:x',
  };
}

describe('baselines', () => {
  it('puts a TTL in the smallest initial class >= it', () => {
    expect([1, 32, 33, 52, 57, 64, 65, 124, 128, 129, 251, 255].map(initialTtlClass)).toEqual([32, 32, 64, 64, 64, 64, 128, 128, 128, 255, 255, 255]);
    expect(hopsFromTtl(52)).toBe(12); // ldap client data packets
    expect(hopsFromTtl(251)).toBe(4); // ldap RST
  });

  it('tells increasing, zero and random IP IDs apart', () => {
    expect(ipIdBehaviour([31756, 31757, 49424, 49425, 49426, 49427, 49428])).toBe('increasing');
    expect(ipIdBehaviour([0, 0, 0, 0])).toBe('zero');
    expect(ipIdBehaviour([65534, 65535, 0, 1])).toBe('increasing'); // wraps
    expect(ipIdBehaviour([5, 40000, 1200, 61000, 300])).toBe('random');
    expect(ipIdBehaviour([1, 2])).toBe('unknown');
  });

  it('takes the mode of TTLs', () => {
    expect(mode([251, 251, 52, 52, 52, 52, 52])).toBe(52);
    expect(mode([])).toBeUndefined();
  });

  it('reads a host baseline as of a capture time, whatever order the packets arrived in', () => {
    const early = [packet(1_000, 60, 100), packet(2_000, 60, 101), packet(3_000, 60, 102)];
    const late = [packet(10_000, 120, 9000), packet(11_000, 120, 9001), packet(12_000, 120, 9002), packet(13_000, 120, 9003)];
    const inOrder = createHostBaselineStore(10, 16);
    const shuffled = createHostBaselineStore(10, 16);
    for (const p of [...early, ...late]) inOrder.observe(p);
    for (const p of [...late, ...early].reverse()) shuffled.observe(p);
    for (const store of [inOrder, shuffled]) {
      expect(store.get(undefined, '10.0.0.1', 5_000)).toMatchObject({ ttl: 60, lastIpId: 102, samples: 3, ipIdBehaviour: 'increasing' });
      expect(store.get(undefined, '10.0.0.1', 20_000)).toMatchObject({ ttl: 120, lastIpId: 9003, samples: 7 });
      expect(store.get(undefined, '10.0.0.1', 500)).toBeUndefined();
    }
  });

  it('ignores RSTs and keeps only the latest samples per host', () => {
    const store = createHostBaselineStore(10, 2);
    store.observe(packet(1_000, 60, 1));
    store.observe(packet(2_000, 250, 2, 0x04)); // a RST never feeds the baseline
    store.observe(packet(3_000, 61, 3));
    store.observe(packet(4_000, 61, 4));
    expect(store.get(undefined, '10.0.0.1', 10_000)).toMatchObject({ ttl: 61, samples: 2, lastIpId: 4 });
  });

  it('keys host baselines by observer and IP: two sites with the same private range never share one', () => {
    const store = createHostBaselineStore(10, 16);
    for (let i = 0; i < 3; i++) store.observe({ ...packet(1_000 + i, 64, 10 + i), sensor: 'site-a' });
    for (let i = 0; i < 3; i++) store.observe({ ...packet(1_000 + i, 120, 500 + i), sensor: 'site-b' });
    expect(store.get('site-a', '10.0.0.1', 5_000)).toMatchObject({ ttl: 64, samples: 3 });
    expect(store.get('site-b', '10.0.0.1', 5_000)).toMatchObject({ ttl: 120, samples: 3 });
    expect(store.get('site-c', '10.0.0.1', 5_000)).toBeUndefined();
    // Headers without a sensor serve any observer without samples of its own.
    store.observe(packet(1_000, 50, 1));
    expect(store.get('site-c', '10.0.0.1', 5_000)).toMatchObject({ ttl: 50 });
    expect(store.get('site-a', '10.0.0.1', 5_000)).toMatchObject({ ttl: 64 });
  });

  it('keeps every host apart past its cap, where its memo of keys starts again', () => {
    // 3 hosts at most: the memo of observer|ip keys (2 x the cap) is cleared several times over 40 hosts.
    const store = createHostBaselineStore(3, 16);
    const at = (i: number): PacketHeader => ({ ...packet(1_000 + i, 30 + i, i), srcIp: `10.0.1.${i}`, sensor: i % 2 === 0 ? 'site-a' : 'site-b' });
    for (let i = 0; i < 40; i++) store.observe(at(i));
    expect(store.size()).toBe(3);
    for (const i of [37, 38, 39]) expect(store.get(at(i).sensor ?? undefined, `10.0.1.${i}`, 5_000)).toMatchObject({ ttl: 30 + i, samples: 1 });
    expect(store.get('site-b', '10.0.1.35', 5_000)).toBeUndefined();
    expect(store.get('site-b', '10.0.1.38', 5_000)).toBeUndefined(); // its sensor is site-a
  });
});
