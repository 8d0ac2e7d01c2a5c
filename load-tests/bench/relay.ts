import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

/**
 * A bare TCP relay in this process: each connection piped to `target` and back, with no HTTP, no
 * checks and no Stowage code. It shows what any Node.js process in the path costs, as a floor for the
 * API's figures. `connectTo` is the value for curl's `--connect-to`, which keeps the URL (and so a
 * presigned signature, which covers the Host header) while the bytes go through the relay.
 */
export async function startTcpRelay(target: URL): Promise<{ connectTo: string; close(): Promise<void> }> {
  const port = Number(target.port || (target.protocol === 'https:' ? 443 : 80));
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(port, target.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => (socket === client ? upstream : client).destroy());
    }
    client.pipe(upstream).pipe(client);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const relay = (server.address() as AddressInfo).port;
  return {
    connectTo: `${target.hostname}:${port}:127.0.0.1:${relay}`,
    async close() {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}
