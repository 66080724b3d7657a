// What README and docs/ tell a newcomer, checked against what the code does.
import { readFile } from 'node:fs/promises';

import t from 'tap';

const read = (path: string): Promise<string> =>
  readFile(new URL(`../../../${path}`, import.meta.url), 'utf8');
/** The text with line breaks and indentation folded into single spaces. */
const flat = (text: string): string => text.replace(/\s+/g, ' ');

void t.test('README says exactly when cairn up starts its own nats-server', async (t) => {
  const readme = flat(await read('README.md'));
  // upConnection: a local server only when no URL was given and the default does not answer.
  t.match(readme, /only when `NATS_URL` is unset and nothing answers at that default/);
  t.match(readme, /A `NATS_URL` that does not answer is an error/);
  t.notMatch(readme, /starts everything with an embedded nats-server/);
});
