import type { IncomingMessage } from 'node:http';
import type { Stream } from 'node:stream';

/** What supertest hands a parser: a response stream (superagent's Response, an IncomingMessage underneath). */
type ResponseStream = Pick<IncomingMessage, 'setEncoding'> & Pick<Stream, 'on'>;

/** A supertest body parser (`.buffer(true).parse(textBody)`) that keeps the body as text, whatever its content type. */
export function textBody(response: ResponseStream, callback: (error: Error | null, body: string) => void): void {
  let text = '';
  response.setEncoding('utf8');
  response.on('data', (chunk: string) => (text += chunk));
  response.on('end', () => callback(null, text));
}
