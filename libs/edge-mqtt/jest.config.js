module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'edge-mqtt',
  rootDir: __dirname,
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
};
