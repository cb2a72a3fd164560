import { setMaxListeners } from 'node:events';
import { Context } from '@temporalio/activity';

/** The parts of Temporal's activity context that the connectors use. */
export interface ActivityScope {
  /** Aborts when Temporal cancels the activity; passed to got and checked between calls. */
  signal: AbortSignal;
  /** The details of the last heartbeat of an earlier attempt, if any. */
  heartbeatDetails: unknown;
  /** 1 on the first attempt. */
  attempt: number;
  /** The activity's start-to-close timeout, when it has one: requests must time out before it. */
  startToCloseTimeoutMs: number | undefined;
  heartbeat(details: unknown): void;
  /** True when the workflow asked to cancel this activity (not a worker shutdown, a pause or a reset). */
  cancelRequested(): boolean;
  warn(message: string, meta?: Record<string, unknown>): void;
}

const neverAborted = new AbortController().signal;
// Scripts calling connectors outside an activity share it: one listener per call waiting on a backoff.
setMaxListeners(0, neverAborted);

/**
 * The current activity's scope, from `Context.current()`. Outside an activity (a script calling a
 * connector directly) the scope never cancels, has no heartbeat details and drops heartbeats.
 */
export function activityScope(): ActivityScope {
  let context: Context;
  try {
    context = Context.current();
  } catch {
    return {
      signal: neverAborted,
      heartbeatDetails: undefined,
      attempt: 1,
      startToCloseTimeoutMs: undefined,
      heartbeat: () => undefined,
      cancelRequested: () => false,
      warn: () => undefined,
    };
  }
  // Every unit waiting on a backoff or a request slot listens for the cancellation: as many listeners
  // as units in flight is expected, not a leak (Node warns past 10).
  setMaxListeners(0, context.cancellationSignal);
  return {
    signal: context.cancellationSignal,
    heartbeatDetails: context.info.heartbeatDetails as unknown,
    attempt: context.info.attempt,
    startToCloseTimeoutMs: context.info.startToCloseTimeoutMs,
    heartbeat: (details) => {
      context.heartbeat(details);
    },
    cancelRequested: () => context.cancellationDetails?.cancelRequested === true,
    warn: (message, meta) => {
      context.log.warn(message, meta);
    },
  };
}

/** Throws the cancellation (Temporal's `CancelledFailure`) if the activity was cancelled. */
export function throwIfCancelled(signal: AbortSignal): void {
  // The reason is the SDK's CancelledFailure; rethrowing it lets Temporal record a cancellation, not a failure.
  if (signal.aborted) throw signal.reason ?? new Error('activity cancelled');
}
