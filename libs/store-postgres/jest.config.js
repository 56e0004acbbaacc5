// Integration tier: every spec here runs against a throwaway PostgreSQL cluster (Debian's
// postgresql-15, started by the spec on a free port as an unprivileged user).
module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'store-postgres',
  rootDir: __dirname,
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
};
