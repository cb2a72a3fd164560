/**
 * Installs the pinned Temporal CLI without downloading any binary: it is built from source through the Go
 * module proxy into the user cache, then linked into .temporal/bin/. Skips the build when a CLI of the
 * pinned version is already linked, on PATH or cached.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  PROJECT_TEMPORAL,
  TEMPORAL_CLI_VERSION,
  cachedTemporalPath,
  temporalOnPath,
  temporalVersionOf,
} from './temporal-paths.js';

function link(target: string): void {
  mkdirSync(dirname(PROJECT_TEMPORAL), { recursive: true });
  rmSync(PROJECT_TEMPORAL, { force: true });
  symlinkSync(target, PROJECT_TEMPORAL);
}

function main(): void {
  if (temporalVersionOf(PROJECT_TEMPORAL) === TEMPORAL_CLI_VERSION) {
    console.log(
      `temporal ${TEMPORAL_CLI_VERSION} already installed at .temporal/bin/temporal: nothing to do`,
    );
    return;
  }
  const onPath = temporalOnPath();
  if (onPath && temporalVersionOf(onPath) === TEMPORAL_CLI_VERSION) {
    link(onPath);
    console.log(`linked .temporal/bin/temporal to ${onPath} (temporal ${TEMPORAL_CLI_VERSION} on PATH)`);
    return;
  }
  const cached = cachedTemporalPath();
  if (temporalVersionOf(cached) !== TEMPORAL_CLI_VERSION) {
    console.log(
      `building temporal ${TEMPORAL_CLI_VERSION} from the Go module proxy into ${dirname(cached)} ...`,
    );
    const started = Date.now();
    mkdirSync(dirname(cached), { recursive: true });
    try {
      execFileSync(
        'go',
        [
          'install',
          '-ldflags',
          `-X github.com/temporalio/cli/temporalcli.Version=${TEMPORAL_CLI_VERSION}`,
          `github.com/temporalio/cli/cmd/temporal@v${TEMPORAL_CLI_VERSION}`,
        ],
        { stdio: 'inherit', env: { ...process.env, GOBIN: dirname(cached), GOFLAGS: '-buildvcs=false' } },
      );
    } catch (error) {
      console.error(`building the Temporal CLI failed: ${(error as Error).message}`);
      process.exit(1);
    }
    const version = temporalVersionOf(cached);
    if (version !== TEMPORAL_CLI_VERSION) {
      console.error(`the built CLI reports version ${version ?? '(none)'}, expected ${TEMPORAL_CLI_VERSION}`);
      process.exit(1);
    }
    console.log(`built temporal ${TEMPORAL_CLI_VERSION} in ${Math.round((Date.now() - started) / 1000)} s`);
  } else {
    console.log(`found temporal ${TEMPORAL_CLI_VERSION} in the cache ${dirname(cached)}`);
  }
  link(cached);
  console.log(`linked .temporal/bin/temporal to ${cached}`);
}

main();
