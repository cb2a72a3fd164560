import { WorkflowUpdateFailedError } from '@temporalio/client';
import { approveUpdate } from '../../workflows/definitions.js';
import { selectionToReadAgain } from '../cleanup-selection.js';
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
