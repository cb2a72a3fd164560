/**
 * Installs the Temporal CLI without downloading any binary: the pinned release is built from source
 * through the Go module proxy into the user cache, then linked into .temporal/bin/. Skips the build when
 * a recent enough CLI is already linked or on PATH, or the pinned one is cached. `npm start` (bulk-delete
 * dev) runs the same steps when it finds no CLI.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  PROJECT_TEMPORAL,
  TEMPORAL_CLI_VERSION,
  cachedTemporalPath,
  recentEnough,
  temporalOnPath,
  temporalVersionOf,
  temporalVersionsOf,
} from './temporal-paths.js';

function link(target: string): void {
  mkdirSync(dirname(PROJECT_TEMPORAL), { recursive: true });
  rmSync(PROJECT_TEMPORAL, { force: true });
  symlinkSync(target, PROJECT_TEMPORAL);
}

/**
 * Makes .temporal/bin/temporal a recent enough CLI and answers its path; `log` says each step.
 * @throws Error saying what failed (no Go, a failed build) and what to do instead.
 */
export function installTemporalCli(log: (line: string) => void = console.log): string {
  const linked = temporalVersionsOf(PROJECT_TEMPORAL);
  if (recentEnough(linked)) {
    log(`temporal ${linked!.cli} already installed at .temporal/bin/temporal: nothing to do`);
    return PROJECT_TEMPORAL;
  }
  const onPath = temporalOnPath();
  const onPathVersions = onPath ? temporalVersionsOf(onPath) : undefined;
  if (onPath && recentEnough(onPathVersions)) {
    link(onPath);
    log(`linked .temporal/bin/temporal to ${onPath} (temporal ${onPathVersions!.cli} on PATH)`);
    return PROJECT_TEMPORAL;
  }
  if (onPath) {
    log(
      `${onPath} is temporal ${onPathVersions?.cli ?? '(unknown)'}: too old, building ${TEMPORAL_CLI_VERSION}`,
    );
  }
  const cached = cachedTemporalPath();
  if (temporalVersionOf(cached) !== TEMPORAL_CLI_VERSION) {
    log(
      `building temporal ${TEMPORAL_CLI_VERSION} from the Go module proxy into ${dirname(cached)} (once; a few minutes) ...`,
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
        {
          stdio: ['ignore', 'inherit', 'inherit'],
          env: { ...process.env, GOBIN: dirname(cached), GOFLAGS: '-buildvcs=false' },
        },
      );
    } catch (error) {
      const missingGo = (error as NodeJS.ErrnoException).code === 'ENOENT';
      throw new Error(
        missingGo
          ? `building the Temporal CLI needs Go (https://go.dev/dl/), which is not on PATH; or put a temporal >= ${TEMPORAL_CLI_VERSION} on PATH`
          : `building the Temporal CLI failed: ${(error as Error).message}`,
        { cause: error },
      );
    }
    const version = temporalVersionOf(cached);
    if (version !== TEMPORAL_CLI_VERSION) {
      throw new Error(
        `the built CLI reports version ${version ?? '(none)'}, expected ${TEMPORAL_CLI_VERSION}`,
      );
    }
    log(`built temporal ${TEMPORAL_CLI_VERSION} in ${Math.round((Date.now() - started) / 1000)} s`);
  } else {
    log(`found temporal ${TEMPORAL_CLI_VERSION} in the cache ${dirname(cached)}`);
  }
  link(cached);
  log(`linked .temporal/bin/temporal to ${cached}`);
  return PROJECT_TEMPORAL;
}

function main(): void {
  try {
    installTemporalCli();
  } catch (error) {
    console.error((error as Error).message);
    process.exit(1);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) main();
