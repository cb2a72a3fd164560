/**
 * Every `patched()` ID of workflows/, under the version of the recorded histories (test/workflows/histories)
 * that first took it. A worker that leaves the patches of a version and of every later one inactive
 * (`inactivePatches`) runs new executions as the version before did: the recorded histories of pre-patch
 * branches (`record-histories.ts TAG pre-patch`) and the upgrade tests are made that way.
 */
export const PATCHES_BY_VERSION = [
  ['v2', ['stop-cancels-running-phase']],
  ['v3', ['archive-run-report']],
  ['v4', ['discover-beside-first-chunk']],
  ['v5', ['small-first-chunk']],
  ['v6', ['items-flow-through-systems', 'failed-phase-keeps-its-record', 'first-chunk-of-min-items']],
  ['v7', ['tally-within-a-phase']],
  ['v8', ['waiting-chunks-lend-their-place']],
  ['v9', ['items-wait-for-their-own-entities']],
  ['v10', ['items-unlink-in-their-flow']],
  ['v11', ['first-chunk-beside-the-window']],
  ['v12', ['threshold-counts-a-finished-chunk-once']],
  ['v13', ['plan-refuses-shared-assets']],
  ['v14', ['approved-run-adds-no-entity-delete', 'entity-delete-by-whichever-chunk-is-last']],
  ['v15', ['approved-entity-delete-its-items-hold']],
  ['v16', ['cleanup-rechecks-selection-before-delete', 'cleanup-rechecks-manifest-before-delete']],
  ['v17', ['approval-brings-the-selection-to-read-again']],
] as const;

export type Version = (typeof PATCHES_BY_VERSION)[number][0];

/** Every patch ID, oldest first. */
export const PATCHES: readonly string[] = PATCHES_BY_VERSION.flatMap(([, ids]) => ids);

/** The patches a worker of the version just before `version` did not have: its own and every later one's. */
export function patchesSince(version: Version): string[] {
  const at = PATCHES_BY_VERSION.findIndex(([v]) => v === version);
  return PATCHES_BY_VERSION.slice(at).flatMap(([, ids]) => ids);
}
