// Lint for the whole monorepo. The module-boundary rule is the point: every Nx project carries a
// type tag, and the arrows between types are fixed here, so a wrong import is a lint error:
//   domain  (telemetry, rules, reports) pure: no framework, no I/O
//   core    (use cases + ports)     domain only; no driver, socket or file system
//   store   (store-sqlite,          implements core's store ports; never an edge or the API
//            store-postgres)
//   edge    (edge-mqtt, edge-hj212) a device edge over core; never a store, another edge or the API
//   adapter (influx, notify,        outbound adapters over core
//            report-formats)
//   api     (HTTP controllers)      core only: reaches stores and edges through ports
//   app / tool                      composition: anything
//   ui      (apps/console)          the browser console: domain libs at most; the API over HTTP
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import nx from '@nx/eslint-plugin';

const io = [
  'better-sqlite3',
  'pg',
  'umzug',
  'aedes',
  'mqtt',
  'fs',
  'node:fs',
  'net',
  'node:net',
  'http',
  'node:http',
  'child_process',
  'node:child_process',
];
const frameworks = ['@nestjs/*', 'express', 'prom-client', 'nestjs-pino', 'pino'];

export default tseslint.config(
  { ignores: ['**/dist', '**/node_modules', '**/tmp', '**/coverage'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            {
              sourceTag: 'type:domain',
              onlyDependOnLibsWithTags: ['type:domain'],
              bannedExternalImports: [...io, ...frameworks],
            },
            {
              sourceTag: 'type:core',
              onlyDependOnLibsWithTags: ['type:domain', 'type:core'],
              bannedExternalImports: io,
            },
            {
              sourceTag: 'type:store',
              onlyDependOnLibsWithTags: ['type:domain', 'type:core'],
              bannedExternalImports: ['aedes', 'mqtt', 'net', 'node:net', 'http', 'node:http'],
            },
            {
              sourceTag: 'type:edge',
              onlyDependOnLibsWithTags: ['type:domain', 'type:core'],
              bannedExternalImports: ['better-sqlite3', 'pg', 'http', 'node:http'],
            },
            {
              sourceTag: 'type:adapter',
              onlyDependOnLibsWithTags: ['type:domain', 'type:core'],
              bannedExternalImports: ['better-sqlite3', 'pg', 'aedes', 'mqtt', 'net', 'node:net'],
            },
            {
              sourceTag: 'type:api',
              onlyDependOnLibsWithTags: ['type:domain', 'type:core'],
              bannedExternalImports: ['better-sqlite3', 'pg', 'aedes', 'mqtt', 'net', 'node:net'],
            },
            {
              sourceTag: 'type:app',
              onlyDependOnLibsWithTags: [
                'type:domain',
                'type:core',
                'type:store',
                'type:edge',
                'type:adapter',
                'type:api',
              ],
            },
            // The console runs in a browser: it may share pure domain code, nothing with I/O or Nest.
            { sourceTag: 'type:ui', onlyDependOnLibsWithTags: ['type:domain'] },
            {
              sourceTag: 'type:tool',
              onlyDependOnLibsWithTags: [
                'type:domain',
                'type:core',
                'type:store',
                'type:edge',
                'type:adapter',
                'type:api',
              ],
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: {
        module: 'writable',
        require: 'readonly',
        __dirname: 'readonly',
        process: 'readonly',
        console: 'readonly',
      },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['**/*.spec.ts', '**/test/**/*.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
);
