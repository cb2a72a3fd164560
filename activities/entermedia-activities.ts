/** The EnterMediaDB steps: delete assets, and read back which are still found. */
import type { Activities } from './contract.js';
import { deleteEach, findEach } from './batch-runner.js';
import type { EnterMediaClient } from './entermedia-client.js';

type EnterMediaActivities = Pick<Activities, 'deleteEnterMediaAssets' | 'findEnterMediaAssets'>;

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
      return findEach({
        ids: assetIds,
        parallelism: deps.parallelism,
        what: 'EnterMediaDB asset',
        exists: (assetId) => client.exists(assetId),
      });
    },
  };
}
