import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { SandboxState } from './state-schema.js';
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
 */
export class StatePersister {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly file: string,
    private readonly store: Store,
    private readonly delayMs = 200,
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
    writeFileSync(tmp, JSON.stringify(this.store.export()));
    renameSync(tmp, this.file);
  }

  close(): void {
    if (this.timer) this.flush();
  }
}
