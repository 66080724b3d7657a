// Lint rules of the house (STYLE.md): no floating promises, no import cycles, one public
// entry per lib, and a pure journey core.
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';

const IMPURE_MODULES = [
  'node:*',
  '@nats-io/*',
  'pino',
  'pino-*',
  'prom-client',
  'msgpackr',
  'undici',
  'fastify',
  'fs',
  'path',
  'crypto',
  'os',
  'net',
  'http',
  'https',
  'child_process',
  'timers',
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.tap/**', '.cairn/**', 'bench/results/**'] },
  {
    files: ['**/*.ts', '**/*.tsx'],
    extends: [tseslint.configs.recommendedTypeChecked],
    plugins: { 'import-x': importX },
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'import-x/no-cycle': 'error',
      // Another lib's inner files are private: import its index.
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(\\.\\./)+(libs/)?(journey|events|bus|telemetry|config|insight)/(?!index\\.js$).+',
              message: 'Import another lib through its index.js (STYLE.md rule 1).',
            },
          ],
        },
      ],
    },
  },
  {
    // Services never import each other (the CLI composes them, and the admin API shares the
    // CLI's operations: services/cli/operations.ts); shared code goes in a lib.
    files: ['services/**/*.ts'],
    ignores: ['services/cli/**', 'services/admin/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(\\.\\./)+(libs/)?(journey|events|bus|telemetry|config|insight)/(?!index\\.js$).+',
              message: 'Import another lib through its index.js (STYLE.md rule 1).',
            },
            {
              regex: '^\\.\\./(ingest|matcher|timer|sender|cli)/',
              message: 'Services never import each other; move shared code to a lib.',
            },
          ],
        },
      ],
    },
  },
  {
    // The console is bundled for the browser: it imports the journey lib's pure, dependency-free
    // modules (graph, types) directly, since the index would bring the parser (yaml, zod) along.
    files: ['console/**/*.ts', 'console/**/*.tsx'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex:
                '^(\\.\\./)+(libs/)?(journey|events|bus|telemetry|config)/(?!(index|graph|types)\\.js$).+',
              message: 'The console imports only the pure graph.js and types.js of libs/journey.',
            },
            { group: ['node:*'], message: 'The console runs in the browser.' },
          ],
        },
      ],
    },
  },
  {
    // The journey core is pure: no I/O, no clock, no randomness (STYLE.md rule 2).
    files: ['libs/journey/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: IMPURE_MODULES,
              message: 'libs/journey is pure: no I/O, transport, logging or metrics.',
            },
            {
              regex: '^(\\.\\./)+(events|bus|telemetry|config)(/|$)',
              message: 'libs/journey depends on no other lib.',
            },
          ],
        },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'Time arrives as an argument (ctx.now).' },
        {
          object: 'Math',
          property: 'random',
          message: 'Randomness must be a deterministic function of ids.',
        },
        { object: 'performance', property: 'now', message: 'Time arrives as an argument (ctx.now).' },
      ],
      'no-restricted-globals': [
        'error',
        ...[
          'setTimeout',
          'setInterval',
          'setImmediate',
          'queueMicrotask',
          'process',
          'fetch',
          'crypto',
          'performance',
          'require',
        ].map((name) => ({ name, message: `libs/journey is pure: no ${name}.` })),
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: "NewExpression[callee.name='Date'][arguments.length=0]",
          message: 'new Date() reads the clock; pass ctx.now.',
        },
        { selector: "CallExpression[callee.name='Date']", message: 'Date() reads the clock; pass ctx.now.' },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
  },
);
