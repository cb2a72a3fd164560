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
  ReportStatus,
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
export {
  parsePlanText,
  parseJsonDocument,
  parseJsonWithPositions,
  planFormatOf,
  formatIssue,
  formatPath,
  issuesFromZod,
  type InputIssue,
  type ParseResult,
  type PlanParseOptions,
  type JsonPath,
  type LocatedJson,
  type IssueLocator,
} from './plan-parse.js';
export { CSV_COLUMNS, planNameFromSource, readCsvPlan, type CsvPlan } from './plan-csv.js';
