module.exports = {
  ...require('../jest.preset.js'),
  displayName: 'grafana',
  rootDir: __dirname,
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
};
