/** The Uplynk phase: remove assets from libraries, grouped per library, several IDs per call. */
import type { Activities, ItemAsset } from './contract.js';
import { groupBy, runPhase, settle, type PhaseLog } from './phase-runner.js';
import type { UplynkClient } from './uplynk-client.js';

type UplynkActivities = Pick<Activities, 'removeFromLibraries'>;

export function createUplynkActivities(deps: {
  /** The client, or a non-retryable `MissingCredentialsError` thrown when owner ID or key is not set. */
  client: () => UplynkClient;
  parallelism: number;
}): UplynkActivities {
  return {
    async removeFromLibraries({ removals }) {
      if (removals.every((r) => r.targets.length === 0)) return { entries: [], failures: [] };
      const client = deps.client();
      // One list per library; an asset named twice in a library (two items) is sent once.
      const units = [...groupBy(removals, (r) => r.libraryId)].map(([libraryId, inLibrary]) => ({
        libraryId,
        assets: groupBy(
          inLibrary.flatMap((r) => r.targets),
          (t) => t.assetId,
        ),
      }));
      return runPhase({
        units,
        keyOf: (u) => u.libraryId,
        parallelism: deps.parallelism,
        run: async ({ libraryId, assets }, log) =>
          void (await removeFromLibrary(client, libraryId, assets, log)),
      });
    },
  };
}

/**
 * Removes assets from one library, several IDs per call (as many as fit a URL); `assets` maps each Uplynk
 * asset to the plan items it stands for. Answers the assets whose removal was answered (each call's
 * targets are answered together); a call refused fails its targets' items in `log`.
 */
export async function removeFromLibrary(
  client: UplynkClient,
  libraryId: string,
  assets: ReadonlyMap<string, readonly ItemAsset[]>,
  log: PhaseLog,
): Promise<Set<string>> {
  const removed = new Set<string>();
  const entryOf = (t: ItemAsset) => ({
    item: t.item,
    system: 'uplynk' as const,
    step: 'remove-from-library' as const,
    target: `${libraryId}/${t.assetId}`,
  });
  let groups: string[][];
  try {
    groups = client.groupForUrl(libraryId, [...assets.keys()]);
  } catch (error) {
    // An ID that is not safe in a URL: no call; its items fail.
    const refused = error instanceof Error ? error : new Error(String(error));
    await settle(log, [...assets.values()].flat().map(entryOf), () => Promise.reject(refused), {
      lostAnswer: false,
    });
    return removed;
  }
  for (const group of groups) {
    const answered = await settle(
      log,
      group.flatMap((assetId) => assets.get(assetId) ?? []).map(entryOf),
      async () => {
        await client.removeAssets(libraryId, group);
        // Uplynk answers alike whether or not the asset was a member: say only what it confirms.
        return { answer: 'removal-requested' };
      },
      // A library that is gone (404) removed nothing, whatever an earlier try did.
      { lostAnswer: false },
    );
    if (answered) for (const assetId of group) removed.add(assetId);
  }
  return removed;
}
