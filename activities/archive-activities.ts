/**
 * Archiving a run's report and deletion receipt when it ends, so that both outlive the workflow's
 * history (retention, `temporal workflow delete`): `<workflowId>/report.json` and
 * `<workflowId>/receipt.json` in `BULK_DELETE_REPORT_STORE` (a directory or `s3://bucket/prefix`).
 */
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { receiptOf } from '../plan/index.js';
import { assembleReport, chunkIdsOf } from '../client/report-fetch.js';
import type { ArchiveRunAnswer, ArchiveRunInput } from './contract.js';
import { openObjectStore } from './object-store.js';

export interface ArchiveDeps {
  /** `BULK_DELETE_REPORT_STORE`; unset: `archiveRun` returns at once. */
  reportStore?: string | undefined;
  /** Where the S3 settings are read. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** The Temporal client that reads the chunks' results. @default the worker's (`Context.current().client`) */
  client?: () => Client;
}

/** The object keys of a run's archive. */
export function archiveKeys(workflowId: string): { report: string; receipt: string } {
  return { report: `${workflowId}/report.json`, receipt: `${workflowId}/receipt.json` };
}

export function createArchiveActivities(deps: ArchiveDeps) {
  const location = deps.reportStore?.trim() || undefined;
  const store = location ? openObjectStore(location, deps.env ?? process.env) : undefined;
  return {
    /**
     * Builds the report of a run that is ending (from its chunks' results, as `bulk-delete report`
     * does) and writes it with its receipt. The run is still open when it asks, so it says how it ends.
     */
    async archiveRun(input: ArchiveRunInput): Promise<ArchiveRunAnswer> {
      if (!store) return { archived: false };
      const client = deps.client?.() ?? Context.current().client;
      const run = { workflowId: input.workflowId, plan: input.plan, status: input.status };
      const { report } = await assembleReport(client, run, chunkIdsOf(input.workflowId, input));
      const receipt = receiptOf(run, report.mutations);
      const keys = archiveKeys(input.workflowId);
      // The receipt first: a report in the store always has its receipt beside it.
      const receiptUri = await store.put(keys.receipt, `${JSON.stringify(receipt, null, 2)}\n`);
      const reportUri = await store.put(keys.report, `${JSON.stringify(report, null, 2)}\n`);
      return { archived: true, report: reportUri, receipt: receiptUri, head: receipt.head };
    },
  };
}
