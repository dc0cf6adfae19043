import { produceRequests } from './repartition';

describe('repartition produce requests', () => {
  it('bound every message and every partition record batch, and keep each partition in order', () => {
    const line = (p: number, i: number): string => `${p}:${i}:${'x'.repeat(90)}`; // 96 bytes + newline
    const lines = new Map([0, 1].map((p) => [p, Array.from({ length: 50 }, (_, i) => line(p, i))]));
    const requests = produceRequests(lines, { messageBytes: 1000, requestPartitionBytes: 3000 });
    for (const r of requests) {
      for (const m of r) expect(m.value.length).toBeLessThanOrEqual(1000);
      for (const p of [0, 1]) expect(r.filter((m) => m.partition === p).reduce((n, m) => n + m.value.length, 0)).toBeLessThanOrEqual(3000);
    }
    for (const p of [0, 1]) {
      const back = requests.flatMap((r) => r.filter((m) => m.partition === p).flatMap((m) => m.value.toString().split('\n')));
      expect(back).toEqual(lines.get(p));
    }
    expect(requests.length).toBeGreaterThan(1);
  });
});
