/**
 * Gathers what many units of a phase send to one endpoint into one call: a batch goes when it is full,
 * when no unit could still add to it (each unit that was expected has added or dropped out), or
 * `lingerMs` after its first value, whichever comes first. So items that flow through their systems one
 * by one still share calls where the vendor takes many IDs at once, and none waits long for the others.
 */
export class Batcher<T, R> {
  private waiting: Array<{ value: T; resolve: (result: R) => void; reject: (reason: unknown) => void }> = [];
  private timer: NodeJS.Timeout | undefined;
  private expected = 0;

  constructor(
    private readonly options: {
      /** Values a call takes at most. */
      maxSize: number;
      /** How long the first value of a batch waits for others, at most. */
      lingerMs: number;
      /** One call for the batch: answers each value's result, in the batch's order. */
      send: (values: T[]) => Promise<R[]>;
      /** Rejects the values not sent yet when it aborts (the activity cancelled or its attempt ended). */
      signal: AbortSignal;
    },
  ) {
    options.signal.addEventListener('abort', () => this.abort(), { once: true });
  }

  /** One more unit will add a value, or say that it will not (`forget`). */
  expect(): void {
    this.expected++;
  }

  /** A unit that was expected will not add a value. */
  forget(): void {
    this.expected--;
    this.check();
  }

  /** Adds the value of a unit that was expected; settles with its answer once its batch was sent. */
  add(value: T): Promise<R> {
    if (this.options.signal.aborted) return Promise.reject(this.reason());
    this.expected--;
    const answer = new Promise<R>((resolve, reject) => this.waiting.push({ value, resolve, reject }));
    this.timer ??= setTimeout(() => this.flush(), this.options.lingerMs);
    this.check();
    return answer;
  }

  private check(): void {
    if (this.waiting.length >= this.options.maxSize || (this.waiting.length > 0 && this.expected <= 0)) {
      this.flush();
    }
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.waiting.length > 0) {
      const batch = this.waiting.splice(0, this.options.maxSize);
      this.options.send(batch.map((b) => b.value)).then(
        (results) => batch.forEach((b, i) => b.resolve(results[i] as R)),
        (error: unknown) => batch.forEach((b) => b.reject(error)),
      );
    }
  }

  private abort(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const waiting = this.waiting;
    this.waiting = [];
    for (const b of waiting) b.reject(this.reason());
  }

  /** The signal's reason: Temporal's `CancelledFailure` on a cancel, else why the attempt ended. */
  private reason(): Error {
    const reason: unknown = this.options.signal.reason;
    return reason instanceof Error ? reason : new Error('the attempt ended');
  }
}
