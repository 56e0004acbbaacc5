module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'notify',
  rootDir: __dirname,
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
};
