import { createServer, type Socket } from 'node:net';

export interface ScriptedServer {
  readonly port: number;
  /** Connections accepted so far. */
  connections(): number;
  close(): Promise<void>;
}

/**
 * A loopback TCP server whose n-th connection (1-based) gets whatever `onConnection` does with it:
 * nothing (a black hole), a hand-written HTTP answer, or a pipe to the real Azurite.
 */
export async function startScriptedServer(
  onConnection: (socket: Socket, n: number) => void = (socket) => socket.resume(),
): Promise<ScriptedServer> {
  const sockets = new Set<Socket>();
  let count = 0;
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    onConnection(socket, ++count);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    connections: () => count,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
