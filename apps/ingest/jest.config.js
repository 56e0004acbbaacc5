// Unit specs (*.spec.ts) and integration specs (test/*.int.spec.ts) that start a real influxd, the
// real broker over TCP and SQLite on disk. Run in band: each integration file owns its services.
module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'ingest',
  rootDir: __dirname,
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.int.spec.ts'],
  testTimeout: 60_000,
};
