import {
  Agent,
  createServer,
  request,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';

/** A plain HTTP proxy spreading requests over API replicas in turn, as an ingress would. */
export interface RoundRobinProxy {
  url: string;
  /** The replicas to send to; set (or change) before the first request. */
  backends: string[];
  close(): Promise<void>;
}

const hopByHop = ['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection'];

/** Headers without the hop-by-hop ones, which belong to one connection and are not forwarded. */
function endToEnd(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !hopByHop.includes(name)));
}

export async function startRoundRobinProxy(): Promise<RoundRobinProxy> {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  let next = 0;
  const proxy: RoundRobinProxy = { url: '', backends: [], close: async () => {} };

  async function forward(req: IncomingMessage, res: ServerResponse) {
    const backend = new URL(proxy.backends[next++ % proxy.backends.length]!);
    const client = req.socket.remoteAddress ?? '';
    const forwardedFor = req.headers['x-forwarded-for'];
    const upstream = request({
      agent,
      host: backend.hostname,
      port: backend.port,
      method: req.method,
      path: req.url,
      headers: {
        ...endToEnd(req.headers),
        'x-forwarded-for': forwardedFor ? `${forwardedFor}, ${client}` : client,
      },
    });
    const answered = new Promise<IncomingMessage>((resolve, reject) => {
      upstream.once('response', resolve);
      upstream.once('error', reject);
    });
    // The request body and the answer stream at once: the API may answer (413, 429) before reading it all.
    const sent = pipeline(req, upstream).catch(() => {}); // a failed send shows as a failed answer
    const answer = await answered;
    // Answered before the whole body arrived (a refusal): like nginx, close the connection afterwards and
    // drain what the client still sends, rather than leave it waiting to finish a request no one reads.
    const early = !req.complete;
    res.writeHead(answer.statusCode ?? 502, {
      ...endToEnd(answer.headers),
      ...(early ? { connection: 'close' } : {}),
    });
    await pipeline(answer, res);
    if (!req.complete) {
      req.unpipe(upstream);
      upstream.destroy();
      req.resume();
    }
    await sent;
  }

  const server = createServer((req, res) => {
    forward(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    agent.destroy();
  };
  return proxy;
}
