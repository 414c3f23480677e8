/** @type {import('jest').Config} */
module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'guard-pool',
  rootDir: __dirname,
};
