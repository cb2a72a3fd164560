import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PlanInput } from '../../plan/index.js';

/**
 * Writes `plan`, renamed `name`, as the JSON plan file `<dir>/<name>.json`, and answers its path and the
 * plan as written.
 */
export function writePlanFile(dir: string, name: string, plan: PlanInput): { path: string; plan: PlanInput } {
  const named = { ...plan, name };
  const path = join(dir, `${name}.json`);
  writeFileSync(path, JSON.stringify(named, null, 2));
  return { path, plan: named };
}
