import { createServer, type Server } from 'node:http';
import type { Worker } from '@temporalio/worker';

/**
 * Serves `GET /healthz` on `host:port` for container healthchecks: 200 while the worker runs (polls its
 * task queue), 503 once it stops or fails. Nothing else is served; nothing about the configuration shows.
 */
export async function serveHealth(bind: string, worker: Pick<Worker, 'getState'>): Promise<Server> {
  const [host = '127.0.0.1', port = '0'] = bind.split(/:(?=\d+$)/);
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url !== '/healthz') {
      res.writeHead(404).end();
      return;
    }
    const state = worker.getState();
    res.writeHead(state === 'RUNNING' ? 200 : 503, { 'content-type': 'text/plain' }).end(`${state}\n`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(port), host, resolve);
  });
  return server;
}
