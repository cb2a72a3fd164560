import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { safeId, segment } from '../../activities/url-ids.js';
import { CallError } from '../../activities/http-errors.js';
import { Plan } from '../../plan/index.js';

describe('IDs that reach a URL', () => {
  for (const id of ['.', '..', '...']) {
    it(`a plan naming the Uplynk library "${id}" is refused before anything starts`, () => {
      const parsed = Plan.safeParse({
        name: 'dots',
        items: [{ id: 'x', uplynk: { assetId: 'u1', libraryIds: [id] } }],
      });
      assert.equal(parsed.success, false);
      assert.match(JSON.stringify(parsed.error?.issues), /must not be only dots/);
    });
  }

  it('an ID from a vendor that would change the route or the list is refused without a call', () => {
    for (const bad of ['..', 'a/b', 'a,b', 'a?b', '', 'x'.repeat(201)]) {
      assert.throws(
        () => safeId(bad, 'entity ID'),
        (e: unknown) => e instanceof CallError && e.failure.type === 'UnsafeIdError',
      );
    }
    assert.equal(segment('6298d673f1090f1100476d4c', 'asset ID'), '6298d673f1090f1100476d4c');
    assert.equal(segment('lib:1.a_b-c', 'library ID'), 'lib%3A1.a_b-c');
  });
});
