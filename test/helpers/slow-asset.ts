/**
 * A catalogue where one chunk waits on one asset: 30 TwelveLabs assets (items i0 to i29), of which i15
 * has 2,000 indexed assets, and TwelveLabs answering every call in 100 ms. In chunks of 10, the chunk of
 * i15 waits ~4 s on it (40 pages to list in a dry run, 2,000 deletes in a run) while its other nine are
 * done in ~0.3 s: what makes a chunk lend its place in the window.
 */
import { Plan } from '../../plan/index.js';
import type { TestSandbox } from './sandbox.js';

export const SLOW_ITEM = 'i15';
const SLOW = 15;
const ITEMS = 30;

const hex = (n: number): string => n.toString(16).padStart(24, '0');

/** Seeds the catalogue (with `apiKey`), slows TwelveLabs down, and answers the plan of all 30 items. */
export async function seedSlowAsset(sandbox: TestSandbox, apiKey: string, name: string): Promise<Plan> {
  await sandbox.reset();
  await sandbox.seed({
    twelvelabs: {
      apiKey,
      assets: Array.from({ length: ITEMS }, (_, n) => ({ _id: hex(0xa00 + n) })),
      indexes: [{ _id: hex(0x1d) }],
      indexedAssets: Array.from({ length: ITEMS }, (_, n) =>
        Array.from({ length: n === SLOW ? 2000 : 1 }, (_, k) => ({
          _id: hex(0x100000 * (n + 1) + k),
          index_id: hex(0x1d),
          asset_id: hex(0xa00 + n),
        })),
      ).flat(),
    },
  });
  await sandbox.faults({ twelvelabs: { latencyMs: [100, 100] } });
  return Plan.parse({
    name,
    items: Array.from({ length: ITEMS }, (_, n) => ({
      id: `i${n}`,
      twelvelabs: { assetId: hex(0xa00 + n) },
    })),
  });
}
