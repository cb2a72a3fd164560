import type { UplynkSeed } from './state-schema.js';

export interface LibraryRecord {
  id: string;
  desc: string;
  owner_name: string;
  /** A set: removal of many IDs from a large library stays O(removed). */
  asset_ids: Set<string>;
}

/** Uplynk's libraries and the account's signing credentials. */
export class UplynkStore {
  ownerId = '';
  apiKey = '';
  readonly libraries = new Map<string, LibraryRecord>();

  load(seed: UplynkSeed): void {
    this.ownerId = seed.ownerId;
    this.apiKey = seed.apiKey;
    this.libraries.clear();
    for (const l of seed.libraries)
      this.libraries.set(l.id, {
        id: l.id,
        desc: l.desc,
        owner_name: l.owner_name,
        asset_ids: new Set(l.asset_ids),
      });
  }

  export(): UplynkSeed {
    return {
      ownerId: this.ownerId,
      apiKey: this.apiKey,
      libraries: [...this.libraries.values()].map((l) => ({ ...l, asset_ids: [...l.asset_ids] })),
    };
  }
}
