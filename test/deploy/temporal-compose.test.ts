import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { z } from 'zod';
import { SEARCH_ATTRIBUTES } from '../../plan/index.js';
import { PROJECT_ROOT } from '../../scripts/temporal-paths.js';
import { SystemsEnv } from '../../worker/systems-config.js';

// No Docker engine here: the compose file is checked by validating it, against what the code expects.
const Service = z.looseObject({
  image: z.string().optional(),
  build: z.unknown().optional(),
  environment: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
  depends_on: z.record(z.string(), z.object({ condition: z.string() })).optional(),
  ports: z.array(z.string()).optional(),
  command: z.union([z.string(), z.array(z.string())]).optional(),
});
const Compose = z.looseObject({
  services: z.record(z.string(), Service),
  volumes: z.record(z.string(), z.unknown()).optional(),
});

const compose = Compose.parse(parse(readFileSync(join(PROJECT_ROOT, 'temporal-compose.yml'), 'utf8')));
const services = compose.services;

describe('temporal-compose.yml', () => {
  it('runs Temporal on PostgreSQL with its Web UI and the workers, at the versions the dev server embeds', () => {
    assert.deepEqual(Object.keys(services).sort(), [
      'postgresql',
      'temporal',
      'temporal-setup',
      'temporal-ui',
      'worker',
    ]);
    assert.match(services.temporal!.image!, /^temporalio\/auto-setup:1\.29\.1$/);
    assert.match(services['temporal-ui']!.image!, /^temporalio\/ui:2\.42\.1$/);
    assert.equal(services.temporal!.environment!.DB, 'postgres12');
    for (const [name, service] of Object.entries(services)) {
      if (service.image) assert.doesNotMatch(service.image, /:latest$|^[^:]+$/, `${name} pins its image`);
    }
  });

  it('names only services that exist in depends_on', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const dependency of Object.keys(service.depends_on ?? {})) {
        assert.ok(services[dependency], `${name} depends on unknown service ${dependency}`);
      }
    }
  });

  it('registers exactly the search attributes the workflow upserts', () => {
    const command = [services['temporal-setup']!.command].flat().join(' ');
    for (const key of SEARCH_ATTRIBUTES) assert.match(command, new RegExp(`--name ${key.name} --type`));
  });

  it('hands the worker every system variable it reads, and secrets only from the environment', () => {
    const env = services.worker!.environment!;
    for (const name of [
      'TWELVELABS_BASE_URL',
      'TWELVELABS_API_KEY',
      'UPLYNK_BASE_URL',
      'UPLYNK_OWNER_ID',
      'UPLYNK_API_KEY',
      'ENTERMEDIA_BASE_URL',
      'ENTERMEDIA_KEY',
    ]) {
      assert.ok(name in SystemsEnv.shape, `${name} is a variable the worker reads`);
      assert.ok(name in env, `the worker gets ${name}`);
    }
    for (const [service, definition] of Object.entries(services)) {
      for (const [name, value] of Object.entries(definition.environment ?? {})) {
        if (/KEY|PASSWORD|PWD|OWNER_ID/.test(name)) {
          assert.match(
            String(value),
            /^\$\{[A-Z_]+(:[-?][^}]*)?\}$/,
            `${service}.${name} comes from the environment`,
          );
        }
      }
    }
  });
});
