import type { Store } from './store.js';

/** Elements per chunk: big enough to amortize writes, small enough to keep memory flat. */
const BATCH = 500;

function* array<T>(items: Iterable<T>, view: (x: T) => unknown = (x) => x): Generator<string> {
  let batch: string[] = [];
  let first = true;
  yield '[';
  for (const item of items) {
    batch.push(JSON.stringify(view(item)));
    if (batch.length === BATCH) {
      yield (first ? '' : ',') + batch.join(',');
      first = false;
      batch = [];
    }
  }
  if (batch.length) yield (first ? '' : ',') + batch.join(',');
  yield ']';
}

/**
 * The state as JSON text in chunks, the same document as `JSON.stringify(store.export())`: a catalogue
 * of 100,000 items is some 70 MB of JSON, and building it as one string (plus a copy of the state)
 * would double the sandbox's memory for as long as the answer takes.
 */
export function* stateJsonChunks(store: Store, now: number): Generator<string> {
  const tl = store.twelvelabs;
  yield `{"entityReadyAfterMs":${store.entityReadyAfterMs},"twelvelabs":{"apiKey":${JSON.stringify(tl.apiKey)},"assets":`;
  yield* array(tl.listAssets());
  yield ',"indexes":';
  yield* array(tl.indexes.values());
  yield ',"indexedAssets":';
  yield* array(tl.indexedAssets.values());
  yield ',"entityCollections":';
  yield* array(tl.collections.values());
  yield ',"entities":';
  yield* array(tl.entities.values(), (e) => {
    const { changedAtMs: _, ...rest } = e;
    return { ...rest, status: tl.entityStatus(e, now) };
  });
  const up = store.uplynk;
  yield `},"uplynk":{"ownerId":${JSON.stringify(up.ownerId)},"apiKey":${JSON.stringify(up.apiKey)},"libraries":`;
  yield* array(up.libraries.values(), (l) => ({ ...l, asset_ids: [...l.asset_ids] }));
  yield `},"entermedia":{"key":${JSON.stringify(store.entermedia.key)},"assets":`;
  yield* array(store.entermedia.list());
  yield '}}';
}
