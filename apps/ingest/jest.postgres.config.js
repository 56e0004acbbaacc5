// The integration suites whose subject lives in the shared stores — alerts (the ledger, outbox,
// restarts), reports, people and sessions, hardening (quarantine, names) — once more with those
// stores on PostgreSQL (a throwaway cluster per file; test/harness.ts).
module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'ingest-postgres',
  rootDir: __dirname,
  testMatch: ['<rootDir>/test/{alerts,reports,people,hardening}.int.spec.ts'],
  // After the framework is installed (the harness registers an afterAll); shares the test file's modules.
  setupFilesAfterEnv: ['<rootDir>/test/on-postgres.ts'],
  testTimeout: 60_000,
};
