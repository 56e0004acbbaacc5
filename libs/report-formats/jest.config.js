module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'report-formats',
  rootDir: __dirname,
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
};
