export * from './engine.js';
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
export {
  RECEIPT_FORMAT,
  Receipt,
  ReceiptEntry,
  chainLedger,
  genesisOf,
  receiptOf,
  verifyReceipt,
  type Verdict,
} from './receipt.js';
