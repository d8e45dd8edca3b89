import { createServer, type Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { readBody, sendUpstream } from './upstream-http.js';

/**
 * A server that answers the first request of each connection with keep-alive, then resets the
 * connection when a second request arrives on it: what a pooled connection meets when the server
 * timed it out just as it was reused.
 */
function resettingServer() {
  let served = 0;
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    let requests = 0;
    socket.on('data', () => {
      requests++;
      if (requests > 1) return socket.resetAndDestroy();
      served++;
      socket.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\n{}');
    });
    socket.on('error', () => {});
  });
  return { server, sockets, served: () => served };
}

describe('upstream calls on reused connections', () => {
  const { server, sockets, served } = resettingServer();
  afterAll(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });

  it('sends a request once more on a fresh connection when the pooled one was reset before any reply', async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const provider = { id: 'p', baseUrl: `http://127.0.0.1:${(server.address() as { port: number }).port}/v1`, models: [], listModels: true };
    for (let i = 0; i < 3; i++) {
      const res = await sendUpstream(provider, { method: 'POST', path: '/chat/completions', body: '{}' });
      expect(await readBody(res, 'p')).toBe('{}');
    }
    expect(served()).toBe(3);
  });
});
