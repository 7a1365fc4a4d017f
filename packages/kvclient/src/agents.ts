/**
 * Keep-alive agents whose connects have their own deadline. A connect that
 * times out has sent nothing, so unlike a timeout while waiting for the
 * answer it is safe to try a write on the next gate (the socket never
 * connected); the agent marks it with CONNECT_TIMEOUT_CODE for the message.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import { CONNECT_TIMEOUT_CODE } from './http-errors';

/** Bounds the sockets kept open to any one gate. */
const MAX_SOCKETS_PER_HOST = 64;

export interface Agents {
  http: http.Agent;
  https: https.Agent;
}

/** How https:// gates are verified: against `ca` (else the system's CAs), or not at all with `insecure` (tests only). */
export interface GateTls {
  ca?: string | Buffer;
  insecure?: boolean;
}

export function createAgents(connectTimeoutMs: number, tls: GateTls = {}): Agents {
  const options = { keepAlive: true, maxSockets: MAX_SOCKETS_PER_HOST };
  return {
    http: withConnectTimeout(new http.Agent(options), connectTimeoutMs),
    https: withConnectTimeout(new https.Agent({ ...options, ca: tls.ca, rejectUnauthorized: tls.insecure !== true }), connectTimeoutMs),
  };
}

function withConnectTimeout<A extends http.Agent>(agent: A, connectTimeoutMs: number): A {
  const createConnection = agent.createConnection.bind(agent);
  agent.createConnection = (options, callback) => {
    const socket = createConnection(options, callback);
    if (socket instanceof net.Socket && socket.connecting) armConnectTimeout(socket, connectTimeoutMs);
    return socket;
  };
  return agent;
}

function armConnectTimeout(socket: net.Socket, connectTimeoutMs: number): void {
  const timer = setTimeout(() => {
    const error = new Error(`connect timed out after ${connectTimeoutMs} ms`);
    socket.destroy(Object.assign(error, { code: CONNECT_TIMEOUT_CODE }));
  }, connectTimeoutMs);
  const clear = (): void => clearTimeout(timer);
  socket.once('connect', clear);
  socket.once('close', clear);
}
