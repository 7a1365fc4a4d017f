/** Test helpers of @kvstore/kvclient/testing: an in-memory gate for tests of code built on the client. */
export {
  FakeGate,
  refusingHost,
  SAMPLE_CLUSTER,
  FAKE_PARTITION,
  FAKE_REPLICA,
  type Fault,
  type FakeGateOptions,
} from './fake-gate';
