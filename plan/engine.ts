/**
 * The pure domain the workflows use: schemas, the planner, item states, the ledger, report rows, the run
 * policy. It pulls in no parsing library, so that the workflow bundle stays small; plan/index.ts adds the
 * plan file parsers for the command line.
 */
export {
  TwelveLabsId,
  OpaqueId,
  PlanItemId,
  TwelveLabsPart,
  UplynkPart,
  EnterMediaPart,
  PlanItem,
  LastEntityAsset,
  PlanOptions,
  PlanName,
  Plan,
  PlanAllowingSharedAssets,
  assetsOf,
  type PlanInput,
} from './plan-schema.js';
export { sha256Hex, canonicalJson, digestOf } from './digest.js';
export {
  SystemName,
  SYSTEMS,
  Outcome,
  ReportRow,
  RunStatus,
  ReportStatus,
  ReportSummary,
  Report,
  itemOutcome,
  summarize,
  emptySummary,
  addSummary,
  rowsOf,
} from './report.js';
export {
  CallStep,
  Answer,
  LedgerEntry,
  ItemFailure,
  changedState,
  describeEntry,
  type PhaseAnswer,
  type Refusal,
} from './ledger.js';
export { ItemBook, type ItemFinal, type Observation } from './item-book.js';
export {
  planChunk,
  replanRefusedUnlink,
  replanRefusedUnlinkApproved,
  replanForeignEntity,
  combineDigests,
  systemsOf,
  stepOf,
  compareSteps,
  type ChunkPlan,
  type PlannerFlags,
  type ItemPlan,
  type PlannedCall,
  type PlannedStep,
  type Replan,
  type EntityRef,
  type IndexedAssetRef,
  type DiscoveredAsset,
  type DiscoveredEntity,
} from './planner.js';
export {
  BulkDeletePlan,
  BulkDeleteStatus,
  BulkDeleteItems,
  BulkDeleteFailed,
  BulkDeleteRetryOf,
  SEARCH_ATTRIBUTES,
  devServerSearchAttributeArgs,
} from './search-attributes.js';
export { runTally, thresholdBreach, windowSize, type Tally } from './run-policy.js';
export {
  CleanupPolicy,
  MetadataSelect,
  PolicyPlanOptions,
  MAX_METADATA_SELECTION,
  type CleanupPolicyInput,
} from './policy-schema.js';
