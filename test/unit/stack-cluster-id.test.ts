import { newClusterId } from '../../scripts/stack/kafka';

describe('Kafka cluster id for the local stack', () => {
  it('never starts with "-", which the storage tool would parse as an option', () => {
    // 0xf8 as first byte encodes to '-' as the first base64url character.
    const draws = [Buffer.alloc(16, 0xf8), Buffer.alloc(16, 0xf8), Buffer.alloc(16, 0x11)];
    let calls = 0;
    const id = newClusterId(() => draws[calls++] ?? Buffer.alloc(16, 0x22));
    expect(Buffer.alloc(16, 0xf8).toString('base64url').startsWith('-')).toBe(true);
    expect(calls).toBe(3);
    expect(id).toBe(Buffer.alloc(16, 0x11).toString('base64url'));
    expect(id).toHaveLength(22);
  });
});
