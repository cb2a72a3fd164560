import { setMaxListeners } from 'node:events';
import { asyncLocalStorage, type Context } from '@temporalio/activity';

/** The parts of Temporal's activity context that the connectors use. */
export interface ActivityScope {
  /** Aborts when Temporal cancels the activity; checked before and between calls (a request already sent finishes). */
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
 * The running activity's context, or undefined outside an activity. It is what `Context.current()`
 * answers, read from the same store without the error that `Context.current()` throws outside an
 * activity: a script that calls the connectors directly asks for it on every call, and building that
 * error (its stack) cost a tenth of the batched script's CPU (bench/engine.md).
 */
export function currentContext(): Context | undefined {
  return asyncLocalStorage.getStore();
}

/** Each running activity's scope, built on its first call: a phase asks for it on every request. */
const scopes = new WeakMap<Context, ActivityScope>();

/** Outside an activity: never cancels, no heartbeat details, heartbeats dropped. */
const outside: ActivityScope = {
  signal: neverAborted,
  heartbeatDetails: undefined,
  attempt: 1,
  startToCloseTimeoutMs: undefined,
  heartbeat: () => undefined,
  cancelRequested: () => false,
  warn: () => undefined,
};

/**
 * The current activity's scope, from its `Context`. Outside an activity (a script calling a
 * connector directly) the scope never cancels, has no heartbeat details and drops heartbeats.
 */
export function activityScope(): ActivityScope {
  const context = currentContext();
  if (context === undefined) return outside;
  let scope = scopes.get(context);
  if (scope) return scope;
  // Every unit waiting on a backoff or a request slot listens for the cancellation: as many listeners
  // as units in flight is expected, not a leak (Node warns past 10).
  setMaxListeners(0, context.cancellationSignal);
  scope = {
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
  scopes.set(context, scope);
  return scope;
}

/** Throws the cancellation (Temporal's `CancelledFailure`) if the activity was cancelled. */
export function throwIfCancelled(signal: AbortSignal): void {
  // The reason is the SDK's CancelledFailure; rethrowing it lets Temporal record a cancellation, not a failure.
  if (signal.aborted) throw signal.reason ?? new Error('activity cancelled');
}
