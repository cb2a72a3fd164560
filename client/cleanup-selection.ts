/**
 * The selection of a scheduled clean-up, for its bulk delete started without it by a version before chunks
 * read the selection again: `approve` and `retry` send it, so that the chunks they start read it again.
 */
import type { Client } from '@temporalio/client';
import { valueOfPayload } from '../config/payload-codec.js';
import { CleanupPolicy } from '../plan/index.js';
import type { BulkDeleteInput, SelectionRecheck } from '../workflows/definitions.js';

/** The input a workflow execution was started with. */
async function startInput<T>(client: Client, workflowId: string, runId?: string): Promise<T | undefined> {
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  return payload ? valueOfPayload<T>(client.options.loadedDataConverter, payload) : undefined;
}

/**
 * A scheduled clean-up's selection, for a bulk delete that clean-up started without it (a worker before
 * its chunks read the selection again started it), derived from the clean-up's policy as the clean-up
 * derives it; undefined for any other run, or one that carries its selection.
 */
export async function selectionToReadAgain(
  client: Client,
  workflowId: string,
): Promise<SelectionRecheck | undefined> {
  const { parentExecution: parent } = await client.workflow.getHandle(workflowId).describe();
  if (!parent?.workflowId) return undefined;
  const input = await startInput<BulkDeleteInput>(client, workflowId);
  if (!input || input.recheck) return undefined;
  const started = await startInput<{ policy?: unknown }>(
    client,
    parent.workflowId,
    parent.runId ?? undefined,
  );
  const policy = CleanupPolicy.safeParse(started?.policy);
  if (!policy.success) return undefined;
  const { select, name } = policy.data;
  if (select.twelvelabsMetadata) return { twelvelabsMetadata: select.twelvelabsMetadata };
  // As the clean-up does: an inline manifest is read again, one that travels by reference is not.
  if (select.manifest !== undefined && input.plan) return { manifest: select.manifest, name };
  return undefined;
}
