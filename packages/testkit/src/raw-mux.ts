import { once } from 'node:events';
import * as net from 'node:net';
import { FrameReader, MUX_PATH, MUX_PROTOCOL } from '@kvstore/wire';

/** How a raw upgrade introduces itself: the door's path and the header lines (each ending CRLF) it carries. */
export interface RawUpgrade {
  port: number;
  /** Default `/internal/mux`, the peers' door. */
  path?: string;
  headerLines?: string;
}

function upgradeRequest({ path = MUX_PATH, headerLines = '' }: RawUpgrade): Buffer {
  return Buffer.from(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: ${MUX_PROTOCOL}\r\n${headerLines}\r\n`);
}

/**
 * A raw client: the mux upgrade and `frames` in one write, as a stranger in
 * a hurry would send them. Resolves to the status line once the replica has
 * closed the connection, or at once on a 101.
 */
export async function rawMuxUpgrade(upgrade: RawUpgrade, frames: Buffer[] = []): Promise<string> {
  const socket = net.connect({ host: '127.0.0.1', port: upgrade.port });
  await once(socket, 'connect');
  socket.write(Buffer.concat([upgradeRequest(upgrade), ...frames]));
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
  const closed = once(socket, 'close');
  while (!received.includes('\r\n') && !socket.closed) await Promise.race([once(socket, 'data'), closed]);
  const statusLine = received.slice(0, received.indexOf('\r\n'));
  if (statusLine.includes(' 101 ')) socket.destroy();
  await closed;
  return statusLine;
}

/** After an upgrade that is accepted: the upgrade answer's head and the answer frames to `frames` (one each, by id), as kind and payload. */
export async function rawMuxAnswers(upgrade: RawUpgrade, frames: Buffer[]): Promise<{ head: string; answers: { kind: number; payload: Buffer }[] }> {
  const socket = net.connect({ host: '127.0.0.1', port: upgrade.port });
  await once(socket, 'connect');
  socket.write(Buffer.concat([upgradeRequest(upgrade), ...frames]));
  const answers: { id: number; kind: number; payload: Buffer }[] = [];
  const reader = new FrameReader((answer) => answers.push(answer), 1024 * 1024);
  let received = '';
  let head: string | undefined;
  socket.on('data', (chunk: Buffer) => {
    if (head !== undefined) return reader.push(chunk);
    received += chunk.toString('latin1');
    const end = received.indexOf('\r\n\r\n');
    if (end < 0) return;
    head = received.slice(0, end);
    reader.push(Buffer.from(received.slice(end + 4), 'latin1'));
  });
  while (answers.length < frames.length && !socket.closed) await Promise.race([once(socket, 'data'), once(socket, 'close')]);
  socket.destroy();
  return { head: head ?? received, answers: answers.sort((a, b) => a.id - b.id).map(({ kind, payload }) => ({ kind, payload })) };
}
