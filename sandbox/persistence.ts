import { closeSync, existsSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { z } from 'zod';
import { SandboxState } from './state-schema.js';
import { stateJsonChunks } from './state-json.js';
import type { Store } from './store.js';

/** Reads a state file; `undefined` when there is none yet. A broken file is an error, never silently replaced. */
export function readStateFile(file: string): SandboxState | undefined {
  if (!existsSync(file)) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`state file ${file} is not JSON: ${(err as Error).message}`, { cause: err });
  }
  const parsed = SandboxState.safeParse(raw);
  if (!parsed.success)
    throw new Error(`state file ${file} is not a sandbox state:\n${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/**
 * Writes the state to a JSON file a moment after it changed (many deletes become one write), and
 * once more on close. Writes go to a temporary file first, so that a crash never leaves half a file.
 * Meant for small, hand-made states: a 100,000-item catalogue is some 70 MB per write.
 */
export class StatePersister {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly file: string,
    private readonly store: Store,
    private readonly delayMs = 1000,
  ) {}

  changed(): void {
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, this.delayMs);
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const tmp = `${this.file}.tmp`;
    const fd = openSync(tmp, 'w');
    try {
      for (const chunk of stateJsonChunks(this.store, Date.now())) writeSync(fd, chunk);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.file);
  }

  close(): void {
    if (this.timer) this.flush();
  }
}
