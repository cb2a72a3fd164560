/**
 * A vendor gone wrong, in front of the sandbox: every request is passed on as it is and logged as it
 * arrived (`DELETE /twelvelabs/v1.3/assets/…?force=true`), and the successful answers of chosen routes are
 * replaced, so that a test can answer what the sandbox never would: hostile IDs, bodies of another shape.
 */
import { createServer, request, type IncomingHttpHeaders } from 'node:http';

/** Replaces a 2xx answer of `method` on a path matching `path` (the query excluded). */
export interface AnswerRewrite {
  method: string;
  path: RegExp;
  /** Also only when the query matches this (e.g. `asset_ids=` naming an asset). */
  query?: RegExp;
  /** The body to answer instead, from the sandbox's (parsed; undefined when empty). A string is sent as is. */
  body: (answer: any) => unknown; // eslint-disable-line @typescript-eslint/no-explicit-any -- a test's rewrite reads the vendor JSON loosely
  /**
   * The request does not reach the sandbox: the proxy answers 200 with `body(undefined)` itself, as a
   * vendor that answers a change it did not make.
   */
  withhold?: boolean;
}

export interface VendorProxy {
  /** `http://127.0.0.1:PORT`: give it to the worker instead of the sandbox's URL. */
  url: string;
  /** Every request that reached the proxy since the last `answer`, as `METHOD /path?query`. */
  readonly requests: readonly string[];
  /** Sets the rewrites (none: a plain pass-through) and clears the log. */
  answer(rewrites: AnswerRewrite[]): void;
  close(): Promise<void>;
}

/** Starts a proxy to `target` (the sandbox's URL) on a random port. */
export async function startVendorProxy(target: string): Promise<VendorProxy> {
  const upstream = new URL(target);
  const requests: string[] = [];
  let rewrites: AnswerRewrite[] = [];
  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    requests.push(`${req.method} ${url}`);
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const [path = '', query = ''] = url.split('?');
      const withheld = rewrites.find(
        (r) => r.withhold && r.method === req.method && r.path.test(path) && (r.query?.test(query) ?? true),
      );
      if (withheld) {
        const replaced = withheld.body(undefined);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(typeof replaced === 'string' ? replaced : JSON.stringify(replaced));
        return;
      }
      const forward = request(
        { host: upstream.hostname, port: upstream.port, method: req.method, path: url, headers: req.headers },
        (answer) => {
          const body: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => body.push(chunk));
          answer.on('end', () => {
            const status = answer.statusCode ?? 502;
            const rule = rewrites.find(
              (r) =>
                !r.withhold && r.method === req.method && r.path.test(path) && (r.query?.test(query) ?? true),
            );
            let text = Buffer.concat(body).toString('utf8');
            if (rule && status >= 200 && status < 300) {
              const replaced = rule.body(text === '' ? undefined : JSON.parse(text));
              text = typeof replaced === 'string' ? replaced : JSON.stringify(replaced);
            }
            const headers: IncomingHttpHeaders = { ...answer.headers };
            delete headers['content-length'];
            delete headers['transfer-encoding'];
            res.writeHead(status, headers);
            res.end(text);
          });
        },
      );
      forward.on('error', () => res.destroy());
      forward.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    answer(next) {
      rewrites = next;
      requests.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
