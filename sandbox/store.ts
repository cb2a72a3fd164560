import { EnterMediaStore } from './entermedia-store.js';
import { SandboxState } from './state-schema.js';
import { TwelveLabsStore } from './twelvelabs-store.js';
import { UplynkStore } from './uplynk-store.js';

/** The whole sandbox state: one store per system, replaced as a whole by seed, generate and reset. */
export class Store {
  readonly twelvelabs = new TwelveLabsStore();
  readonly uplynk = new UplynkStore();
  readonly entermedia = new EnterMediaStore();
  entityReadyAfterMs = 300;

  constructor(state: SandboxState = SandboxState.parse({})) {
    this.load(state);
  }

  /** Replaces everything. `state` must already be valid (parsed by `SandboxState` or built by `generate`). */
  load(state: SandboxState, now = Date.now()): void {
    this.entityReadyAfterMs = state.entityReadyAfterMs;
    this.twelvelabs.load(state.twelvelabs, state.entityReadyAfterMs, now);
    this.uplynk.load(state.uplynk);
    this.entermedia.load(state.entermedia);
  }

  export(now = Date.now()): SandboxState {
    return {
      entityReadyAfterMs: this.entityReadyAfterMs,
      twelvelabs: this.twelvelabs.export(now),
      uplynk: this.uplynk.export(),
      entermedia: this.entermedia.export(),
    };
  }
}
