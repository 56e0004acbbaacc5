module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'edge-hj212',
  rootDir: __dirname,
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
};
