// The journey core's purity is enforced by lint (STYLE.md rule 2); this proves the rule bites.
import t from 'tap';
import { ESLint } from 'eslint';

const eslint = new ESLint({ cwd: process.cwd() });

// Typed lint needs a path the TypeScript project knows; the text replaces the file's content.
const lint = async (code: string): Promise<string[]> => {
  const [result] = await eslint.lintText(code, { filePath: 'libs/journey/types.ts' });
  return (result?.messages ?? []).map((m) => m.ruleId ?? m.message);
};

const cases: Array<[string, string, string]> = [
  [
    'a node: import',
    "import { readFileSync } from 'node:fs';\nexport const f = readFileSync;\n",
    'no-restricted-imports',
  ],
  [
    'a transport import',
    "import { connect } from '@nats-io/transport-node';\nexport const c = connect;\n",
    'no-restricted-imports',
  ],
  ['the logger', "import pino from 'pino';\nexport const l = pino;\n", 'no-restricted-imports'],
  [
    'another lib',
    "import { loadConfig } from '../config/index.js';\nexport const l = loadConfig;\n",
    'no-restricted-imports',
  ],
  ['Date.now()', 'export const now = (): number => Date.now();\n', 'no-restricted-properties'],
  ['Math.random()', 'export const r = (): number => Math.random();\n', 'no-restricted-properties'],
  ['new Date()', 'export const d = (): Date => new Date();\n', 'no-restricted-syntax'],
  ['setTimeout', 'export const s = (f: () => void): unknown => setTimeout(f, 1);\n', 'no-restricted-globals'],
];

for (const [name, code, rule] of cases) {
  void t.test(`libs/journey refuses ${name}`, async (t) => {
    t.ok((await lint(code)).includes(rule), `${rule} reported`);
  });
}

void t.test('pure code passes', async (t) => {
  t.same(await lint('export const add = (a: number, b: number): number => a + b;\n'), []);
});
