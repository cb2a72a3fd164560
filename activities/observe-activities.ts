/**
 * Reading the world when the record is lost: after a chunk failed, timed out or was terminated, what its
 * items look like now in every system that can be read. Uplynk has no read call (API.md): unknown there.
 */
import type { Observation, SystemName } from '../plan/index.js';
import type { Activities } from './contract.js';
import type { EnterMediaClient } from './entermedia-client.js';
import { CallError } from './http-errors.js';
import { runPhase } from './phase-runner.js';
import type { TwelveLabsClient } from './twelvelabs-client.js';

async function read(check: () => Promise<boolean>): Promise<Observation> {
  try {
    return (await check()) ? 'present' : 'gone';
  } catch (error) {
    if (error instanceof CallError && error.failure.disposition === 'absent') return 'gone';
    if (error instanceof CallError && error.failure.disposition !== 'batch') return 'unknown';
    throw error;
  }
}

export function createObserveActivities(deps: {
  twelvelabs: () => TwelveLabsClient;
  entermedia: () => EnterMediaClient;
  parallelism: number;
}): Pick<Activities, 'observeItems'> {
  return {
    async observeItems({ items }) {
      const out = new Map<string, Partial<Record<SystemName, Observation>>>();
      await runPhase({
        units: items,
        keyOf: (i) => i.id,
        parallelism: deps.parallelism,
        resumable: false,
        run: async (item) => {
          const observed: Partial<Record<SystemName, Observation>> = {};
          if (item.twelvelabs) {
            const id = item.twelvelabs.assetId;
            observed.twelvelabs = await read(async () => {
              await deps.twelvelabs().getAsset(id);
              return true;
            });
          }
          if (item.uplynk) observed.uplynk = 'unknown';
          if (item.entermedia) {
            const id = item.entermedia.assetId;
            observed.entermedia = await read(() => deps.entermedia().exists(id));
          }
          out.set(item.id, observed);
        },
      });
      return items.map((i) => ({ item: i.id, observed: out.get(i.id) ?? {} }));
    },
  };
}
