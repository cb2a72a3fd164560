import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadEnvFile } from '../../config/env-file.js';
import { loadTemporalConfig } from '../../config/temporal-config.js';
import { tempDir } from '../helpers/temp-dir.js';

const dir = tempDir('bulk-delete-config-');
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
// No user config file of the machine running the tests.
const base = { HOME: dir, XDG_CONFIG_HOME: dir };

describe('Temporal settings of the command line and the worker', () => {
  it('defaults to localhost:7233, namespace default, task queue bulk-delete, no TLS', () => {
    const config = loadTemporalConfig(base);
    assert.equal(config.TEMPORAL_ADDRESS, 'localhost:7233');
    assert.equal(config.TEMPORAL_NAMESPACE, 'default');
    assert.equal(config.BULK_DELETE_TASK_QUEUE, 'bulk-delete');
    assert.equal(config.connection.address, 'localhost:7233');
    assert.ok(!config.connection.tls);
  });

  it("reads Temporal's standard mTLS variables: client pair, server CA and server name", () => {
    const config = loadTemporalConfig({
      ...base,
      TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233',
      TEMPORAL_NAMESPACE: 'ns.acct',
      TEMPORAL_TLS_CLIENT_CERT_PATH: file('client.pem', 'CERT'),
      TEMPORAL_TLS_CLIENT_KEY_PATH: file('client.key', 'KEY'),
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: file('ca.pem', 'CA'),
      TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
    });
    assert.equal(config.TEMPORAL_NAMESPACE, 'ns.acct');
    const tls = config.connection.tls;
    assert.ok(tls && typeof tls === 'object');
    assert.equal(tls.clientCertPair?.crt.toString(), 'CERT');
    assert.equal(tls.clientCertPair?.key.toString(), 'KEY');
    assert.equal(tls.serverRootCACertificate?.toString(), 'CA');
    assert.equal(tls.serverNameOverride, 'temporal.internal');
  });

  it('turns TLS on with an API key (Temporal Cloud)', () => {
    const config = loadTemporalConfig({ ...base, TEMPORAL_API_KEY: 'secret-key' });
    assert.equal(config.connection.apiKey, 'secret-key');
    assert.equal(config.connection.tls, true);
  });

  it('takes a profile from TEMPORAL_CONFIG_FILE, and the environment wins over it', () => {
    const toml = file(
      'temporal.toml',
      '[profile.prod]\naddress = "prod.example:7233"\nnamespace = "prod"\n[profile.prod.tls]\nserver_name = "prod.example"\n',
    );
    const config = loadTemporalConfig({ ...base, TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'prod' });
    assert.equal(config.TEMPORAL_ADDRESS, 'prod.example:7233');
    assert.equal(config.TEMPORAL_NAMESPACE, 'prod');
    const overridden = loadTemporalConfig({
      ...base,
      TEMPORAL_CONFIG_FILE: toml,
      TEMPORAL_PROFILE: 'prod',
      TEMPORAL_NAMESPACE: 'other',
    });
    assert.equal(overridden.TEMPORAL_NAMESPACE, 'other');
  });

  it('refuses a certificate without its key and a missing file, naming the variables, never a secret', () => {
    assert.throws(
      () => loadTemporalConfig({ ...base, TEMPORAL_TLS_CLIENT_CERT_PATH: file('only.pem', 'CERT') }),
      /TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH go together/,
    );
    assert.throws(
      () => loadTemporalConfig({ ...base, TEMPORAL_TLS_SERVER_CA_CERT_PATH: join(dir, 'absent.pem') }),
      /TEMPORAL_TLS_SERVER_CA_CERT_PATH/,
    );
    assert.throws(() => loadTemporalConfig({ ...base, TEMPORAL_ADDRESS: 'no port' }), /TEMPORAL_ADDRESS/);
  });

  it('treats the empty values of a .env written from .env.example as unset', () => {
    const config = loadTemporalConfig({ ...base, TEMPORAL_API_KEY: '', TEMPORAL_TLS_CLIENT_CERT_PATH: '' });
    assert.ok(!config.connection.tls);
    assert.equal(config.connection.apiKey, undefined);
  });
});

describe('.env', () => {
  it('is read when present, and the environment wins over it', () => {
    const cwd = tempDir('bulk-delete-dotenv-');
    writeFileSync(join(cwd, '.env'), 'BULK_DELETE_TEST_FROM_FILE=file\nBULK_DELETE_TEST_SET=file\n');
    process.env.BULK_DELETE_TEST_SET = 'shell';
    try {
      assert.equal(loadEnvFile({}, cwd), join(cwd, '.env'));
      assert.equal(process.env.BULK_DELETE_TEST_FROM_FILE, 'file');
      assert.equal(process.env.BULK_DELETE_TEST_SET, 'shell');
      assert.equal(loadEnvFile({}, tempDir('bulk-delete-nodotenv-')), undefined);
      assert.equal(loadEnvFile({ BULK_DELETE_ENV_FILE: 'none' }, cwd), undefined);
    } finally {
      delete process.env.BULK_DELETE_TEST_FROM_FILE;
      delete process.env.BULK_DELETE_TEST_SET;
    }
  });
});
