/**
 * A baseline for the cluster bench, run in a Node process of its own:
 * `node baseline-server.js fixed|map <port>`. `fixed` answers every request
 * with the same 100-byte body (what node:http costs at all); `map` serves
 * GET and PUT of /v1/kv/<key> from a Map (what a kvstore replica could do at
 * best on node:http, with no replication, disk or routing). Both answer
 * GET /healthz, so that the bench can wait for them like for a kvserver.
 */
import * as http from 'node:http';

const FIXED_BODY = Buffer.alloc(100, 'x');
const KV_PREFIX = '/v1/kv/';

function fixed(request: http.IncomingMessage, response: http.ServerResponse): void {
  request.resume();
  request.on('end', () => response.end(FIXED_BODY));
}

function mapServer(): http.RequestListener {
  const values = new Map<string, Buffer>();
  let version = 0;
  return (request, response) => {
    const url = request.url ?? '/';
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query);
    const key = path.startsWith(KV_PREFIX) ? decodeURIComponent(path.slice(KV_PREFIX.length)) : undefined;
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (path === '/healthz') response.end('ok');
      else if (key === undefined) response.writeHead(404).end();
      else if (request.method === 'PUT') {
        values.set(key, Buffer.concat(chunks));
        version += 1;
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify({ key, version }));
      } else if (request.method === 'GET') {
        const value = values.get(key);
        if (value) response.end(value);
        else response.writeHead(404).end();
      } else response.writeHead(405).end();
    });
  };
}

const [kind, portText] = process.argv.slice(2);
if ((kind !== 'fixed' && kind !== 'map') || !Number.isInteger(Number(portText))) {
  console.error('usage: node baseline-server.js fixed|map <port>');
  process.exit(2);
}
const server = http.createServer(kind === 'fixed' ? fixed : mapServer());
// The same keep-alive bound as the kvservers and gates: the load reuses its connections.
server.keepAliveTimeout = 30_000;
server.listen(Number(portText), '127.0.0.1');
process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
