export { bulkDeleteWorkflow, type BulkDeleteInput, type BulkDeleteResult } from './bulk-delete.workflow.js';
