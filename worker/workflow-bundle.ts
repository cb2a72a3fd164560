import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode } from '@temporalio/worker';

/** Compiled (`dist/`, production) or run from the TypeScript sources through tsx (development, tests). */
const COMPILED = import.meta.url.endsWith('.js');

/** The module that exports every workflow of the project, next to this one in sources and in `dist/`. */
export const WORKFLOWS_PATH = fileURLToPath(
  new URL(`../workflows/index.${COMPILED ? 'js' : 'ts'}`, import.meta.url),
);

/** The workflow bundle `npm run build` writes (`dist/workflow-bundle.js`); only the compiled code uses it. */
export const PREBUILT_BUNDLE_PATH = fileURLToPath(new URL('../workflow-bundle.js', import.meta.url));

/** What `Worker.create` takes as `workflowBundle`. */
export type WorkflowBundleOption = { code: string } | { codePath: string };

let bundle: Promise<WorkflowBundleOption> | undefined;

/**
 * The workflows for a worker: the bundle prebuilt by `npm run build` when running compiled, else bundled
 * once per process from the sources (bundling takes seconds, and tests and `dev` start several workers).
 */
export function workflowBundle(): Promise<WorkflowBundleOption> {
  bundle ??=
    COMPILED && existsSync(PREBUILT_BUNDLE_PATH)
      ? Promise.resolve({ codePath: PREBUILT_BUNDLE_PATH })
      : bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietLogger });
  return bundle;
}

/** Where the workers' workflow code comes from, for the start-up log. */
export function describeWorkflowBundle(): string {
  return COMPILED && existsSync(PREBUILT_BUNDLE_PATH)
    ? `workflows: prebuilt bundle ${PREBUILT_BUNDLE_PATH}`
    : `workflows: bundled at start from ${WORKFLOWS_PATH}`;
}

const noop = (): void => undefined;
const quietLogger = { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: noop };
