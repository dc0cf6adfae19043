/** Writes the README's rule table from src/classify/rules/index.ts (`npm run rules-table`). */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { RULES } from '../src/classify/rules';
import { withRulesTable } from '../src/classify/rules/table';

const file = path.resolve(__dirname, '..', 'README.md');
const next = withRulesTable(readFileSync(file, 'utf8'), RULES);
if (next === undefined) {
  process.stderr.write('README.md has no rules-table markers\n');
  process.exit(1);
}
writeFileSync(file, next);
process.stdout.write(`README.md: ${RULES.length} rules\n`);
