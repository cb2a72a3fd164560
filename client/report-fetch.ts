import { WorkflowFailedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { ChildWorkflowFailure } from '@temporalio/common';
import {
  RunStatus,
  chainLedger,
  rowsOf,
  summarize,
  type LedgerEntry,
  type PlannedStep,
  type Report,
  type ReportRow,
} from '../plan/index.js';
import { progressQuery, type BulkDeleteResult, type ChunkResult } from '../workflows/index.js';

export interface FetchedReport {
  report: Report;
  /** The run's result, when it completed; undefined for a run that is open, cancelled or failed. */
  result: BulkDeleteResult | undefined;
  /** A dry run's steps, or those of a run waiting for approval, in plan order. */
  steps: PlannedStep[];
  /** A run waiting for approval: the digest `approve` must quote. */
  awaitingDigest?: string;
  /**
   * Why a run failed before it could end its report (no memo): the root cause and the chunk it came from.
   * Its rows are then those of the chunks that finished.
   */
  failure?: string;
  /** Why the run's report and receipt could not be archived in `BULK_DELETE_REPORT_STORE`, if so. */
  archiveFailure?: string;
}

/** The warning a command prints for a run whose archive failed. */
export function archiveWarning(workflowId: string, why: string): string {
  return (
    `warning: the report of ${workflowId} was not archived in BULK_DELETE_REPORT_STORE (${why}); ` +
    `keep it with "bulk-delete report ${workflowId} --out FILE" before the run leaves Temporal`
  );
}

/**
 * What a workflow failure comes down to, with the child workflow it came from: "Child Workflow execution
 * failed" says neither.
 */
export function failureMessage(error: unknown): string {
  let where: string | undefined;
  let at: unknown = error;
  while (at instanceof Error && at.cause instanceof Error) {
    if (at instanceof ChildWorkflowFailure) where = at.execution.workflowId ?? where;
    at = at.cause;
  }
  const message = at instanceof Error ? at.message : String(at);
  return where ? `${where}: ${message}` : message;
}

/**
 * The chunks a run started, found by their IDs (deterministic and numbered in order), for a run that ended
 * without saying how many (no memo): `chunk-N`, and `observe-N` where the first lost its record.
 */
async function startedChunkIds(client: Client, workflowId: string): Promise<string[]> {
  const exists = (id: string) =>
    client.workflow
      .getHandle(id)
      .describe()
      .then(
        () => true,
        (error: unknown) => {
          if (error instanceof WorkflowNotFoundError) return false;
          throw error;
        },
      );
  const ids: string[] = [];
  for (let from = 0; ; from += 16) {
    const batch = Array.from({ length: 16 }, (_, i) => from + i);
    const found = await Promise.all(
      batch.map(async (i) => {
        const chunk = `${workflowId}/chunk-${pad(i)}`;
        const observe = `${workflowId}/observe-${pad(i)}`;
        const [c, o] = await Promise.all([exists(chunk), exists(observe)]);
        return [...(c ? [chunk] : []), ...(o ? [observe] : [])];
      }),
    );
    for (const idsOfChunk of found) {
      if (idsOfChunk.length === 0) return ids;
      ids.push(...idsOfChunk);
    }
  }
}

/** What a run that ended keeps in its memo (`result`), as workflows/bulk-delete.workflow.ts `end()` writes it. */
export interface MemoResult extends Omit<BulkDeleteResult, 'chunkWorkflowIds'> {
  chunks: number;
  /** Chunks whose record was lost and whose items were read afterwards. */
  observedChunks?: number[];
}

function pad(n: number): string {
  return String(n).padStart(5, '0');
}

/** The chunk workflow IDs of a run that ended, from its memo (chunk IDs are deterministic). */
export function chunkIdsOf(
  workflowId: string,
  memo: Pick<MemoResult, 'chunks' | 'dryRun' | 'observedChunks'>,
): string[] {
  const prefix = memo.dryRun ? 'discover' : 'chunk';
  const observed = new Set(memo.observedChunks ?? []);
  return Array.from(
    { length: memo.chunks },
    (_, i) => `${workflowId}/${observed.has(i) ? 'observe' : prefix}-${pad(i)}`,
  );
}

/**
 * A chunk of a run is no longer in Temporal: retention removes a run's chunks before the run itself (they
 * close first), so for a while the run is there and its report cannot be assembled from it.
 */
export class ChunkGoneError extends Error {
  constructor(
    readonly workflowId: string,
    readonly chunkId: string,
  ) {
    super(
      `${chunkId} is no longer in Temporal: the report of ${workflowId} cannot be assembled from its history`,
    );
    this.name = 'ChunkGoneError';
  }
}

/**
 * The report of a run from its chunks' results, in chunk order; `head` is the hash at the head of the
 * receipt's chain over the ledger (plan/receipt.ts). A chunk that failed has no rows here.
 */
export async function assembleReport(
  client: Client,
  run: { workflowId: string; plan: string; status: Report['status'] },
  chunkIds: readonly string[],
): Promise<{ report: Report; steps: PlannedStep[] }> {
  const rows: ReportRow[] = [];
  const mutations: LedgerEntry[] = [];
  const steps: PlannedStep[] = [];
  for (const id of chunkIds) {
    let chunk: ChunkResult;
    try {
      chunk = (await client.workflow.getHandle(id).result()) as ChunkResult;
    } catch (error) {
      if (error instanceof WorkflowFailedError) continue;
      if (error instanceof WorkflowNotFoundError) throw new ChunkGoneError(run.workflowId, id);
      throw error;
    }
    rows.push(...rowsOf(chunk.items, chunk.ledger));
    mutations.push(...chunk.ledger);
    steps.push(...(chunk.steps ?? []));
  }
  const { head } = chainLedger(run.workflowId, mutations);
  return {
    report: { ...run, summary: summarize(rows), rows, mutations, head },
    steps,
  };
}

/**
 * The report of a run, assembled from its chunks' results (the rows never travel through the parent,
 * whose payloads must stay small). Works for completed, cancelled and stopped runs; for an open run it
 * answers the rows of the chunks finished so far, with status `running`.
 */
export async function fetchReport(client: Client, workflowId: string): Promise<FetchedReport> {
  const handle = client.workflow.getHandle(workflowId);
  const description = await handle.describe();
  let result: BulkDeleteResult | undefined;
  let chunkIds: string[];
  let status: Report['status'];
  let plan = typeof description.memo?.plan === 'string' ? description.memo.plan : '';
  let awaitingDigest: string | undefined;
  let failure: string | undefined;
  if (description.status.name === 'COMPLETED') {
    result = (await handle.result()) as BulkDeleteResult;
    chunkIds = result.chunkWorkflowIds;
    status = result.status;
    plan = result.plan;
  } else {
    const memo = description.memo?.result as MemoResult | undefined;
    if (memo) {
      status = RunStatus.catch('failed').parse(memo.status);
      chunkIds = chunkIdsOf(workflowId, memo);
      // A run that stopped early or was cancelled has no result: its memo says the same.
      result = { ...memo, chunkWorkflowIds: chunkIds };
      plan = memo.plan;
    } else if (description.status.name !== 'RUNNING') {
      // Ended before its end wrote the memo (a chunk failed for good, the run was terminated): what its
      // finished chunks did is still the record, and the failure says why it stopped.
      status = description.status.name === 'CANCELLED' ? 'cancelled' : 'failed';
      chunkIds = await startedChunkIds(client, workflowId);
      failure = await handle.result().then(
        () => undefined,
        (error: unknown) =>
          error instanceof WorkflowFailedError ? failureMessage(error.cause ?? error) : undefined,
      );
    } else {
      // The rows so far: the chunks of the current pass that have finished (chunk IDs are deterministic).
      status = 'running';
      const progress = await handle.query(progressQuery);
      // Discovering or waiting for approval: the discover chunks hold the steps to review.
      const discovering =
        description.memo?.dryRun === true ||
        progress.status === 'discovering' ||
        progress.status === 'awaiting-approval';
      const prefix = discovering ? 'discover' : 'chunk';
      if (progress.status === 'awaiting-approval') awaitingDigest = progress.digest;
      const ids = Array.from(
        { length: progress.chunks.total },
        (_, i) => `${workflowId}/${prefix}-${pad(i)}`,
      );
      const finished = await Promise.all(
        ids.map((id) =>
          client.workflow
            .getHandle(id)
            .describe()
            .then((d) => (d.status.name === 'COMPLETED' ? id : undefined))
            .catch(() => undefined),
        ),
      );
      chunkIds = finished.filter((id): id is string => id !== undefined);
      plan = progress.plan;
    }
  }
  const { report, steps } = await assembleReport(client, { workflowId, plan, status }, chunkIds);
  // The run's end says in its memo when the archive could not be written (`archive: failed: ...`).
  const archive = description.memo?.archive;
  const archiveFailure =
    typeof archive === 'string' && archive.startsWith('failed: ')
      ? archive.slice('failed: '.length)
      : undefined;
  return {
    report,
    result,
    steps,
    ...(awaitingDigest ? { awaitingDigest } : {}),
    ...(failure ? { failure } : {}),
    ...(archiveFailure ? { archiveFailure } : {}),
  };
}
