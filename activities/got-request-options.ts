import { Options } from 'got';

/**
 * got 14 builds the options of each `http.request` as `{...internals.cacheOptions, ...34 more keys}`. On
 * Node 20's V8 an object spread followed by that many keys falls off a cliff: ~27 µs and ~22 KB of garbage
 * a request (bench/engine.md, "A request's CPU, and fewer entity polls"), a tenth of a worker's CPU at 2,000 requests a
 * second. got 15 and later, which build it otherwise, need Node 22.
 *
 * The four cache options (`shared`, `cacheHeuristic`, `immutableMinTimeToLive`, `ignoreCargoCult`) mean
 * something only to a cache, and `http.request` ignores them. So, for an instance without a cache, this
 * builds the options with the cache options left out of the spread: the same object but for those four
 * keys, in ~0.2 µs. With a cache, or should got's internals ever differ from what this expects, got's own
 * method runs unchanged.
 */
interface OptionsInternals {
  cache?: unknown;
  cacheOptions?: Record<string, unknown>;
}

type Build = (this: Options) => Record<string, unknown>;

const MARK = Symbol.for('bulk-delete.lean-request-options');

/** Installs the lean build on got's `Options` once per process; answers whether it is in place. */
export function leanRequestOptions(): boolean {
  const proto = Options.prototype as unknown as Record<string | symbol, unknown>;
  if (proto[MARK]) return true;
  const build = proto.createNativeRequestOptions as Build | undefined;
  if (typeof build !== 'function') return false;
  proto.createNativeRequestOptions = function leanBuild(this: Options) {
    const internals = (this as unknown as { _internals?: OptionsInternals })._internals;
    if (!internals || internals.cache || typeof internals.cacheOptions !== 'object') {
      return build.call(this);
    }
    const cacheOptions = internals.cacheOptions;
    internals.cacheOptions = undefined;
    try {
      return build.call(this);
    } finally {
      internals.cacheOptions = cacheOptions;
    }
  };
  proto[MARK] = build;
  return true;
}

/** got's own build, for tests that compare the two. */
export function gotsOwnBuild(): Build | undefined {
  return (Options.prototype as unknown as Record<symbol, Build | undefined>)[MARK];
}
