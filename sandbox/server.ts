import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createControlRouter } from './controls-routes.js';
import { createEnterMediaApi } from './entermedia-routes.js';
import { Faults, type FaultDecision } from './faults.js';
import { ReplyError, type Reply } from './reply.js';
import type { Router } from './router.js';
import { Stats } from './stats.js';
import type { Store } from './store.js';
import { createTwelveLabsApi } from './twelvelabs-routes.js';
import { createUplynkApi } from './uplynk-routes.js';
import type { VendorApi } from './vendor.js';

const CONTROL_BASE = '/_sandbox';
/** Vendor bodies are small JSON; a seed of a large catalogue is not. */
const MAX_VENDOR_BODY = 1 << 20;
const MAX_CONTROL_BODY = 1 << 30;

export interface SandboxServerDeps {
  store: Store;
  /** The sandbox's own URL, known once it listens. */
  url: () => string;
  /** Called whenever the state changed, for persistence. */
  changed: () => void;
}

class BodyError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The sandbox's HTTP server: routes each request to a vendor (or the controls), applies the faults
 * decided at arrival, counts it, and never lets an error escape (a thrown error is the vendor's 500).
 */
export function createSandboxServer(deps: SandboxServerDeps): {
  server: Server;
  faults: Faults;
  stats: Stats;
} {
  const faults = new Faults();
  const stats = new Stats();
  const vendors: VendorApi[] = [
    createTwelveLabsApi(deps.store.twelvelabs),
    createUplynkApi(deps.store.uplynk),
    createEnterMediaApi(deps.store.entermedia),
  ];
  const controls = createControlRouter({
    store: deps.store,
    faults,
    stats,
    url: deps.url,
    changed: deps.changed,
  });

  const server = createServer({ keepAlive: true }, (req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
    if (underBase(path, CONTROL_BASE)) {
      handleControl(controls, path.slice(CONTROL_BASE.length) || '/', query, req, res);
      return;
    }
    const vendor = vendors.find((v) => underBase(path, v.base));
    if (!vendor) {
      send(res, {
        status: 404,
        body: {
          error: `nothing at ${path}: the systems live under /twelvelabs/v1.3, /uplynk/api/v4, /entermedia`,
        },
      });
      return;
    }
    handleVendor(vendor, path.slice(vendor.base.length) || '/', query, req, res);
  });

  function handleVendor(
    vendor: VendorApi,
    path: string,
    query: URLSearchParams,
    req: IncomingMessage,
    res: ServerResponse,
  ): void {
    const now = Date.now();
    const method = req.method ?? 'GET';
    stats.arrived(vendor.system, now);
    const fault = faults.decide(vendor.system, now);
    const match = vendor.router.match(method, path);
    const finish = (reply: Reply, drop = false) => {
      const mutated = reply.mutated === true && reply.status < 300;
      if (mutated) deps.changed();
      stats.answered(vendor.system, match.template, drop ? 0 : reply.status, mutated);
      if (drop) req.socket.destroy();
      else send(res, reply);
    };
    const run = () => {
      if (fault.status !== undefined) {
        const reply = vendor.error(fault.status, faultMessage(fault.status));
        const retryAfter = retryAfterHeader(fault, Date.now());
        if (retryAfter !== undefined) reply.headers = { 'retry-after': retryAfter };
        finish(reply);
        return;
      }
      const denied = vendor.authenticate({ headers: req.headers, query, now: Date.now() });
      if (denied) return finish(denied);
      // Not the vendors' code for a missing resource (`resource_not_exist`): a route that is not there
      // says nothing of whether a target exists, and a client must not read it as "already absent".
      if (match.kind === 'none')
        return finish(vendor.error(404, `No route ${method} ${path}.`, 'route_not_found'));
      if (match.kind === 'wrong-method') {
        const reply = vendor.error(405, `${method} is not allowed here; use ${match.allowed.join(' or ')}.`);
        reply.headers = { allow: match.allowed.join(', ') };
        return finish(reply);
      }
      readJson(req, MAX_VENDOR_BODY).then(
        (body) => {
          let reply: Reply;
          try {
            reply = match.handler({
              method,
              params: match.params,
              query,
              headers: req.headers,
              body,
              now: Date.now(),
            });
          } catch (err) {
            reply = errorReply(err, (status, message) => vendor.error(status, message));
          }
          finish(reply, fault.drop);
        },
        (err: unknown) => finish(errorReply(err, (status, message) => vendor.error(status, message))),
      );
    };
    if (fault.latencyMs > 0) setTimeout(run, fault.latencyMs);
    else run();
  }

  return { server, faults, stats };
}

function handleControl(
  router: Router,
  path: string,
  query: URLSearchParams,
  req: IncomingMessage,
  res: ServerResponse,
): void {
  const method = req.method ?? 'GET';
  const match = router.match(method, path);
  const error = (status: number, message: string): Reply => ({ status, body: { error: message } });
  if (match.kind === 'none') return send(res, error(404, `no control ${method} /_sandbox${path}`));
  if (match.kind === 'wrong-method') return send(res, error(405, `use ${match.allowed.join(' or ')}`));
  readJson(req, MAX_CONTROL_BODY).then(
    (body) => {
      try {
        send(
          res,
          match.handler({ method, params: match.params, query, headers: req.headers, body, now: Date.now() }),
        );
      } catch (err) {
        send(res, errorReply(err, error));
      }
    },
    (err: unknown) => send(res, errorReply(err, error)),
  );
}

function underBase(path: string, base: string): boolean {
  return (
    path.startsWith(base) && (path.length === base.length || path.charCodeAt(base.length) === 47) /* / */
  );
}

/** A fault's `Retry-After` in the form it asks for; undefined when it has none. */
function retryAfterHeader(fault: FaultDecision, now: number): string | undefined {
  if (fault.retryAfterSeconds === undefined || fault.retryAfterAs === 'none') return undefined;
  if (fault.retryAfterAs !== 'date') return String(fault.retryAfterSeconds);
  // An HTTP date counts whole seconds: rounded up, so that a client waiting for it is never early.
  return new Date(Math.ceil((now + fault.retryAfterSeconds * 1000) / 1000) * 1000).toUTCString();
}

function faultMessage(status: number): string {
  if (status === 429) return 'Too many requests (sandbox fault injection).';
  if (status === 503) return 'Service unavailable (sandbox fault injection).';
  if (status === 403) return 'Forbidden (sandbox fault injection).';
  return 'Internal server error (sandbox fault injection).';
}

function errorReply(err: unknown, error: (status: number, message: string) => Reply): Reply {
  if (err instanceof ReplyError) return err.reply;
  if (err instanceof BodyError) return error(err.status, err.message);
  // A bug in the sandbox: say so on stderr (never a request's headers, which carry keys) and answer 500.
  console.error('sandbox: handler failed:', err);
  return error(500, 'Internal server error.');
}

/** The parsed JSON body, or `undefined` when there is none. GETs skip the read: it is the hot path. */
function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const length = req.headers['content-length'];
  if (req.method === 'GET' || req.method === 'HEAD' || (length === '0' && !req.headers['transfer-encoding']))
    return Promise.resolve(undefined);
  if (length !== undefined && Number(length) > limit)
    return Promise.reject(new BodyError(413, `The request body is larger than ${limit} bytes.`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new BodyError(413, `The request body is larger than ${limit} bytes.`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', reject);
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '') return resolve(undefined);
      try {
        resolve(JSON.parse(text));
      } catch {
        reject(new BodyError(400, 'The request body is not valid JSON.'));
      }
    });
  });
}

function send(res: ServerResponse, reply: Reply): void {
  if (res.headersSent || res.destroyed) return;
  if (reply.stream) {
    res.writeHead(reply.status, { 'content-type': 'application/json; charset=utf-8', ...reply.headers });
    const chunks = reply.stream()[Symbol.iterator]();
    const pump = () => {
      for (let next = chunks.next(); !next.done; next = chunks.next()) {
        if (res.destroyed) return;
        if (!res.write(next.value)) return void res.once('drain', pump);
      }
      res.end();
    };
    pump();
    return;
  }
  if (reply.body === undefined) {
    res.writeHead(reply.status, { ...reply.headers });
    res.end();
    return;
  }
  const payload = JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
    ...reply.headers,
  });
  res.end(payload);
}
