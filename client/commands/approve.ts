import { WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { valueOfPayload } from '../../config/payload-codec.js';
import { CleanupPolicy } from '../../plan/index.js';
import { approveUpdate, type BulkDeleteInput, type SelectionRecheck } from '../../workflows/definitions.js';
import { CliError, EXIT, commandSpec, defineCommand } from '../command.js';
import { withClient } from '../temporal-client.js';
import { resolveRunningRun } from '../run-ref.js';

const spec = commandSpec({
  usage: 'approve ID --digest D',
  description: `
Approves a run started with --require-approval, which waits after discovery. D must be the digest of
the steps it discovered (shown by "run --wait", "status" and the Web UI): a wrong digest is refused
and nothing is deleted (exit 2).`,
  options: { digest: { type: 'string' } },
  optionHelp: { digest: 'the digest of the discovered steps, as shown by status' },
  valueNames: { digest: 'D' },
  positionals: ['ID'],
});

/** `bulk-delete approve ID --digest D`. */
export const approveCommand = defineCommand('approve', spec, async (args, io) => {
  const digest = args.values.digest;
  if (!digest) throw new CliError(`missing --digest D\nusage: bulk-delete ${spec.usage}`);
  if (!/^[0-9a-f]{64}$/.test(digest)) {
    throw new CliError(`--digest must be 64 lower-case hex characters (a SHA-256), got "${digest}"`);
  }
  return withClient(io.env, async ({ client }) => {
    const workflowId = await resolveRunningRun(
      client,
      args.positionals[0]!,
      io,
      (id, status) => `${id} is ${status}: there is nothing to approve`,
    );
    try {
      const recheck = await selectionToReadAgain(client, workflowId);
      await client.workflow
        .getHandle(workflowId)
        .executeUpdate(approveUpdate, { args: [{ digest, ...(recheck ? { recheck } : {}) }] });
    } catch (error) {
      if (error instanceof WorkflowUpdateFailedError) {
        throw new CliError(`${workflowId}: ${error.cause?.message ?? error.message}`);
      }
      throw error;
    }
    io.out(`approved ${workflowId} (digest ${digest}): deleting now`);
    io.out(`follow it with: bulk-delete status ${workflowId} --follow`);
    return EXIT.ok;
  });
});

/** The input a workflow execution was started with. */
async function startInput<T>(client: Client, workflowId: string, runId?: string): Promise<T | undefined> {
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  return payload ? valueOfPayload<T>(client.options.loadedDataConverter, payload) : undefined;
}

/**
 * A scheduled clean-up's selection, for a bulk delete that clean-up started without it (a worker before
 * its chunks read the selection again started it): sent with the approval, so that the chunks, started
 * now, read it again before deleting, as those of a run started since do.
 */
async function selectionToReadAgain(
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
