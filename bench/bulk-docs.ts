/**
 * ECS conn documents for the bulk bench: the bench conn lines (bench/inputs.ts, m57) through the
 * classify pipeline of dist/, as `run` indexes them, repeated with distinct `_id`s up to `count`.
 */
import type * as Correlator from '../src/correlate/correlator';
import type * as Pipeline from '../src/pipeline';
import type { BulkDoc } from './bulk';
import { fromDist } from './dist';
import { connLines, decodeConn } from './inputs';

const { createRecordClock } = fromDist('correlate/correlator') as typeof Correlator;
const { createClassifyPipeline, DEFAULT_PIPELINE_SETTINGS } = fromDist('pipeline') as typeof Pipeline;

export function corpusDocuments(count: number): BulkDoc[] {
  const clock = createRecordClock();
  const p = createClassifyPipeline(DEFAULT_PIPELINE_SETTINGS, clock);
  const base: Pipeline.OutputDoc[] = [];
  for (const raw of connLines) {
    const conn = decodeConn(raw);
    clock.observe(conn.tsUs);
    base.push(...p.addConn(conn).docs);
  }
  base.push(...p.flush().docs);
  return Array.from({ length: count }, (_, i) => {
    const d = base[i % base.length];
    if (d === undefined) throw new Error('bench: no documents');
    return { id: `${d.id}-${Math.floor(i / base.length)}`, body: d.doc };
  });
}
