/**
 * @kvstore/topology/internal: the mux protocol's frame layer, for tools that
 * speak the internal protocol by hand (the chaos forger). Not part of the
 * published API: peers use MuxPool and acceptMux from @kvstore/topology.
 */
export { FrameReader, frameHeader, type Frame } from './wire/frames';
