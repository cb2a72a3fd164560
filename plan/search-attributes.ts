import { defineSearchAttributeKey } from '@temporalio/common';

/**
 * The custom search attributes that make a run findable in the Web UI and with `temporal workflow list`.
 * They must be registered on the server (the dev server scripts and the test helper do it).
 */
export const BulkDeletePlan = defineSearchAttributeKey('BulkDeletePlan', 'KEYWORD');
export const BulkDeleteStatus = defineSearchAttributeKey('BulkDeleteStatus', 'KEYWORD');
export const BulkDeleteItems = defineSearchAttributeKey('BulkDeleteItems', 'INT');
export const BulkDeleteFailed = defineSearchAttributeKey('BulkDeleteFailed', 'INT');
/** On a run started by `bulk-delete retry`: the workflow ID of the run it retries. */
export const BulkDeleteRetryOf = defineSearchAttributeKey('BulkDeleteRetryOf', 'KEYWORD');

export const SEARCH_ATTRIBUTES = [
  BulkDeletePlan,
  BulkDeleteStatus,
  BulkDeleteItems,
  BulkDeleteFailed,
  BulkDeleteRetryOf,
] as const;

/** `--search-attribute` flags for `temporal server start-dev`. */
export function devServerSearchAttributeArgs(): string[] {
  const cliType: Record<string, string> = { KEYWORD: 'Keyword', INT: 'Int', TEXT: 'Text', BOOL: 'Bool' };
  return SEARCH_ATTRIBUTES.flatMap((key) => [
    '--search-attribute',
    `${key.name}=${cliType[key.type] ?? key.type}`,
  ]);
}
