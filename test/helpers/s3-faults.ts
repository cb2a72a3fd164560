/**
 * An S3-compatible store gone wrong, in front of the test's s3rver: requests pass through as they are
 * until a test says otherwise, then each is answered as S3 answers when it sheds load (503 SlowDown) or
 * never answered at all (a store that accepts connections and goes silent).
 */
import { createServer, request, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export type S3Fault = 'none' | 'slow-down' | 'silent';

export interface S3FaultProxy {
  /** `http://127.0.0.1:PORT`: give it as `BULK_DELETE_S3_ENDPOINT` instead of the store's. */
  endpoint: string;
  /** How the next requests are answered. */
  fault(fault: S3Fault): void;
  /** Requests received since start, as `METHOD /bucket/key`. */
  readonly requests: readonly string[];
  close(): Promise<void>;
}

const SLOW_DOWN =
  '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>';

export async function startS3FaultProxy(target: string): Promise<S3FaultProxy> {
  const upstream = new URL(target);
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  let current: S3Fault = 'none';
  const server = createServer((req, res: ServerResponse) => {
    requests.push(`${req.method} ${req.url}`);
    if (current === 'silent') return;
    if (current === 'slow-down') {
      req.resume();
      res.writeHead(503, { 'content-type': 'application/xml' });
      res.end(SLOW_DOWN);
      return;
    }
    const forward = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    fault(fault) {
      current = fault;
    },
    requests,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
