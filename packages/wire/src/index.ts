/**
 * @kvstore/wire: the binary protocol on a replica's port (docs/internal-protocol.md):
 * frames, the typed kv frame, and multiplexed connections. Gates and
 * replicas speak it to each other (proving the cluster secret); a
 * self-routing kvclient speaks its kv requests (with a user's token).
 */
export {
  CLIENT_MUX_PATH,
  FRAME_KINDS_HEADER,
  FrameKind,
  FrameLengthError,
  FrameReader,
  MUX_FRAME_HEADROOM,
  MUX_PATH,
  MUX_PROTOCOL,
  frameHeader,
  frameKindsHeader,
  type Frame,
  type RequestKind,
} from './frames';
export { FrameWriter } from './frame-writer';
export { ByteReader } from './byte-reader';
export { TransportError, UpgradeRefusedError, type TransportFailure } from './transport-error';
export {
  KvFrameError,
  decodeKvFrameAnswer,
  decodeKvFrameRequest,
  encodeKvFrameAnswer,
  encodeKvFrameRequest,
  kvFrameRequest,
  type KvContentType,
  type KvFrameAnswer,
  type KvFrameRequest,
} from './kv-frame';
export { MuxConnection, tlsTarget, type MuxChoice, type MuxConnectionOptions, type MuxCredentials, type MuxRequest } from './mux-connection';
export { MuxPool, type MuxPoolOptions } from './mux-pool';
export { acceptMux, type MuxAdmission, type MuxDoor, type MuxHandler, type MuxHandlers, type MuxServer, type MuxServerOptions } from './mux-server';
