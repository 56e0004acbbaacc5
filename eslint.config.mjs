// Lint for the whole monorepo. The module-boundary rule is the point: domain libs
// (scope:domain) may import only other domain libs and no framework or I/O package,
// so the reading contract and rule logic stay testable without Nest, MQTT or a database.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import nx from '@nx/eslint-plugin';

const ioAndFrameworks = [
  '@nestjs/*', 'aedes', 'mqtt', 'better-sqlite3', 'express', 'prom-client',
  'fs', 'node:fs', 'net', 'node:net', 'http', 'node:http', 'child_process', 'node:child_process',
];

export default tseslint.config(
  { ignores: ['**/dist', '**/node_modules', '**/tmp', '**/coverage'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
      '@nx/enforce-module-boundaries': ['error', {
        enforceBuildableLibDependency: false,
        allow: [],
        depConstraints: [
          { sourceTag: 'scope:domain', onlyDependOnLibsWithTags: ['scope:domain'], bannedExternalImports: ioAndFrameworks },
          { sourceTag: 'scope:app', onlyDependOnLibsWithTags: ['scope:domain'] },
          { sourceTag: 'scope:tool', onlyDependOnLibsWithTags: ['scope:domain'] },
        ],
      }],
    },
  },
  {
    files: ['**/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly', __dirname: 'readonly', process: 'readonly', console: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['**/*.spec.ts', '**/test/**/*.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
);
