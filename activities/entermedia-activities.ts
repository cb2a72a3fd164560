/** The EnterMediaDB steps: delete assets, and read back which are still found. */
import { z } from 'zod';
import type { Activities } from './contract.js';
import { activityScope } from './activity-scope.js';
import { deleteEach, resumeProgress, runBatch } from './batch-runner.js';
import { CallError } from './http-errors.js';
import type { EnterMediaClient } from './entermedia-client.js';

type EnterMediaActivities = Pick<Activities, 'deleteEnterMediaAssets' | 'findEnterMediaAssets'>;

const FoundSchema = z.object({ key: z.string(), found: z.boolean() });

export function createEnterMediaActivities(deps: {
  /** The client, or a non-retryable `MissingCredentialsError` thrown when base URL or key is not set. */
  client: () => EnterMediaClient;
  parallelism: number;
}): EnterMediaActivities {
  return {
    async deleteEnterMediaAssets({ assetIds }) {
      if (assetIds.length === 0) return [];
      const client = deps.client();
      return deleteEach({
        targets: assetIds,
        keyOf: (assetId) => assetId,
        parallelism: deps.parallelism,
        remove: async (assetId) => {
          const rows = await client.deleteAsset(assetId);
          // Undocumented by the vendor (API.md): rowsedited "0" is read as "was not there".
          return rows === 0
            ? {
                key: assetId,
                outcome: 'already-absent',
                detail: `asset ${assetId} was not there (rowsedited 0)`,
              }
            : { key: assetId, outcome: 'deleted', detail: `deleted asset ${assetId}` };
        },
      });
    },

    async findEnterMediaAssets({ assetIds }) {
      if (assetIds.length === 0) return [];
      const client = deps.client();
      const scope = activityScope();
      const progress = resumeProgress(scope, FoundSchema, (r) => r.key);
      await runBatch({
        units: [...new Set(assetIds)].filter((id) => !progress.has(id)),
        parallelism: deps.parallelism,
        scope,
        progress,
        run: async (assetId) => {
          let found = true;
          try {
            found = await client.exists(assetId);
          } catch (error) {
            if (!(error instanceof CallError) || error.failure.disposition === 'retry') throw error;
            if (error.failure.disposition === 'batch') throw error;
            // Cannot tell that it is gone: count it as still there, so nothing claims success.
            scope.warn('cannot verify an EnterMediaDB asset; counting it as still present', {
              assetId,
              error: error.failure.message,
            });
          }
          progress.record([{ key: assetId, found }]);
        },
      });
      return [...new Set(assetIds)].filter((id) => progress.get(id)?.found);
    },
  };
}
