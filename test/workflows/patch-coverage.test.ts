/**
 * A patch guards the runs started before it only if a recorded history takes its pre-patch branch: the
 * replay test checks nothing of a branch that no history reaches. Every recorded history is replayed on the
 * current workflows with `patched()` watched (each call and its answer, through a sink that is called
 * during replay), and every patch of workflows/ must be answered `false` by one history (a run started
 * before it) and `true` by another. `record-histories.ts TAG pre-patch` records the former where no
 * history of an earlier version reaches the branch.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { dataConverter } from '../../config/payload-codec.js';
import { WORKFLOWS_PATH } from '../../worker/workflow-bundle.js';
import { PATCHES } from './patches.js';

const DIR = fileURLToPath(new URL('./histories/', import.meta.url));
const WORKFLOWS = fileURLToPath(new URL('../../workflows/', import.meta.url));
const REAL = fileURLToPath(new URL('../../node_modules/@temporalio/workflow/lib/index.js', import.meta.url));

/** `patched('…')` IDs written in workflows/. */
function patchesInCode(): string[] {
  const ids = new Set<string>();
  for (const file of readdirSync(WORKFLOWS).filter((f) => f.endsWith('.ts'))) {
    for (const m of readFileSync(join(WORKFLOWS, file), 'utf8').matchAll(/patched\('([^']+)'\)/g))
      ids.add(m[1]!);
  }
  return [...ids].sort();
}

/** The workflows bundled with `@temporalio/workflow` answering as it does, each `patched()` told to a sink. */
async function watchedBundle(): Promise<{ code: string }> {
  const shim = join(mkdtempSync(join(tmpdir(), 'patch-watch-')), 'workflow-shim.js');
  writeFileSync(
    shim,
    [
      `import { patched as real, proxySinks } from ${JSON.stringify(REAL)};`,
      `export * from ${JSON.stringify(REAL)};`,
      'const { patches } = proxySinks();',
      'export function patched(id) { const answer = real(id); patches.seen(id, answer); return answer; }',
    ].join('\n'),
  );
  const noop = (): void => undefined;
  return bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    logger: { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: noop },
    webpackConfigHook: (config) => ({
      ...config,
      resolve: { ...config.resolve, alias: { ...config.resolve?.alias, '@temporalio/workflow$': shim } },
    }),
  });
}

describe('patch coverage: every patch has a recorded history on each side of it', () => {
  it('lists every patch of workflows/ in test/workflows/patches.ts', () => {
    assert.deepEqual(patchesInCode(), [...PATCHES].sort());
  });

  it('every patch is answered false by one recorded history and true by another', async () => {
    const files = readdirSync(DIR).filter((f) => f.endsWith('.json') && !f.startsWith('rate-'));
    const seen = new Map<string, { false: string[]; true: string[] }>();
    const histories = await Promise.all(
      files.map(async (file) => {
        const { workflowId, history } = JSON.parse(await readFile(join(DIR, file), 'utf8')) as {
          workflowId: string;
          history: unknown;
        };
        return { workflowId, history };
      }),
    );
    const failures: string[] = [];
    for await (const result of Worker.runReplayHistories(
      {
        workflowBundle: await watchedBundle(),
        dataConverter,
        sinks: {
          patches: {
            seen: {
              // The workflow ID names the run (the same run recorded by several versions shares it).
              fn: (info: { workflowId: string }, id: string, answer: boolean) => {
                const sides = seen.get(id) ?? { false: [], true: [] };
                sides[answer ? 'true' : 'false'].push(info.workflowId);
                seen.set(id, sides);
              },
              callDuringReplay: true,
            },
          },
        },
      },
      histories,
    )) {
      if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
    }
    assert.deepEqual(failures, []);
    const uncovered = PATCHES.flatMap((id) => {
      const sides = seen.get(id);
      return [
        ...(sides?.false.length
          ? []
          : [`${id}: no recorded history takes the branch of runs started before it`]),
        ...(sides?.true.length ? [] : [`${id}: no recorded history takes the patched branch`]),
      ];
    });
    assert.deepEqual(uncovered, []);
  });
});
