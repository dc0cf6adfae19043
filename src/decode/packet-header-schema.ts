/**
 * The reader schema for sampled packet headers: schemas/packet_header.avsc (record
 * zeek_rst.PacketHeader, docs/inputs.md#packet-headers), repeated here because decode does no file I/O.
 * packet-header.test.ts checks that the two stay identical (fields, types, defaults, logical types).
 */
import type { Schema } from 'avsc';

export const PACKET_HEADER_SCHEMA: Schema = {
  type: 'record',
  name: 'PacketHeader',
  namespace: 'zeek_rst',
  fields: [
    { name: 'ts', type: { type: 'long', logicalType: 'timestamp-micros' } },
    { name: 'sensor', type: ['null', 'string'], default: null },
    { name: 'src_ip', type: 'string' },
    { name: 'dst_ip', type: 'string' },
    { name: 'src_port', type: 'int' },
    { name: 'dst_port', type: 'int' },
    { name: 'ip_version', type: 'int' },
    { name: 'ip_ttl', type: 'int' },
    { name: 'ip_id', type: ['null', 'int'] },
    { name: 'tcp_flags', type: 'int' },
    { name: 'seq', type: 'long' },
    { name: 'ack', type: 'long' },
    { name: 'window', type: 'int' },
    { name: 'payload_len', type: 'int' },
    { name: 'community_id', type: ['null', 'string'], default: null },
  ],
};
