/** The EnterMediaDB phase: delete assets; search for those answered rowsedited "0" or whose answer was lost. */
import type { Activities, ItemAsset } from './contract.js';
import type { EnterMediaClient } from './entermedia-client.js';
import { CallError } from './http-errors.js';
import { LOST_ANSWER_GONE, runPhase, settle, uniqueBy, type PhaseLog } from './phase-runner.js';
import type { UnitContext } from './unit-context.js';

type EnterMediaActivities = Pick<Activities, 'deleteDamAssets'>;

export function createEnterMediaActivities(deps: {
  /** The client, or a non-retryable `MissingCredentialsError` thrown when base URL or key is not set. */
  client: () => EnterMediaClient;
  parallelism: number;
}): EnterMediaActivities {
  return {
    async deleteDamAssets({ assets }) {
      if (assets.length === 0) return { entries: [], failures: [] };
      const client = deps.client();
      return runPhase({
        units: uniqueBy(assets, (a) => a.assetId),
        keyOf: (a) => a.assetId,
        parallelism: deps.parallelism,
        run: async (unit, log, ctx) => void (await deleteDamUnit(client, unit, log, ctx)),
      });
    },
  };
}

/**
 * Deletes one DAM asset; one answered rowsedited "0", or whose first answer was lost, is searched for
 * afterwards. Answers true when the asset is answered gone (and, after such an answer, not found again).
 */
export async function deleteDamUnit(
  client: EnterMediaClient,
  { item, assetId }: ItemAsset,
  log: PhaseLog,
  ctx: UnitContext,
): Promise<boolean> {
  const target = {
    item,
    system: 'entermedia' as const,
    step: 'delete-dam-asset' as const,
    target: assetId,
  };
  // rowsedited "0" read as "already absent" is an assumption (API.md): a search confirms it.
  let noRows = false;
  const settled = await settle(
    log,
    [target],
    async () => {
      const rows = await client.deleteAsset(assetId);
      if (rows > 0) return { answer: 'deleted' };
      noRows = true;
      // Undocumented by the vendor: rowsedited "0" is read as "was not there", unless an earlier try of
      // ours may have deleted it and its answer was lost.
      if (!ctx.lostAnswer) return { answer: 'already-absent', detail: 'rowsedited 0' };
      return { answer: 'deleted', detail: `rowsedited 0 on retry: ${LOST_ANSWER_GONE}` };
    },
    ctx,
  );
  // The answer alone confirms a delete (rowsedited 1); rowsedited "0" and a lost answer are confirmed
  // by a search.
  if (settled && (ctx.lostAnswer || noRows)) {
    try {
      if (await client.exists(assetId)) {
        log.failure({
          item,
          system: 'entermedia',
          step: 'verify',
          detail: noRows
            ? `asset ${assetId} is still found after EnterMediaDB answered rowsedited "0"`
            : `asset ${assetId} is still found after the delete`,
        });
        return false;
      }
    } catch (error) {
      if (!(error instanceof CallError) || error.failure.disposition !== 'item') throw error;
    }
  }
  return settled;
}
