import * as path from 'node:path';

/*
 * The replica's internal protocol, compiled, for the forger: the mux frames
 * (topology) and the append frame's codec (kvserver). Like kit.ts, we load
 * the compiled modules by absolute path, typed by their sources (type-only
 * imports, erased from the output): chaos compiles to chaos/dist/src, so a
 * relative import would point to the wrong place at run time, and neither
 * module is part of its package's public exports.
 */
const packagesDir = path.resolve(__dirname, '..', '..', '..', 'packages');

export const frames = require(path.join(packagesDir, 'topology', 'dist', 'src', 'wire', 'frames.js')) as typeof import('../../packages/topology/src/wire/frames');

export const appendCodec = require(path.join(packagesDir, 'kvserver', 'dist', 'src', 'wire', 'append-codec.js')) as typeof import('../../packages/kvserver/src/wire/append-codec');

export type { AppendRequest } from '../../packages/kvserver/src/replication/messages';
export type { LogEntry } from '../../packages/kvserver/src/replication/entry';
