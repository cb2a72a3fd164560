export { bulkDeleteWorkflow, type CarriedState } from './bulk-delete.workflow.js';
export { bulkDeleteChunkWorkflow } from './chunk.workflow.js';
export * from './definitions.js';
export * from './scheduled-cleanup.workflow.js';
export * from './rate-shares.workflow.js';
