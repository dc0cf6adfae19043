import { fetchCommittedLag } from './committed-lag';

type AdminPart = Parameters<typeof fetchCommittedLag>[0];

/** The two admin calls, answering as a broker does (offsets as strings, -1 = no commit). */
function admin(highs: Record<string, { partition: number; low: string; high: string }[]>, committed: Record<string, { partition: number; offset: string }[]>): AdminPart {
  return {
    fetchTopicOffsets: (topic: string) => Promise.resolve((highs[topic] ?? []).map((h) => ({ ...h, offset: h.high }))),
    fetchOffsets: ({ topics }: { groupId: string; topics?: string[] }) =>
      Promise.resolve((topics ?? []).map((topic) => ({ topic, partitions: (committed[topic] ?? []).map((p) => ({ ...p, metadata: null })) }))),
  };
}

describe('committed-offset lag', () => {
  it('is the high watermark minus the committed offset, per partition; from the low watermark without a commit', async () => {
    const lag = await fetchCommittedLag(
      admin({ conn: [{ partition: 0, low: '0', high: '1000' }, { partition: 1, low: '200', high: '900' }], headers: [{ partition: 0, low: '0', high: '50' }] }, { conn: [{ partition: 0, offset: '960' }, { partition: 1, offset: '-1' }], headers: [{ partition: 0, offset: '50' }] }),
      'g',
      ['conn', 'headers', 'conn'],
    );
    expect(lag.map((l) => [l.topic, l.partition, l.lag])).toEqual([['conn', 0, 40], ['conn', 1, 700], ['headers', 0, 0]]);
    expect(lag[1]?.committed).toBeUndefined();
  });

  it('never reports a negative lag (a commit racing a watermark read)', async () => {
    const lag = await fetchCommittedLag(admin({ t: [{ partition: 0, low: '0', high: '10' }] }, { t: [{ partition: 0, offset: '12' }] }), 'g', ['t']);
    expect(lag[0]?.lag).toBe(0);
  });
});
