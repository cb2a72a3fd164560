/** A throw-away Temporal dev server (the pinned CLI, never a download) on a random port, with the project's
 * search attributes registered: what the tests and the benchmarks run on. */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { dataConverter } from '../config/payload-codec.js';
import { SEARCH_ATTRIBUTES } from '../plan/index.js';
import { findTemporalCli } from './temporal-paths.js';

export function startDevServer(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createLocal({
    client: { dataConverter },
    server: {
      executable: { type: 'existing-path', path: findTemporalCli() },
      ip: '127.0.0.1',
      searchAttributes: [...SEARCH_ATTRIBUTES],
      log: { format: 'pretty', level: 'error' },
    },
  });
}
