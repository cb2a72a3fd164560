/**
 * Workflow code is versioned code: every recorded history (test/workflows/histories, made by
 * record-histories.ts from the engine as it was) must replay on the current workflows without a
 * nondeterminism error. A change that breaks running workflows fails here, in CI.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { Worker } from '@temporalio/worker';
import { dataConverter } from '../../config/payload-codec.js';
import { workflowBundle } from '../../worker/workflow-bundle.js';

const DIR = fileURLToPath(new URL('./histories/', import.meta.url));

describe('replay: recorded histories replay on the current workflow code', () => {
  it('every recorded history of the bulk delete and its chunks replays without nondeterminism', async () => {
    const files = (await readdir(DIR)).filter((f) => f.endsWith('.json')).sort();
    assert.ok(files.length >= 5, `recorded histories: ${files.length}`);
    const histories = await Promise.all(
      files.map(async (file) => {
        const { workflowId, history } = JSON.parse(await readFile(`${DIR}${file}`, 'utf8')) as {
          workflowId: string;
          history: unknown;
        };
        // The worker reads a history in its JSON form itself.
        return { workflowId, history };
      }),
    );
    const bundle = await workflowBundle();
    const failures: string[] = [];
    for await (const result of Worker.runReplayHistories(
      // v7z histories hold compressed payloads: without the codec they do not replay.
      { workflowBundle: bundle, dataConverter },
      histories,
    )) {
      if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
    }
    assert.deepEqual(failures, []);
  });
});
