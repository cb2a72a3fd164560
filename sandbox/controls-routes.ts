import { z } from 'zod';
import { sandboxEnv } from './env.js';
import { FaultSettings, type Faults } from './faults.js';
import { generateCatalogue, GenerateRequest } from './generate.js';
import { json, type Reply } from './reply.js';
import { Router } from './router.js';
import { SandboxState } from './state-schema.js';
import { stateJsonChunks } from './state-json.js';
import type { Stats } from './stats.js';
import type { Store } from './store.js';

export interface ControlDeps {
  store: Store;
  faults: Faults;
  stats: Stats;
  /** The sandbox's own URL (`http://127.0.0.1:PORT`), for the env that `generate` answers. */
  url: () => string;
  /** Called after the state was replaced, so that it gets persisted. */
  changed: () => void;
}

function bad(message: string): Reply {
  return json(400, { error: message });
}

function parse<T extends z.ZodType>(schema: T, body: unknown): { data: z.infer<T> } | { reply: Reply } {
  const parsed = schema.safeParse(body ?? {});
  return parsed.success ? { data: parsed.data } : { reply: bad(z.prettifyError(parsed.error)) };
}

function counts(store: Store) {
  return {
    twelvelabsAssets: store.twelvelabs.assets.size,
    indexedAssets: store.twelvelabs.indexedAssets.size,
    entities: store.twelvelabs.entities.size,
    uplynkLibraries: store.uplynk.libraries.size,
    entermediaAssets: store.entermedia.assets.size,
  };
}

/** The `/_sandbox/*` controls of docs/rehearsing.md. Errors answer `{ "error": message }`. */
export function createControlRouter(deps: ControlDeps): Router {
  const { store, faults, stats } = deps;
  return new Router()
    .add('GET /health', () => json(200, { ok: true }))
    .add('POST /seed', (ctx) => {
      const parsed = parse(SandboxState, ctx.body);
      if ('reply' in parsed) return parsed.reply;
      store.load(parsed.data, ctx.now);
      deps.changed();
      return json(200, { ok: true, counts: counts(store) });
    })
    .add('GET /state', (ctx) => ({ status: 200, stream: () => stateJsonChunks(store, ctx.now) }))
    .add('POST /generate', (ctx) => {
      const parsed = parse(GenerateRequest, ctx.body);
      if ('reply' in parsed) return parsed.reply;
      const { items, seed } = parsed.data;
      const { state, plan } = generateCatalogue(items, seed, store.entityReadyAfterMs);
      store.load(state, ctx.now);
      deps.changed();
      return json(200, { plan, env: sandboxEnv(deps.url(), state) });
    })
    .add('GET /faults', () => json(200, faults.current))
    .add('POST /faults', (ctx) => {
      const parsed = parse(FaultSettings, ctx.body);
      if ('reply' in parsed) return parsed.reply;
      faults.set(parsed.data);
      return json(200, parsed.data);
    })
    .add('GET /stats', () => json(200, stats.snapshot()))
    .add('DELETE /stats', () => {
      stats.reset();
      return json(200, stats.snapshot());
    })
    .add('POST /reset', (ctx) => {
      store.load(SandboxState.parse({}), ctx.now);
      faults.set(FaultSettings.parse({}));
      stats.reset();
      deps.changed();
      return json(200, { ok: true });
    });
}
