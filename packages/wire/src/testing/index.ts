/** Test helpers of @kvstore/wire: a sample typed kv frame request. */
export { sampleKvFrameRequest } from './kv-frames';
