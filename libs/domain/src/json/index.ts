export { mergePatch } from './merge-patch';
export { jsonDepthExceeds } from './json-depth';
export { isJsonObject } from './json-object';
export { escapePointerToken, parsePointer, resolvePointer } from './json-pointer';
