// Every complete ```yaml example in docs/journeys.md is a valid journey.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { formatIssues, parseJourney } from '../../../libs/journey/index.js';

const text = readFileSync(new URL('../../../docs/journeys.md', import.meta.url), 'utf8');
const blocks = [...text.matchAll(/^```yaml\n([\s\S]*?)^```$/gm)].map((m) => m[1] ?? '');
const fragments = [...text.matchAll(/^```yaml fragment\n/gm)];

void t.test('docs/journeys.md has complete examples and fragments', (t) => {
  t.ok(blocks.length >= 5, `${blocks.length} complete examples`);
  t.ok(fragments.length >= 3, `${fragments.length} fragments`);
  t.end();
});

void t.test('every complete example validates with no errors or warnings', (t) => {
  for (const [i, block] of blocks.entries()) {
    const result = parseJourney(block);
    const issues = result.ok ? result.warnings : [...result.errors, ...result.warnings];
    t.ok(result.ok, `example ${i + 1} (${/^id: (.*)$/m.exec(block)?.[1]}) is valid\n${formatIssues(issues)}`);
    t.same(result.warnings, [], `example ${i + 1} has no warnings`);
  }
  t.end();
});
