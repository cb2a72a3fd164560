#!/usr/bin/env node
// The command line. In a clone (the TypeScript sources are here) it runs them through tsx, so that
// development and tests need no build step and never run a stale dist/. Where only the build is
// (`npm run build`, e.g. a package or an image), it runs the compiled dist/bin/bulk-delete.js: node only.
import { existsSync } from 'node:fs';

if (existsSync(new URL('../client/main.ts', import.meta.url))) {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../client/main.ts');
} else {
  await import('../dist/bin/bulk-delete.js');
}
