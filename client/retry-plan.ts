/**
 * What `bulk-delete retry` runs again: the items of a finished run that did not end deleted or already
 * absent, taken from the run's own plan (inline in its input, or re-read by reference and checked
 * against the SHA-256 it was submitted with).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { valueOfPayload } from '../config/payload-codec.js';
import type { PlanRef } from '../activities/contract.js';
import { getS3Object } from '../activities/object-store.js';
import { Plan, type Outcome, type Report } from '../plan/index.js';
import type { BulkDeleteInput } from '../workflows/definitions.js';
import { CliError } from './command.js';

/** Outcomes that a retry runs again. */
const RETRIED: ReadonlySet<Outcome> = new Set(['failed', 'skipped', 'partial']);

/**
 * The plan's items to run again, in plan order: those with a failed, skipped or partial row, and those
 * with no row at all (their chunk's record was lost: nothing says they were deleted).
 */
export function retryItems(plan: Plan, report: Pick<Report, 'rows'>): Plan['items'] {
  const outcomes = new Map<string, Outcome[]>();
  for (const row of report.rows) outcomes.set(row.item, [...(outcomes.get(row.item) ?? []), row.outcome]);
  return plan.items.filter((item) => {
    const seen = outcomes.get(item.id);
    return seen === undefined || seen.some((o) => RETRIED.has(o));
  });
}

/** The workflow ID a retry of `workflowId` gets: `<original>-retry-N`, N the first free (1, 2, ...). */
export async function retryWorkflowId(client: Client, workflowId: string): Promise<string> {
  const base = workflowId.replace(/-retry-\d+$/, '');
  for (let n = 1; ; n++) {
    const id = `${base}-retry-${n}`;
    try {
      await client.workflow.getHandle(id).describe();
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return id;
      throw error;
    }
  }
}

/**
 * The plan a run was started with (its input, inline, or the file it references, unchanged since), and
 * whether it waited for approval.
 */
export async function planOfRun(
  client: Client,
  workflowId: string,
  /** Where an `s3://` plan's settings are read (the standard AWS variables, `BULK_DELETE_S3_ENDPOINT`). */
  env: NodeJS.ProcessEnv = process.env,
): Promise<{
  plan: Plan;
  approval: Pick<BulkDeleteInput, 'requireApproval' | 'approvalTimeoutMs'>;
  /** A scheduled clean-up's selection, which its retries read again before deleting too. */
  recheck?: BulkDeleteInput['recheck'];
}> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  // An inline plan of 16 KiB or more is compressed (config/payload-codec.ts).
  const input = payload
    ? await valueOfPayload<BulkDeleteInput>(client.options.loadedDataConverter, payload)
    : undefined;
  const plan = input?.plan
    ? Plan.parse(input.plan)
    : input?.planRef
      ? await readPlanRef(input.planRef, env)
      : undefined;
  if (!plan) throw new CliError(`${workflowId} is not a bulk delete run: its input has no plan`);
  const { requireApproval, approvalTimeoutMs, recheck } = input!;
  return {
    plan,
    ...(recheck !== undefined ? { recheck } : {}),
    approval: {
      ...(requireApproval !== undefined ? { requireApproval } : {}),
      ...(approvalTimeoutMs !== undefined ? { approvalTimeoutMs } : {}),
    },
  };
}

/**
 * The bytes of a plan by reference, read as the workers read it: a file, an `s3://` object (the plan store)
 * or an http(s) URL answering 2xx.
 */
async function planBytes(uri: string, env: NodeJS.ProcessEnv): Promise<Buffer> {
  const url = new URL(uri);
  if (url.protocol === 'file:') return readFile(fileURLToPath(url));
  if (url.protocol === 's3:') {
    const bytes = await getS3Object(uri, env);
    if (!bytes) throw new Error('no such object');
    return bytes;
  }
  if (url.protocol === 'http:' || url.protocol === 'https:') {
    const response = await fetch(url);
    // An error page is not the plan: hashed, it would read as a plan that changed.
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return Buffer.from(await response.arrayBuffer());
  }
  throw new Error('neither file:, http(s): nor s3:');
}

async function readPlanRef(ref: PlanRef, env: NodeJS.ProcessEnv): Promise<Plan> {
  let bytes: Buffer;
  try {
    bytes = await planBytes(ref.uri, env);
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    throw new CliError(`cannot read the run's plan ${ref.uri}: ${e.code ?? e.message}; nothing was started`);
  }
  const actual = createHash('sha256').update(bytes).digest('hex');
  if (actual !== ref.sha256) {
    throw new CliError(
      `the run's plan ${ref.uri} changed since it was submitted (SHA-256 ${actual}, expected ${ref.sha256}): nothing was started`,
    );
  }
  const parsed = Plan.safeParse(JSON.parse(bytes.toString('utf8')));
  if (!parsed.success) throw new CliError(`the run's plan ${ref.uri} is no longer a valid plan`);
  return parsed.data;
}
