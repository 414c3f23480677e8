/** @type {import('jest').Config} */
module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'query-gateway',
  rootDir: __dirname,
};
