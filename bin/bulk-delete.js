#!/usr/bin/env node
// The command line runs the TypeScript sources directly through tsx, so that a clone needs no build step.
import { register } from 'tsx/esm/api';

register();
await import('../client/main.ts');
