/**
 * What the running chunks of a run are doing now, from Temporal's own record of their pending activities:
 * which phase, which attempt, the last error, and what a phase waits for (its heartbeat says so).
 */
import type { Client } from '@temporalio/client';

export interface PendingWork {
  chunk: string;
  activity: string;
  attempt: number;
  lastError?: string;
  waiting?: string;
}

/** One entry per pending activity of the given chunk workflows; a chunk that cannot be read is left out. */
export async function pendingWork(client: Client, chunkIds: readonly string[]): Promise<PendingWork[]> {
  const out: PendingWork[] = [];
  for (const id of chunkIds) {
    const description = await client.workflow
      .getHandle(id)
      .describe()
      .catch(() => undefined);
    for (const pending of description?.raw.pendingActivities ?? []) {
      const details = pending.heartbeatDetails?.payloads?.[0];
      let waiting: string | undefined;
      if (details?.data) {
        try {
          const parsed = JSON.parse(Buffer.from(details.data).toString('utf8')) as { waiting?: unknown };
          if (typeof parsed.waiting === 'string') waiting = parsed.waiting;
        } catch {
          // Heartbeat details of another shape: nothing to show.
        }
      }
      out.push({
        chunk: id,
        activity: pending.activityType?.name ?? '?',
        attempt: pending.attempt ?? 1,
        ...(pending.lastFailure?.message ? { lastError: pending.lastFailure.message } : {}),
        ...(waiting ? { waiting } : {}),
      });
    }
  }
  return out;
}

/** Lines for `status`: only what is worth a look (a retry, an error, a wait). */
export function pendingLines(work: readonly PendingWork[]): string[] {
  return work
    .filter((w) => w.attempt > 1 || w.lastError || w.waiting)
    .map(
      (w) =>
        `  ${w.chunk.split('/').pop() ?? w.chunk}: ${w.activity}, attempt ${w.attempt}` +
        (w.waiting ? `, waiting: ${w.waiting}` : '') +
        (w.lastError ? `, last error: ${w.lastError.replace(/\s*\n\s*/g, ' ')}` : ''),
    );
}
