/**
 * @kvstore/cluster/internal: the mux protocol's frame layer, for tools that
 * speak the internal protocol by hand (the chaos forger). It carries no
 * stability promise: peers use MuxPool and acceptMux from @kvstore/cluster.
 */
export { FrameReader, frameHeader } from './wire/frames';
