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

void t.test('docs/configuration.md lists every stream and bucket Cairn provisions', async (t) => {
  const { BUCKETS, STREAMS } = await import('../../../libs/bus/index.js');
  const doc = await read('docs/configuration.md');
  const table = doc.split(/^## Streams and buckets$/m)[1]?.split(/^## /m)[0] ?? '';
  const rows = table.split('\n').filter((l) => l.startsWith('| '));
  for (const name of Object.values(STREAMS)) {
    t.ok(
      rows.some((r) => r.startsWith(`| ${name} |`)),
      `stream ${name}`,
    );
  }
  for (const name of Object.values(BUCKETS)) {
    t.ok(
      rows.some((r) => r.split('|')[1]?.includes(`\`${name}\``) && r.includes('| KV |')),
      `bucket ${name}`,
    );
  }
});

void t.test('docs/ingest.md says `nats pub` needs the nats CLI, and where to get it', async (t) => {
  const ingest = flat(await read('docs/ingest.md'));
  t.match(ingest, /`nats pub events\.track/);
  t.match(ingest, /`nats` is the NATS command-line tool, installed apart from Cairn/);
  t.match(ingest, /github\.com\/nats-io\/natscli/);
});

void t.test(
  'README names the Node.js line, and what package.json engines and the lockfile say',
  async (t) => {
    const readme = flat(await read('README.md'));
    const pkg = JSON.parse(await read('package.json')) as { engines: { node: string } };
    const lock = JSON.parse(await read('package-lock.json')) as {
      packages: Record<string, { engines?: { node?: string } }>;
    };
    t.match(readme, /## Start here \(a fresh machine: Node\.js 22 LTS or newer, npm, make\)/);
    t.equal(pkg.engines.node, '>=20');
    t.equal(lock.packages['']?.engines?.node, pkg.engines.node, 'the lockfile agrees');
    t.match(readme, new RegExp(`Node 20 \\(\`engines: ${pkg.engines.node}\`\\) still runs`));
    // The dependencies README names as wanting Node 22 do, in the lockfile.
    for (const dep of ['@nats-io/nuid', 'cookie']) {
      t.match(readme, `\`${dep}\``);
      t.match(lock.packages[`node_modules/${dep}`]?.engines?.node, /22/, `${dep} declares Node 22`);
    }
  },
);
