/**
 * The state of each item of a chunk as its calls answer: pending, then done, skipped (why), failed (step,
 * why) or stopped (why). Once an item is skipped, failed or stopped, none of its later calls is handed out
 * again, in any system. Pure: the chunk workflow drives it, and so do tests.
 */
import type { ChunkPlan, PlannedCall, Replan } from './planner.js';
import type { CallStep, ItemFailure, LedgerEntry, PhaseAnswer } from './ledger.js';
import type { SystemName } from './systems.js';

export type Observation = 'gone' | 'present' | 'unknown';

/** How an item ended, as a chunk answers it; report rows are derived from this and the ledger. */
export interface ItemFinal {
  item: string;
  systems: SystemName[];
  state: 'done' | 'skipped' | 'failed' | 'stopped' | 'observed';
  /** For `failed`: the system and step that failed. */
  system?: SystemName;
  step?: string;
  /** Why it was skipped, failed or stopped. */
  detail?: string;
  /** Systems whose target was already gone at discovery. */
  absent: SystemName[];
  /**
   * For `skipped`, `failed` and `stopped`: the systems that still had calls to make when the item ended.
   * A system not listed made all its calls: its part is finished (absent in results recorded before it).
   */
  unfinished?: SystemName[];
  notes: string[];
  /** For `observed` (the chunk's record was lost): what a read of each system found afterwards. */
  observed?: Partial<Record<SystemName, Observation>>;
  /** ISO time the item's state was last decided. */
  at: string;
}

interface Entry {
  final: ItemFinal;
  calls: PlannedCall[];
}

export class ItemBook {
  private readonly items = new Map<string, Entry>();
  readonly ledger: LedgerEntry[] = [];

  constructor(
    plan: ChunkPlan,
    private readonly now: () => string,
  ) {
    for (const p of plan.items) {
      const final: ItemFinal = {
        item: p.item,
        systems: p.systems,
        state: 'done',
        absent: [...p.absent],
        notes: [...p.notes],
        at: now(),
      };
      if (p.skip !== undefined) Object.assign(final, { state: 'skipped', detail: p.skip });
      if (p.failure !== undefined) Object.assign(final, { state: 'failed', ...p.failure });
      if (final.state !== 'done') final.unfinished = systemsOf(p.calls);
      this.items.set(p.item, { final, calls: final.state === 'done' ? [...p.calls] : [] });
    }
  }

  /** True while the item may still be called. */
  live(item: string): boolean {
    return this.items.get(item)?.final.state === 'done';
  }

  /** The calls of this step still to make, of live items only, in plan order. */
  pending(step: CallStep): PlannedCall[] {
    const out: PlannedCall[] = [];
    for (const { final, calls } of this.items.values()) {
      if (final.state !== 'done') continue;
      for (const call of calls) if (call.step === step) out.push(call);
    }
    return out;
  }

  /** True when a live item still has a call of this step. */
  has(step: CallStep): boolean {
    return this.pending(step).length > 0;
  }

  /**
   * Records what a phase answered: its entries go to the ledger and settle their calls; a failed entry or
   * a failure fails its item (the first failure is final) and drops the item's later calls.
   */
  record(answer: PhaseAnswer, steps: readonly CallStep[]): void {
    for (const r of answer.refused ?? []) this.drop(r.item, r.step, r.target);
    for (const entry of answer.entries) {
      this.ledger.push(entry);
      const e = this.items.get(entry.item);
      if (!e) continue;
      e.calls = e.calls.filter((c) => !(c.step === entry.step && c.target === entry.target));
      if (entry.answer === 'failed') this.fail({ ...entry, detail: entry.detail ?? 'failed' });
    }
    for (const failure of answer.failures) this.fail(failure);
    // A call of these steps without an answer was not made: its item cannot go on safely.
    for (const call of steps.flatMap((s) => this.pending(s))) {
      this.fail({
        item: call.item,
        system: call.system,
        step: call.step,
        detail: `no answer for ${call.target}`,
        at: this.now(),
      });
    }
  }

  private fail(f: Pick<ItemFailure, 'item' | 'system' | 'step' | 'detail' | 'at'>): void {
    const e = this.items.get(f.item);
    if (!e || e.final.state !== 'done') return;
    end(e, { state: 'failed', system: f.system, step: f.step, detail: f.detail, at: f.at });
  }

  /** Applies a re-plan: skipped items lose every later call; new calls come before the item's others. */
  apply(replan: Replan): void {
    for (const { item, reason } of replan.skip) {
      const e = this.items.get(item);
      if (!e || e.final.state !== 'done') continue;
      end(e, { state: 'skipped', detail: reason, at: this.now() });
    }
    for (const call of [...replan.calls].reverse()) {
      const e = this.items.get(call.item);
      if (e && e.final.state === 'done') e.calls.unshift(call);
    }
    for (const { item, note } of replan.notes) this.items.get(item)?.final.notes.push(note);
  }

  /** Drops a refused call of an item: re-planning decides what replaces it. */
  private drop(item: string, step: CallStep, target: string): void {
    const e = this.items.get(item);
    if (e) e.calls = e.calls.filter((c) => !(c.step === step && c.target === target));
  }

  /** Every live item stops here: its remaining calls are not made. */
  stopAll(reason: string): void {
    for (const e of this.items.values()) {
      if (e.final.state === 'done' && e.calls.length > 0) {
        end(e, { state: 'stopped', detail: reason, at: this.now() });
      }
    }
  }

  /** Items that ended (no call left, or skipped/failed/stopped), and how many of them failed. */
  counts(): { settled: number; failed: number } {
    let settled = 0;
    let failed = 0;
    for (const e of this.items.values()) {
      if (e.final.state === 'failed') failed++;
      if (e.final.state !== 'done' || e.calls.length === 0) settled++;
    }
    return { settled, failed };
  }

  finals(): ItemFinal[] {
    return [...this.items.values()].map((e) => e.final);
  }
}

/** Ends a live item as `how` says: the systems it still had calls in stay unfinished, and no call is left. */
function end(e: Entry, how: Partial<ItemFinal> & Pick<ItemFinal, 'state'>): void {
  Object.assign(e.final, how, { unfinished: systemsOf(e.calls) });
  e.calls = [];
}

/** The systems of these calls, each once, in the order first met. */
function systemsOf(calls: readonly PlannedCall[]): SystemName[] {
  return [...new Set(calls.map((c) => c.system))];
}
