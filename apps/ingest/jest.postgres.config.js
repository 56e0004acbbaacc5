// The integration suites whose subject lives in the shared stores — alerts (the ledger, outbox,
// restarts), reports, people and sessions, hardening (quarantine, names) — once more with those
// stores on PostgreSQL (a throwaway cluster per file; test/harness.ts).
module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'ingest-postgres',
  rootDir: __dirname,
  testMatch: ['<rootDir>/test/{alerts,reports,people,hardening}.int.spec.ts'],
  setupFiles: ['<rootDir>/test/on-postgres.js'],
  testTimeout: 60_000,
};
