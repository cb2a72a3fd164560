import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { recentEnough, temporalVersionsOf } from '../../scripts/temporal-paths.js';
import { tempDir } from '../helpers/temp-dir.js';

/** A stand-in `temporal` that answers `--version` as a real one of that release would. */
function fakeTemporal(versionLine: string): string {
  const dir = tempDir('bulk-delete-temporal-');
  const path = join(dir, 'temporal');
  writeFileSync(path, `#!/bin/sh\necho '${versionLine}'\n`);
  chmodSync(path, 0o755);
  return path;
}

describe('which Temporal CLI is recent enough', () => {
  it('reads the CLI and Server versions that temporal --version prints', () => {
    const path = fakeTemporal('temporal version 1.5.1 (Server 1.29.1, UI 2.42.1)');
    assert.deepEqual(temporalVersionsOf(path), { cli: '1.5.1', server: '1.29.1' });
  });

  it('accepts the pinned release and any later one, not only exactly 1.5.1', () => {
    for (const line of [
      'temporal version 1.5.1 (Server 1.29.1, UI 2.42.1)',
      'temporal version 1.6.0 (Server 1.30.2, UI 2.45.0)',
      'temporal version 2.0.0 (Server 2.0.0, UI 3.0.0)',
    ]) {
      assert.equal(recentEnough(temporalVersionsOf(fakeTemporal(line))), true, line);
    }
  });

  it('refuses an older CLI, an older embedded Server, a dev build and a missing binary', () => {
    for (const line of [
      'temporal version 1.4.0 (Server 1.28.0, UI 2.40.0)',
      'temporal version 1.5.2 (Server 1.28.9, UI 2.42.1)',
      'temporal version 0.0.0-DEV (Server 1.29.1, UI 2.42.1)',
    ]) {
      assert.equal(recentEnough(temporalVersionsOf(fakeTemporal(line))), false, line);
    }
    assert.equal(recentEnough(temporalVersionsOf('/nonexistent/temporal')), false);
  });
});
