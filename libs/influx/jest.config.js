module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'influx',
  rootDir: __dirname,
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
};
