/**
 * Calls waiting for a slot, served lowest rank first and in arrival order among equal ranks: a binary heap
 * on (rank, arrival), so that a call of an item that started early, arriving behind thousands of later
 * ones, is placed in O(log n) and not by a scan. A waiter that gives up (its activity cancelled) is marked
 * and dropped when it comes up, so it leaves in O(1).
 */
export interface QueuedWaiter {
  rank: number;
  /** Set by the queue: the order of arrival, which breaks ties between equal ranks. */
  seq?: number;
  /** Set by the queue when the waiter was removed before its turn. */
  gone?: boolean;
}

export class WaiterQueue<W extends QueuedWaiter> {
  private readonly heap: W[] = [];
  private arrivals = 0;
  private live = 0;

  /** How many waiters are still waiting. */
  get size(): number {
    return this.live;
  }

  push(waiter: W): void {
    waiter.seq = this.arrivals++;
    waiter.gone = false;
    this.live++;
    const heap = this.heap;
    let at = heap.push(waiter) - 1;
    while (at > 0) {
      const up = (at - 1) >> 1;
      if (!before(waiter, heap[up]!)) break;
      heap[at] = heap[up]!;
      at = up;
    }
    heap[at] = waiter;
  }

  /** The next waiter to serve, or undefined when none waits. */
  shift(): W | undefined {
    for (;;) {
      const top = this.popTop();
      if (!top) return undefined;
      if (top.gone) continue;
      top.gone = true;
      this.live--;
      return top;
    }
  }

  /** Takes a waiter out of the queue before its turn; false when it was no longer in it. */
  remove(waiter: W): boolean {
    if (waiter.gone !== false) return false;
    waiter.gone = true;
    this.live--;
    // The heap itself drops it when it comes up; when only dropped ones are left, it is emptied at once.
    if (this.live === 0) this.heap.length = 0;
    return true;
  }

  private popTop(): W | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined || heap.length === 0) return top;
    let at = 0;
    for (;;) {
      const left = 2 * at + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && before(heap[right]!, heap[left]!) ? right : left;
      if (!before(heap[child]!, last)) break;
      heap[at] = heap[child]!;
      at = child;
    }
    heap[at] = last;
    return top;
  }
}

function before(a: QueuedWaiter, b: QueuedWaiter): boolean {
  return a.rank < b.rank || (a.rank === b.rank && a.seq! < b.seq!);
}
