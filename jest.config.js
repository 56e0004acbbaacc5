// Every test of the monorepo in one run (scripts/test.sh); each project also runs alone with
// `npx nx run <project>:test`.
module.exports = {
  projects: ['<rootDir>/libs/telemetry/jest.config.js', '<rootDir>/devices-sim/jest.config.js', '<rootDir>/apps/ingest/jest.config.js'],
};
