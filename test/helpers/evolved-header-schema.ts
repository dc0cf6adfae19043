/**
 * The packet-header schema of a sensor upgraded before zeek-rst: the reader's
 * (src/decode/packet-header-schema.ts) with one more optional field, `vlan`. Avro resolution
 * must read its records with the reader schema, dropping the field (docs/inputs.md, "Schema
 * evolution"). Shared by the codec, configuration and pipeline tests of schema evolution.
 */
import { Type, type Schema } from 'avsc';

import { PACKET_HEADER_SCHEMA } from '../../src/decode/packet-header-schema';

const readerFields = (Type.forSchema(PACKET_HEADER_SCHEMA).schema() as { fields: readonly unknown[] }).fields;

export const EVOLVED_HEADER_SCHEMA = {
  type: 'record',
  name: 'PacketHeader',
  namespace: 'zeek_rst',
  fields: [...readerFields, { name: 'vlan', type: ['null', 'int'], default: null }],
} as Schema;

/** A writer of that schema. */
export const evolvedHeaderType = Type.forSchema(EVOLVED_HEADER_SCHEMA);
