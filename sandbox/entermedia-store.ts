import type { DamAssetSeed, EnterMediaSeed } from './state-schema.js';

/** EnterMediaDB's assets and the session key that the cookie must carry. */
export class EnterMediaStore {
  key = '';
  readonly assets = new Map<string, DamAssetSeed>();
  /** Assets in creation order for search paging; deleted ones are dropped lazily at the next search. */
  private order: DamAssetSeed[] = [];
  private orderStale = false;

  load(seed: EnterMediaSeed): void {
    this.key = seed.key;
    this.assets.clear();
    for (const a of seed.assets) this.assets.set(a.id, a);
    this.order = [...seed.assets];
    this.orderStale = false;
  }

  export(): EnterMediaSeed {
    return { key: this.key, assets: this.list() };
  }

  list(): DamAssetSeed[] {
    if (this.orderStale) {
      this.order = this.order.filter((a) => this.assets.get(a.id) === a);
      this.orderStale = false;
    }
    return this.order;
  }

  delete(id: string): boolean {
    const gone = this.assets.delete(id);
    if (gone) this.orderStale = true;
    return gone;
  }
}
