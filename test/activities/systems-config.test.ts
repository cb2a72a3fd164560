import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_BASE_URLS, describeSystems, loadSystemsConfig } from '../../worker/systems-config.js';
import { startWorker } from '../../worker/main.js';

describe('systems configuration from the environment', () => {
  it('defaults the base URLs to the vendors’ own, and leaves EnterMediaDB and every credential unset', () => {
    const config = loadSystemsConfig({});
    assert.equal(config.twelvelabs.baseUrl, 'https://api.twelvelabs.io/v1.3');
    assert.equal(config.uplynk.baseUrl, 'https://services.uplynk.com/api/v4');
    assert.deepEqual(DEFAULT_BASE_URLS, {
      twelvelabs: 'https://api.twelvelabs.io/v1.3',
      uplynk: 'https://services.uplynk.com/api/v4',
    });
    assert.equal(config.entermedia.baseUrl, undefined);
    assert.equal(config.twelvelabs.apiKey, undefined);
    assert.equal(config.twelvelabs.concurrency, 32);
    assert.equal(config.twelvelabs.maxRps, undefined);
    assert.equal(config.requestTimeoutMs, 30_000);
  });

  it('reads limits and treats empty values (NAME= in a .env file) as unset', () => {
    const config = loadSystemsConfig({
      TWELVELABS_API_KEY: '',
      ENTERMEDIA_BASE_URL: '',
      UPLYNK_CONCURRENCY: '2',
      UPLYNK_MAX_RPS: '2.5',
      ENTERMEDIA_MAX_RPS: '',
    });
    assert.equal(config.twelvelabs.apiKey, undefined);
    assert.equal(config.entermedia.baseUrl, undefined);
    assert.equal(config.uplynk.concurrency, 2);
    assert.equal(config.uplynk.maxRps, 2.5);
    assert.equal(config.entermedia.maxRps, undefined);
  });

  it('a base URL that is not an http(s) URL stops start-up with an error naming the variable', () => {
    assert.throws(() => loadSystemsConfig({ UPLYNK_BASE_URL: 'services.uplynk.com' }), /UPLYNK_BASE_URL/);
    assert.throws(
      () => loadSystemsConfig({ ENTERMEDIA_BASE_URL: 'ftp://dam.example.com' }),
      /ENTERMEDIA_BASE_URL/,
    );
    assert.throws(() => loadSystemsConfig({ TWELVELABS_CONCURRENCY: 'many' }), /TWELVELABS_CONCURRENCY/);
    assert.throws(() => loadSystemsConfig({ TWELVELABS_MAX_RPS: '-1' }), /TWELVELABS_MAX_RPS/);
  });

  it("a credential with a line break, a space or a control character (a secret file's trailing newline) stops start-up naming the variable, never the value", () => {
    for (const [name, value] of [
      ['TWELVELABS_API_KEY', 'tl-secret-value\n'],
      ['UPLYNK_OWNER_ID', 'owner-secret-value\r\n'],
      ['UPLYNK_API_KEY', 'uplynk secret value'],
      ['ENTERMEDIA_KEY', 'dam-secret-value\u0000'],
      // A cookie value ends at ";": the key would be cut there and the rest sent as another cookie.
      ['ENTERMEDIA_KEY', 'dam-secret-value;admin=1'],
    ] as const) {
      assert.throws(
        () => loadSystemsConfig({ [name]: value }),
        (error: Error) => {
          assert.match(error.message, new RegExp(`→ at ${name}`));
          assert.doesNotMatch(error.message, /secret-value/);
          return true;
        },
      );
    }
    assert.equal(
      loadSystemsConfig({ TWELVELABS_API_KEY: 'tlk_AbC-123.x=' }).twelvelabs.apiKey,
      'tlk_AbC-123.x=',
    );
  });

  it('the worker refuses to start on a malformed base URL, before it connects to Temporal', async () => {
    await assert.rejects(
      startWorker({ TEMPORAL_ADDRESS: '127.0.0.1:1', TWELVELABS_BASE_URL: 'not a url' }),
      /TWELVELABS_BASE_URL/,
    );
  });

  it('the start-up summary says which systems are configured and which variables are missing, never a secret', () => {
    const lines = describeSystems(
      loadSystemsConfig({
        TWELVELABS_API_KEY: 'tl-very-secret',
        TWELVELABS_MAX_RPS: '10',
        UPLYNK_OWNER_ID: 'owner',
        ENTERMEDIA_BASE_URL: 'https://dam.example.com',
        ENTERMEDIA_KEY: 'em-very-secret',
      }),
    );
    assert.deepEqual(lines, [
      'twelvelabs: https://api.twelvelabs.io/v1.3 (configured, 32 at once, at most 10 requests/s)',
      'uplynk: https://services.uplynk.com/api/v4 (not configured: UPLYNK_API_KEY unset)',
      'entermedia: https://dam.example.com (configured, 16 at once, no rate limit)',
    ]);
    assert.doesNotMatch(lines.join('\n'), /secret/);
  });

  it('a base URL with parts the calls would drop is refused by name, never quoting it; numbers are decimal', () => {
    for (const url of [
      'https://user:pw-secret@dam.example.com',
      'https://dam.example.com/?token=pw-secret',
      'https://dam.example.com/#pw-secret',
    ]) {
      assert.throws(
        () => loadSystemsConfig({ ENTERMEDIA_BASE_URL: url }),
        (error: Error) =>
          /ENTERMEDIA_BASE_URL/.test(error.message) &&
          /no query .* or user:password@/.test(error.message) &&
          !/secret/.test(error.message),
      );
    }
    for (const [name, value] of [
      ['TWELVELABS_MAX_RPS', '0x10'],
      ['UPLYNK_CONCURRENCY', '1e3'],
      ['BULK_DELETE_HTTP_TIMEOUT_MS', 'Infinity'],
    ]) {
      assert.throws(
        () => loadSystemsConfig({ [name!]: value }),
        (error: Error) => error.message.includes(name!) && /must be a decimal number/.test(error.message),
      );
    }
    assert.equal(loadSystemsConfig({ TWELVELABS_MAX_RPS: ' 2.5 ' }).twelvelabs.maxRps, 2.5);
  });
});
