/**
 * What the running chunks of a run are doing now, from Temporal's own record of their pending activities:
 * which phase, which attempt, the last error, and what a phase waits for (its heartbeat says so).
 */
import type { Client } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import proto from '@temporalio/proto';
import { valueOfPayload } from '../config/payload-codec.js';

export interface PendingWork {
  chunk: string;
  activity: string;
  attempt: number;
  lastError?: string;
  waiting?: string;
  /**
   * A running attempt not heard from for a while: how long since its last heartbeat (or its start), the
   * worker that runs it, and the heartbeat timeout after which Temporal retries it elsewhere.
   */
  silent?: { forMs: number; worker: string; timeoutMs: number };
}

/**
 * A running phase heartbeats every second, and the worker sends that to the server at least every 3 s
 * (worker/create-worker.ts): an attempt silent for longer than this is probably on a worker that is gone.
 */
export const SILENT_AFTER_MS = 10_000;

type PendingActivity = NonNullable<
  Awaited<ReturnType<ReturnType<Client['workflow']['getHandle']>['describe']>>['raw']['pendingActivities']
>[number];

const msOf = (t: { seconds?: unknown; nanos?: number | null } | null | undefined): number | undefined =>
  t?.seconds === undefined || t.seconds === null
    ? undefined
    : Number(t.seconds) * 1000 + (t.nanos ?? 0) / 1e6;

/** A started attempt of an activity with a heartbeat timeout that has not heartbeated for a while. */
function silentOf(pending: PendingActivity, now: number): PendingWork['silent'] {
  const started =
    pending.state === proto.temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED;
  const timeoutMs = msOf(pending.activityOptions?.heartbeatTimeout);
  const last = msOf(pending.lastHeartbeatTime) ?? msOf(pending.lastStartedTime);
  if (!started || !timeoutMs || last === undefined) return undefined;
  // A heartbeat recorded before this attempt started is the previous attempt's.
  const since = Math.max(last, msOf(pending.lastStartedTime) ?? last);
  const forMs = now - since;
  if (forMs < SILENT_AFTER_MS) return undefined;
  return { forMs, worker: pending.lastWorkerIdentity || 'unknown', timeoutMs };
}

/** One entry per pending activity of the given chunk workflows; a chunk that cannot be read is left out. */
export async function pendingWork(
  client: Client,
  chunkIds: readonly string[],
  now = Date.now(),
): Promise<PendingWork[]> {
  const out: PendingWork[] = [];
  for (const id of chunkIds) {
    const description = await client.workflow
      .getHandle(id)
      .describe()
      .catch(() => undefined);
    for (const pending of description?.raw.pendingActivities ?? []) {
      const details = (await heartbeatValue(client, pending.heartbeatDetails?.payloads?.[0])) as
        { waiting?: unknown } | null | undefined;
      const waiting = typeof details?.waiting === 'string' ? details.waiting : undefined;
      const silent = silentOf(pending, now);
      out.push({
        chunk: id,
        activity: pending.activityType?.name ?? '?',
        attempt: pending.attempt ?? 1,
        ...(pending.lastFailure?.message ? { lastError: pending.lastFailure.message } : {}),
        ...(waiting ? { waiting } : {}),
        ...(silent ? { silent } : {}),
      });
    }
  }
  return out;
}

/** Items that settled inside a chunk's running phase, as its last heartbeat tells them. */
export interface PhaseSettled {
  settled: number;
  failed: number;
}

/**
 * What a running phase has settled so far, from its heartbeat cursor (activities/phase-runner.ts): the
 * chunk's own count moves only when a phase ends. An item whose call failed for good has settled, as
 * failed. An item of `settling` (its last calls are in this phase, see `ChunkProgress`) has settled once
 * every unit of its calls is in the cursor's `done`. Each item is counted once.
 */
export function settledInPhase(
  details: unknown,
  settling: Readonly<Record<string, readonly string[]>> = {},
): PhaseSettled {
  const cursor = details as { entries?: unknown; failures?: unknown; done?: unknown } | undefined;
  const itemsOf = (list: unknown): string[] =>
    Array.isArray(list)
      ? list.flatMap((e) =>
          e && typeof (e as { item?: unknown }).item === 'string' ? [(e as { item: string }).item] : [],
        )
      : [];
  const entries = Array.isArray(cursor?.entries) ? (cursor.entries as unknown[]) : [];
  const failedEntries = entries.filter((e) => (e as { answer?: unknown } | null)?.answer === 'failed');
  const failed = new Set([...itemsOf(cursor?.failures), ...itemsOf(failedEntries)]);
  const done = new Set(Array.isArray(cursor?.done) ? cursor.done.filter((k) => typeof k === 'string') : []);
  let settled = failed.size;
  for (const [item, units] of Object.entries(settling)) {
    if (!failed.has(item) && units.length > 0 && units.every((u) => done.has(u))) settled++;
  }
  return { settled, failed: failed.size };
}

/** The heartbeat details of a chunk's running phase activity, or undefined. */
export async function phaseHeartbeat(client: Client, chunkId: string): Promise<unknown> {
  const description = await client.workflow
    .getHandle(chunkId)
    .describe()
    .catch(() => undefined);
  return heartbeatValue(client, description?.raw.pendingActivities?.[0]?.heartbeatDetails?.payloads?.[0]);
}

/**
 * A heartbeat's details as the activity gave them, decoded as the client decodes any payload (a large one
 * is compressed); undefined when absent or of a shape that cannot be read.
 */
async function heartbeatValue(client: Client, payload: Payload | null | undefined): Promise<unknown> {
  if (!payload?.data) return undefined;
  try {
    return await valueOfPayload(client.options.loadedDataConverter, payload);
  } catch {
    return undefined;
  }
}

/** Lines for `status`: only what is worth a look (a retry, an error, a wait). */
export function pendingLines(work: readonly PendingWork[]): string[] {
  return work
    .filter((w) => w.attempt > 1 || w.lastError || w.waiting || w.silent)
    .map(
      (w) =>
        `  ${w.chunk.split('/').pop() ?? w.chunk}: ${w.activity}, attempt ${w.attempt}` +
        (w.silent
          ? `, no heartbeat for ${Math.round(w.silent.forMs / 1000)} s from worker ${w.silent.worker}` +
            ` (if it is gone, Temporal retries the activity on another worker ${Math.round(w.silent.timeoutMs / 1000)} s after its last heartbeat)`
          : '') +
        (w.waiting ? `, ${w.silent ? 'it last said it was waiting' : 'waiting'}: ${w.waiting}` : '') +
        (w.lastError ? `, last error: ${w.lastError.replace(/\s*\n\s*/g, ' ')}` : ''),
    );
}
