/** The history checker: pure functions from a recorded History to a Report. */
export { checkHistory, formatReport, type CheckOptions, type Listed, type Report } from './analysis';
export * from './anomalies';
export * from './availability';
export { checkKey, checkLinearizability, shrink, type KeyVerdict, type LinearizabilityOptions, type LinearizabilityResult, type Violation } from './linearizability';
export { refusedForPrecondition, type PreconditionTest } from './register';
export { describeOperation } from './describe';
