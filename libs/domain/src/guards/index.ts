export { compileGuards, type CompiledGuards } from './compile-guards';
export { type GuardCheck, type GuardInput } from './guard-compiler';
