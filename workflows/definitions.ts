/**
 * The outside of the bulk delete workflow: its input, result, queries, updates and signals. The client
 * imports these to start, watch, approve and cancel a run.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { PlanRef } from '../activities/contract.js';
import type {
  ItemFinal,
  LedgerEntry,
  MetadataSelect,
  Outcome,
  Plan,
  PlanItem,
  PlanOptions,
  PlannedStep,
  ReportSummary,
  RunStatus,
  SystemName,
} from '../plan/engine.js';

export type { PlannedStep };

export interface BulkDeleteInput {
  /** A plan small enough to travel inline (validated again by the workflow). */
  plan?: Plan;
  /** A large plan travels by reference instead; exactly one of `plan` and `planRef` is given. */
  planRef?: PlanRef;
  /** Discover and stop with the steps; change nothing. */
  dryRun?: boolean;
  /** Wait for an `approve` update quoting the digest of the discovered steps before deleting. */
  requireApproval?: boolean;
  /** Items per child workflow. @default 500 */
  chunkSize?: number;
  /** Child workflows running at once, once the first chunk has shown the failure rate. @default 4 */
  window?: number;
  /**
   * History length at which a run continues as new (Temporal also suggests it on its own).
   * @default 6000, well below Temporal's 10,240-event warning
   */
  maxHistoryEvents?: number;
  /**
   * How long the run may wait for a worker to pick it up, from the time it was started. A run that no
   * worker picks up within it ends without deleting anything when it finally starts, and says why, so
   * that a forgotten run does not delete later against a catalogue that has changed.
   * @default none here; `bulk-delete run --start-within` sends 10 minutes
   */
  startWithinMs?: number;
  /** How long a `requireApproval` run waits for `approve`; then it ends without deleting. @default 7 days */
  approvalTimeoutMs?: number;
  /**
   * The clean-up policy's selection that picked the items: each chunk reads their assets again just before
   * its first irreversible call and skips, in every system, the items the selection no longer picks.
   */
  recheck?: SelectionRecheck;
}

/**
 * A selection to confirm again before deleting (a scheduled clean-up run's): its TwelveLabs metadata, or
 * its manifest (read afresh; `name` names a CSV manifest's plan).
 */
export type SelectionRecheck = { twelvelabsMetadata: MetadataSelect } | { manifest: string; name: string };

export type Phase =
  | 'discover'
  | 'approval'
  | 'unlink'
  | 'delete-entities'
  | 'delete-items'
  | 'delete-assets'
  | 'remove-from-libraries'
  | 'delete-dam'
  | 'done';

/** The phases in the order a chunk walks them: the label a run shows never goes back in this order. */
export const PHASES: readonly Phase[] = [
  'discover',
  'approval',
  'unlink',
  'delete-entities',
  'delete-items',
  'delete-assets',
  'remove-from-libraries',
  'delete-dam',
  'done',
];

export interface PhaseCount {
  done: number;
  failed: number;
  remaining: number;
}

export interface Progress {
  plan: string;
  status: 'discovering' | 'awaiting-approval' | 'running' | 'stopping' | RunStatus;
  /** A dry run: it discovers and deletes nothing. Absent from runs started before this field. */
  dryRun?: boolean;
  phase: Phase;
  items: number;
  /** Items settled so far: in finished chunks, plus those the running chunks told (see `runningChunks`). */
  itemsDone: number;
  itemsFailed: number;
  /** Per system, items of finished chunks: finished, failed, still to do. */
  systems: Record<SystemName, PhaseCount>;
  /** Set once discovery is complete: what `approve` must quote. */
  digest?: string;
  /** `waiting`: running chunks that only wait on the last calls of their phase (they lent their place). */
  chunks: { total: number; done: number; running: number; waiting?: number };
  /** Workflow IDs of the chunks running now: query each with `chunkProgressQuery` for per-item progress. */
  runningChunks: string[];
}

export interface BulkDeleteResult {
  workflowId: string;
  plan: string;
  status: RunStatus;
  /** Why the run stopped early (failure threshold, cancel), if it did. */
  reason?: string;
  dryRun: boolean;
  digest?: string;
  summary: ReportSummary;
  /** Child workflow IDs whose results hold the items and the ledger, in plan order. */
  chunkWorkflowIds: string[];
}

/** What a chunk answers: how each item ended and the ledger of its calls; rows are derived from these. */
export interface ChunkResult {
  items: ItemFinal[];
  ledger: LedgerEntry[];
  summary: ReportSummary;
  /** Dry run and approval: the steps this chunk would take, and their digest. */
  steps?: PlannedStep[];
  digest?: string;
}

/** A running chunk's progress, answered by `chunkProgressQuery`. */
export interface ChunkProgress {
  chunk: number;
  phase: Phase;
  items: number;
  settled: number;
  failed: number;
  /**
   * While a phase runs: the items it settles (no call after it), each with the units of its calls in it
   * (entity, asset or library IDs, as its heartbeat's `done` lists them). Absent from older workers.
   */
  settling?: Record<string, string[]>;
}

export interface ChunkInput {
  parentWorkflowId: string;
  chunk: number;
  /**
   * `discover`: find references and answer the steps; `execute`: delete; `skip`: report every item not
   * started; `observe`: the chunk's record was lost, read each item's state in every system.
   */
  mode: 'discover' | 'execute' | 'skip' | 'observe';
  /** The chunk's items when the plan travels inline; otherwise they are read from `planRef`. */
  items?: PlanItem[];
  planRef?: PlanRef;
  offset: number;
  limit: number;
  options: PlanOptions;
  /** After approval: the digest this chunk's steps had when they were approved. */
  expectedDigest?: string;
  /** An inline plan's TwelveLabs assets, all chunks': entities shared across chunks are decided alike. */
  planAssetIds?: string[];
  /** For `skip` and `observe`: why. */
  reason?: string;
  /**
   * Started beside the run's first chunk, before that chunk showed the failure rate: discover (reads
   * only), then ask the parent (`chunkTallySignal` with `gated`) and wait for its answer before the first
   * irreversible call. The parent answers once the first chunk finished, or with `stop`.
   */
  gated?: boolean;
  /** For `execute`: the run's selection to confirm again before the first irreversible call. */
  recheck?: SelectionRecheck;
}

/** Items a chunk (child workflow) holds: 500 unless the run says otherwise, 2,000 at most. */
export const DEFAULT_CHUNK_SIZE = 500;
export const MAX_CHUNK_SIZE = 2000;
/** Chunks busy at once: 4 unless the run says otherwise, 50 at most (waiting ones lend their place). */
export const DEFAULT_WINDOW = 4;
export const MAX_WINDOW = 50;

/** The failure tally a chunk sends its parent when its count of failed items changed. */
export interface ChunkTally {
  chunk: number;
  seq: number;
  settled: number;
  failed: number;
  /** A gated chunk asks to go on: the parent answers once the run's first chunk finished. */
  gated?: boolean;
}

export const progressQuery = defineQuery<Progress>('progress');
export const chunkProgressQuery = defineQuery<ChunkProgress>('chunkProgress');
/**
 * `recheck`: a scheduled clean-up's selection, sent by the command line when the run's bulk delete was
 * started without it (by a version before its chunks read the selection again); its chunks read it again
 * too. Absent from older command lines.
 */
export const approveUpdate = defineUpdate<
  { approved: true; digest: string },
  [{ digest: string; recheck?: SelectionRecheck }]
>('approve');
/** Chunk to parent: my failures changed; answer with `tallyAckSignal` before my next irreversible phase. */
export const chunkTallySignal = defineSignal<[ChunkTally]>('chunkTally');
/** Parent to chunk: the tally `seq` was counted; `stop` says the run is over its failure threshold. */
export const tallyAckSignal = defineSignal<[{ seq: number; stop?: string }]>('tallyAck');
/**
 * A running `deleteItems` activity to its chunk: of the items it was given, how many ended so far and how
 * many of those failed. Sent when the failures change, and once `whenSettled` items ended; `phase` is the
 * number the chunk gave the activity, so that a late tally of an ended phase is ignored.
 */
export interface PhaseTally {
  phase: number;
  settled: number;
  failed: number;
}
export const phaseTallySignal = defineSignal<[PhaseTally]>('phaseTally');
/**
 * A running phase activity to its chunk: most of its units are done (`MOSTLY_DONE`), the rest wait on
 * retries, a `Retry-After` or entities settling. `phase` is the number the chunk gave the activity.
 */
export const phaseTailSignal = defineSignal<[{ phase: number }]>('phaseTail');
/**
 * Chunk to parent: whether the chunk only waits on the last units of its running phase. A waiting chunk
 * lends its place in the window to a new chunk (twice the window at most in all), and takes it back when
 * its next phase starts.
 */
export const chunkWaitingSignal = defineSignal<[{ chunk: number; waiting: boolean }]>('chunkWaiting');
/** Asks a chunk to stop at its next phase boundary (after the calls in flight) and report what it did. */
export const stopChunkSignal = defineSignal<[{ reason: string }]>('stopChunk');

export type { Outcome };
