/**
 * Records the histories that the replay test guards: a few runs of the current workflows on a dev server
 * and the sandbox, each workflow's history (parent and chunks) saved under `test/workflows/histories/`.
 * Run it when a workflow change is meant to be incompatible (with a version bump), never to make the
 * replay test pass: `node --import tsx test/workflows/record-histories.ts TAG` (keep the older files).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { startBulkDelete } from '../../client/start.js';
import { Plan } from '../../plan/index.js';
import { approveUpdate, progressQuery } from '../../workflows/index.js';
import { activitiesFor, startStack } from '../helpers/stack.js';
import { uniqueTaskQueue, withWorker } from '../helpers/temporal.js';

const DIR = fileURLToPath(new URL('./histories/', import.meta.url));
/** A tag for the file names, so that histories of each version of the workflows are kept side by side. */
const TAG = process.argv[2] ?? 'v1';

async function save(client: Client, name: string, workflowIds: string[]): Promise<void> {
  for (const [i, id] of workflowIds.entries()) {
    const history = await client.workflow.getHandle(id).fetchHistory();
    // The proto JSON form (what `temporal workflow show --output json` writes), which replay reads back.
    const json: unknown = JSON.parse(historyToJSON(history));
    await writeFile(
      `${DIR}${TAG}-${name}-${i}.json`,
      `${JSON.stringify({ workflowId: id, history: json })}\n`,
    );
  }
}

async function main(): Promise<void> {
  await mkdir(DIR, { recursive: true });
  const stack = await startStack();
  try {
    const client = stack.temporal.client;
    const { plan: generated, env } = await stack.sandbox.generate(198, 3);
    const part = (name: string, from: number, to: number) =>
      Plan.parse({ ...generated, name, items: generated.items.slice(from, to) });
    const taskQueue = uniqueTaskQueue('record');
    await withWorker(stack.temporal, taskQueue, activitiesFor(env), async () => {
      // A plain run over three chunks (entities, indexed assets, libraries, DAM).
      const plain = part('plain', 0, 24);
      const run = await startBulkDelete(
        client,
        { plan: plain },
        { taskQueue, workflowId: 'replay-plain', chunkSize: 10 },
      );
      const result = await run.result();
      await save(client, 'plain', [run.workflowId, ...result.chunkWorkflowIds]);

      // A run that waits for approval and is approved.
      const approval = part('approval', 24, 36);
      const approved = await startBulkDelete(
        client,
        { plan: approval },
        { taskQueue, workflowId: 'replay-approval', chunkSize: 6, requireApproval: true },
      );
      for (;;) {
        const p = await approved.query(progressQuery);
        if (p.digest) {
          await approved.executeUpdate(approveUpdate, { args: [{ digest: p.digest }] });
          break;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      const approvedResult = await approved.result();
      await save(client, 'approval', [approved.workflowId, ...approvedResult.chunkWorkflowIds]);

      // A run cancelled while its first chunk runs.
      await stack.sandbox.faults({ twelvelabs: { latencyMs: [300, 300] } });
      const cancelPlan = part('cancelled', 36, 48);
      const cancelled = await startBulkDelete(
        client,
        { plan: cancelPlan },
        { taskQueue, workflowId: 'replay-cancel', chunkSize: 4, window: 1 },
      );
      await new Promise((r) => setTimeout(r, 1500));
      await cancelled.cancel();
      await cancelled.result().catch(() => undefined);
      await save(client, 'cancel', [cancelled.workflowId, `${cancelled.workflowId}/chunk-00000`]);

      // A run cancelled while its first chunk runs and the others of its window, gated, wait for it.
      const gatedPlan = part('cancelled-gated', 36, 48);
      const gated = await startBulkDelete(
        client,
        { plan: gatedPlan },
        { taskQueue, workflowId: 'replay-cancel-gated', chunkSize: 4, window: 3 },
      );
      await new Promise((r) => setTimeout(r, 1500));
      await gated.cancel();
      await gated.result().catch(() => undefined);
      await save(client, 'cancel-gated', [
        gated.workflowId,
        ...[0, 1, 2].map((i) => `${gated.workflowId}/chunk-0000${i}`),
      ]);

      // A run whose first chunk is smaller than the others (50 items, then 60 and 40).
      const smallFirst = part('small-first', 48, 198);
      const small = await startBulkDelete(
        client,
        { plan: smallFirst },
        { taskQueue, workflowId: 'replay-small-first', chunkSize: 60, window: 3 },
      );
      const smallResult = await small.result();
      await save(client, 'small-first', [small.workflowId, ...smallResult.chunkWorkflowIds]);
    });
  } finally {
    await stack.close();
  }
}

await main();
