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
  type PlanInput,
} from './plan-schema.js';
export { sha256Hex, canonicalJson, digestOf } from './digest.js';
export {
  SystemName,
  SYSTEMS,
  Outcome,
  ReportRow,
  RunStatus,
  ReportSummary,
  Report,
  itemOutcome,
  summarize,
} from './report.js';
export {
  BulkDeletePlan,
  BulkDeleteStatus,
  BulkDeleteItems,
  BulkDeleteFailed,
  SEARCH_ATTRIBUTES,
  devServerSearchAttributeArgs,
} from './search-attributes.js';
