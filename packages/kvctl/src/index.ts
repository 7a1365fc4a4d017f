/** Public API of @kvstore/kvctl: the program, for running kvctl in-process. */
export { createProgram, type Kvctl } from './program';
export type { ProgramIo } from './io';
