/**
 * Unique names per test, so tests never share a topic, consumer group or index (and a rerun
 * never sees the previous run's data). Valid for Kafka topics and group ids ([a-z0-9._-]) and
 * for Elasticsearch indices (lowercase, not starting with - _ +).
 */
import { randomBytes } from 'node:crypto';

function sanitize(label: string): string {
  const cleaned = label.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[-_.+]+/, '').slice(0, 60);
  return cleaned === '' ? 'test' : cleaned;
}

/** `zrst-<label>-<worker>-<random>`: unique across jest workers, runs and checkouts. */
export function uniqueName(label: string): string {
  const worker = process.env.JEST_WORKER_ID ?? '0';
  return `zrst-${sanitize(label)}-w${worker}-${randomBytes(5).toString('hex')}`;
}

export const uniqueTopic = (label: string): string => uniqueName(`t-${label}`);
export const uniqueGroup = (label: string): string => uniqueName(`g-${label}`);
export const uniqueIndex = (label: string): string => uniqueName(`i-${label}`);
