import { randomUUID } from 'node:crypto';
import {
  STATUS_CODES,
  maxHeaderSize,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { Duplex } from 'node:stream';
import { badRequest, headersTooLarge, requestTimeout, type AppError, type Logger } from '@stowage/core';
import { errorBody } from './error-handler.ts';

/** What node's HTTP parser reports: its code (`HPE_…`) and, for parse errors, why in words. */
type ParserError = NodeJS.ErrnoException & { reason?: string };

/** What the parser (or the header timer) refused, as one of our errors. */
function refusal(err: ParserError): AppError {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return headersTooLarge(maxHeaderSize);
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return requestTimeout();
    default:
      return badRequest(`Malformed HTTP request${err.reason ? `: ${err.reason}` : ''}`);
  }
}

/** A complete HTTP/1.1 response carrying `error` in the documented shape, closing the connection. */
function rawResponse(error: AppError, requestId: string): string {
  const body = JSON.stringify(errorBody(error, requestId));
  return [
    `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status]}`,
    'content-type: application/json; charset=utf-8',
    `content-length: ${Buffer.byteLength(body)}`,
    `x-request-id: ${requestId}`,
    'connection: close',
    '',
    body,
  ].join('\r\n');
}

/**
 * Answers what node's HTTP parser refuses (a URL or headers too large, malformed framing, headers that
 * never finish) in the documented error shape with an x-request-id, where node would write a bare status
 * line. There is no response object then: the answer goes to the socket as raw HTTP/1.1, and the
 * connection is closed. A request already being handled when its framing broke (a bad chunk in its body)
 * is answered with its own request id, and its connection destroyed so its handler stops.
 */
export function answerClientErrors(server: Server, logger: Logger): void {
  const handling = new WeakMap<Duplex, ServerResponse>();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => handling.set(req.socket, res));
  const answered = new WeakSet<Duplex>();
  server.on('clientError', (err: ParserError, socket: Duplex) => {
    // The parser keeps failing on whatever else the client sends: it is read and dropped until the
    // client, which has our answer, closes (closing first would reset the connection under the answer).
    if (answered.has(socket)) return;
    const current = handling.get(socket);
    const inFlight = current && !current.writableEnded ? current : undefined;
    // Nobody to answer, or an answer already under way that raw bytes would corrupt.
    if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    answered.add(socket);
    const error = refusal(err);
    const ownId = inFlight?.getHeader('x-request-id');
    const requestId = typeof ownId === 'string' ? ownId : randomUUID();
    logger.info({ requestId, code: err.code, status: error.status }, 'request refused by the HTTP parser');
    socket.end(rawResponse(error, requestId), () => {
      if (inFlight) socket.destroy();
    });
  });
}
