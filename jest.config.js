// Every test of the monorepo in one run (scripts/test.sh); each project also runs alone with
// `npx nx run <project>:test`.
module.exports = {
  // testTimeout is a global option: project configs cannot set it when run together.
  testTimeout: 60_000,
  projects: [
    '<rootDir>/libs/telemetry/jest.config.js',
    '<rootDir>/libs/rules/jest.config.js',
    '<rootDir>/libs/core/jest.config.js',
    '<rootDir>/libs/store-sqlite/jest.config.js',
    '<rootDir>/libs/store-postgres/jest.config.js',
    '<rootDir>/libs/edge-mqtt/jest.config.js',
    '<rootDir>/libs/edge-hj212/jest.config.js',
    '<rootDir>/libs/reports/jest.config.js',
    '<rootDir>/libs/integrity/jest.config.js',
    '<rootDir>/libs/influx/jest.config.js',
    '<rootDir>/libs/notify/jest.config.js',
    '<rootDir>/libs/report-formats/jest.config.js',
    '<rootDir>/libs/api/jest.config.js',
    '<rootDir>/devices-sim/jest.config.js',
    '<rootDir>/grafana/jest.config.js',
    '<rootDir>/apps/console/jest.config.js',
    '<rootDir>/apps/ingest/jest.config.js',
    '<rootDir>/apps/ingest/jest.postgres.config.js',
  ],
};
