/**
 * The coordinator of shared rate limits: one running workflow per namespace (id `bulk-delete-rate-shares`
 * unless BULK_DELETE_RATE_SHARES_ID says otherwise) that leases each worker process a share of every
 * system's `*_MAX_RPS` for a short term. Workers ask and renew through the `requestShares` update
 * (update-with-start, so the first of them starts it) every 0.3 s, sooner while capacity moves between
 * them; the arithmetic and the argument that the shares never add up to more than the limit are in
 * plan/rate-shares.ts.
 *
 * It has no timers and no activities: it wakes only for updates, and continues as new before its history
 * grows long, carrying the unexpired claims.
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineUpdate,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import {
  decideShares,
  freshState,
  prune,
  type ShareGrant,
  type ShareRequest,
  type SharesState,
} from '../plan/rate-shares.js';

export type { ShareGrant, ShareRequest, SharesState } from '../plan/rate-shares.js';

/** The workflow ID the workers use when BULK_DELETE_RATE_SHARES_ID is unset. */
export const RATE_SHARES_WORKFLOW_ID = 'bulk-delete-rate-shares';

/** Updates handled by one run before it continues as new (about five history events each, so about 7,500 events, under the 10,240 the server warns at: one run every few minutes, not every minute). @default 1500 */
export const DEFAULT_UPDATES_PER_RUN = 1500;

export interface RateSharesInput {
  /** Claims carried from the previous run; unset for a coordinator that starts afresh. */
  state?: SharesState;
  /** Updates one run handles before it continues as new. @default DEFAULT_UPDATES_PER_RUN */
  updatesPerRun?: number;
}

/** Asks for (or renews) a worker's shares; answers at once with the grant. */
export const requestSharesUpdate = defineUpdate<ShareGrant, [ShareRequest]>('requestShares');
/** The coordinator's state: who holds what until when. */
export const sharesQuery = defineQuery<SharesState>('shares');

export async function rateSharesWorkflow(input: RateSharesInput = {}): Promise<void> {
  let state = input.state ?? freshState(Date.now());
  const updatesPerRun = input.updatesPerRun ?? DEFAULT_UPDATES_PER_RUN;
  let handled = 0;
  setHandler(
    requestSharesUpdate,
    (request) => {
      handled++;
      const decided = decideShares(state, request, Date.now());
      state = decided.state;
      return decided.grant;
    },
    { validator: validateRequest },
  );
  setHandler(sharesQuery, () => state);
  await condition(() => handled >= updatesPerRun || workflowInfo().continueAsNewSuggested);
  await condition(allHandlersFinished);
  await continueAsNew<typeof rateSharesWorkflow>({ state: prune(state, Date.now()), updatesPerRun });
}

/** Refuses a malformed request before it reaches the history. */
function validateRequest(request: ShareRequest): void {
  if (typeof request.worker !== 'string' || request.worker.length === 0 || request.worker.length > 200) {
    throw new TypeError('requestShares: worker must be a non-empty id');
  }
  if (!['lease', 'static', 'none'].includes(request.holding)) {
    throw new TypeError('requestShares: holding must be lease, static or none');
  }
  if (!Number.isInteger(request.workerCount) || request.workerCount < 1) {
    throw new TypeError('requestShares: workerCount must be a positive integer');
  }
  for (const [system, demand] of Object.entries(request.systems)) {
    if (!demand || !(demand.limit > 0) || !(demand.rate >= 0)) {
      throw new TypeError(`requestShares: systems.${system} needs a positive limit and rate >= 0`);
    }
  }
}
