/**
 * The outside of the bulk delete workflow: its input, result, queries, updates and signals. The client
 * imports these to start, watch, approve and cancel a run.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { PlanRef } from '../activities/contract.js';
import type { PlannedStep } from '../plan/steps.js';
import type {
  Outcome,
  Plan,
  PlanItem,
  PlanOptions,
  ReportRow,
  ReportSummary,
  RunStatus,
  SystemName,
} from '../plan/index.js';

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
  /** Items per child workflow. @default 100 */
  chunkSize?: number;
  /** Child workflows running at once. @default 4 */
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
   * @default 600000 (10 minutes; `bulk-delete run --start-within`)
   */
  startWithinMs?: number;
}

export type Phase =
  | 'discover'
  | 'approval'
  | 'unlink'
  | 'wait-entities'
  | 'delete-indexed-assets'
  | 'delete-assets'
  | 'remove-from-libraries'
  | 'delete-dam'
  | 'verify'
  | 'done';

export interface PhaseCount {
  done: number;
  failed: number;
  remaining: number;
}

export interface Progress {
  plan: string;
  status: 'discovering' | 'awaiting-approval' | 'running' | 'stopping' | RunStatus;
  phase: Phase;
  items: number;
  itemsDone: number;
  itemsFailed: number;
  /** Per system: items whose part in that system is finished, failed, still to do. */
  systems: Record<SystemName, PhaseCount>;
  /** Set once discovery is complete: what `approve` must quote. */
  digest?: string;
  chunks: { total: number; done: number; running: number };
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
  /** Child workflow IDs whose results hold the report rows, in plan order. */
  chunkWorkflowIds: string[];
}

export interface ChunkResult {
  rows: ReportRow[];
  /** Dry run and approval: the steps this chunk would take, and their digest. */
  steps?: PlannedStep[];
  digest?: string;
}

/** What a chunk has settled so far, per system (cumulative for that chunk). */
export interface ChunkProgress {
  chunk: number;
  phase: Phase;
  systems: Record<SystemName, { total: number; done: number; failed: number }>;
}

export interface ChunkInput {
  parentWorkflowId: string;
  chunk: number;
  /** `discover`: find references and answer the steps; `execute`: delete; `skip`: report every item skipped. */
  mode: 'discover' | 'execute' | 'skip';
  /** The chunk's items when the plan travels inline; otherwise they are read from `planRef`. */
  items?: PlanItem[];
  planRef?: PlanRef;
  offset: number;
  limit: number;
  options: PlanOptions;
  /** After approval: the digest this chunk's steps had when they were approved. */
  expectedDigest?: string;
  /** For `skip`: why. */
  skipReason?: string;
}

export const progressQuery = defineQuery<Progress>('progress');
export const approveUpdate = defineUpdate<{ approved: true; digest: string }, [{ digest: string }]>(
  'approve',
);
export const chunkProgressSignal = defineSignal<[ChunkProgress]>('chunkProgress');
/** Asks a chunk to stop at its next step boundary (after the calls in flight) and report what it did. */
export const stopChunkSignal = defineSignal<[{ reason: string }]>('stopChunk');

export type { Outcome };
