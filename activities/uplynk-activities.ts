/** The Uplynk step: remove assets from libraries, grouped per library, several IDs per call. */
import type { Activities, ItemResult } from './contract.js';
import { activityScope } from './activity-scope.js';
import { ItemResultSchema, resumeProgress, runBatch } from './batch-runner.js';
import { CallError, failedResult } from './http-errors.js';
import type { UplynkClient } from './uplynk-client.js';

type UplynkActivities = Pick<Activities, 'removeFromUplynkLibraries'>;

/** The result key of one library/asset pair. */
export function membershipKey(libraryId: string, assetId: string): string {
  return `${libraryId}/${assetId}`;
}

export function createUplynkActivities(deps: {
  /** The client, or a non-retryable `MissingCredentialsError` thrown when owner ID or key is not set. */
  client: () => UplynkClient;
  parallelism: number;
}): UplynkActivities {
  return {
    async removeFromUplynkLibraries({ removals }) {
      if (removals.every((r) => r.assetIds.length === 0)) return [];
      const client = deps.client();
      const scope = activityScope();
      const progress = resumeProgress(scope, ItemResultSchema, (r) => r.key);

      // One list of assets per library, in first-seen order, without pairs an earlier attempt settled;
      // grouping after that filter means a retry never resends an ID that was already removed.
      const keys: string[] = [];
      const seen = new Set<string>();
      const byLibrary = new Map<string, string[]>();
      for (const { libraryId, assetIds } of removals) {
        for (const assetId of assetIds) {
          const key = membershipKey(libraryId, assetId);
          if (seen.has(key)) continue;
          seen.add(key);
          keys.push(key);
          if (progress.has(key)) continue;
          const list = byLibrary.get(libraryId) ?? [];
          list.push(assetId);
          byLibrary.set(libraryId, list);
        }
      }
      const calls = [...byLibrary].flatMap(([libraryId, assetIds]) =>
        client.groupForUrl(libraryId, assetIds).map((group) => ({ libraryId, assetIds: group })),
      );

      await runBatch({
        units: calls,
        parallelism: deps.parallelism,
        scope,
        progress,
        run: async ({ libraryId, assetIds }) => {
          const each = (make: (key: string, assetId: string) => ItemResult) =>
            assetIds.map((assetId) => make(membershipKey(libraryId, assetId), assetId));
          try {
            await client.removeAssets(libraryId, assetIds);
            progress.record(
              each((key, assetId) => ({
                key,
                outcome: 'deleted',
                // Uplynk answers alike whether or not the asset was a member (API.md): say what we know.
                detail: `removed asset ${assetId} from library ${libraryId} (Uplynk does not say whether it was a member)`,
              })),
            );
          } catch (error) {
            if (!(error instanceof CallError)) throw error;
            const { failure } = error;
            if (failure.disposition === 'absent') {
              progress.record(
                each((key) => ({
                  key,
                  outcome: 'already-absent',
                  detail: `library is gone: ${failure.message}`,
                })),
              );
            } else if (failure.disposition === 'item') {
              progress.record(each((key) => failedResult(key, failure)));
            } else throw error;
          }
        },
      });
      return keys.map(
        (key) =>
          progress.get(key) ?? {
            key,
            outcome: 'failed',
            detail: 'no result recorded',
            errorType: 'InternalError',
          },
      );
    },
  };
}
