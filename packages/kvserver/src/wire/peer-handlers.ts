import { FrameKind, type MuxHandlers } from '@kvstore/wire';
import type { InstallSnapshotRequest } from '../replication/messages';
import type { Replica } from '../replication/replica';
import { decodeAppend } from './append-codec';
import { decodeImport } from './import-codec';
import type { ImportReceiver } from '../migration/import-receiver';

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

function parseInstall(payload: Buffer): InstallSnapshotRequest {
  const fields = JSON.parse(payload.toString('utf8')) as Partial<Record<keyof InstallSnapshotRequest, unknown>>;
  const { epoch, leaderId, leaderUrl } = fields;
  if (!Number.isSafeInteger(epoch) || typeof leaderId !== 'string' || typeof leaderUrl !== 'string') {
    throw new Error('install-snapshot needs an integer epoch, a leaderId and a leaderUrl');
  }
  return { epoch: epoch as number, leaderId, leaderUrl };
}

/** The follower's side of replication over the internal protocol, reached only by peers that proved the cluster secret. */
export function peerMuxHandlers(replica: Replica, imports: ImportReceiver): MuxHandlers {
  return {
    [FrameKind.importSlots]: async (payload) => json(await imports.receive(decodeImport(payload))),
    [FrameKind.append]: async (payload) => json(await replica.handleAppend(decodeAppend(payload))),
    [FrameKind.installSnapshot]: async (payload) => json(await replica.installSnapshot(parseInstall(payload))),
  };
}
