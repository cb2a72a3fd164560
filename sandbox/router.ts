import type { IncomingHttpHeaders } from 'node:http';
import type { Reply } from './reply.js';

/** What a route handler gets; `body` is the parsed JSON body, or `undefined` when there was none. */
export interface RequestContext {
  method: string;
  params: Params;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: unknown;
  now: number;
}

export type Handler = (ctx: RequestContext) => Reply;

/** Path parameters by name; `get` throws for a name the route does not declare (a bug, not a request error). */
export class Params {
  constructor(private readonly values: Map<string, string>) {}
  get(name: string): string {
    const v = this.values.get(name);
    if (v === undefined) throw new Error(`route has no parameter "${name}"`);
    return v;
  }
}

interface Route {
  method: string;
  /** e.g. `DELETE /assets/{asset_id}`: the stats key. */
  template: string;
  segments: string[];
  handler: Handler;
}

export type RouteMatch =
  | { kind: 'found'; template: string; handler: Handler; params: Params }
  | { kind: 'wrong-method'; template: string; allowed: string[] }
  | { kind: 'none'; template: string };

/**
 * A tiny router: a handful of routes per system, matched segment by segment. A linear scan over a
 * dozen routes costs less than building a trie and keeps the templates readable for stats.
 */
export class Router {
  private readonly routes: Route[] = [];

  add(template: string, handler: Handler): this {
    const [method, path] = template.split(' ');
    if (!method || !path) throw new Error(`bad route template "${template}"`);
    this.routes.push({ method, template, segments: path.split('/').slice(1), handler });
    return this;
  }

  match(method: string, path: string): RouteMatch {
    const parts = path.split('/').slice(1);
    if (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
    const allowed: string[] = [];
    let pathTemplate = '';
    for (const route of this.routes) {
      const params = matchSegments(route.segments, parts);
      if (!params) continue;
      if (route.method !== method) {
        allowed.push(route.method);
        pathTemplate = route.template.slice(route.method.length + 1);
        continue;
      }
      return { kind: 'found', template: route.template, handler: route.handler, params: new Params(params) };
    }
    if (allowed.length) return { kind: 'wrong-method', template: `${method} ${pathTemplate}`, allowed };
    return { kind: 'none', template: `${method} (unknown route)` };
  }
}

function matchSegments(pattern: string[], parts: string[]): Map<string, string> | undefined {
  if (pattern.length !== parts.length) return undefined;
  let params: Map<string, string> | undefined;
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i] as string;
    const v = parts[i] as string;
    if (p.charCodeAt(0) === 123 /* { */) {
      if (v === '') return undefined;
      let decoded: string;
      try {
        decoded = decodeURIComponent(v);
      } catch {
        return undefined;
      }
      (params ??= new Map()).set(p.slice(1, -1), decoded);
    } else if (p !== v) return undefined;
  }
  return params ?? new Map();
}
