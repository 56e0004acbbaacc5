module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'store-sqlite',
  rootDir: __dirname,
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
};
