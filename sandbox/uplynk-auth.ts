import { createHmac, timingSafeEqual } from 'node:crypto';
import { deflateSync, inflateSync } from 'node:zlib';

/** Uplynk refuses a signed message whose timestamp is more than this far from the server's clock. */
export const MAX_CLOCK_SKEW_SECONDS = 300;

/**
 * Signs a request the way Uplynk's API v4 documentation says: `msg` is base64 of the zlib-compressed
 * JSON `{"_owner", "_timestamp"}`, `sig` the hex HMAC-SHA256 of `msg` keyed with the API key. Exported
 * for tests and tools; the connectors carry their own implementation.
 */
export function signUplynk(ownerId: string, apiKey: string, nowSeconds = Math.floor(Date.now() / 1000)) {
  const msg = deflateSync(Buffer.from(JSON.stringify({ _owner: ownerId, _timestamp: nowSeconds }))).toString(
    'base64',
  );
  const sig = createHmac('sha256', apiKey).update(msg).digest('hex');
  return { msg, sig };
}

/** Why a signed request is refused, or `undefined` when it is good. Never echoes the key. */
export function verifyUplynk(
  query: URLSearchParams,
  account: { ownerId: string; apiKey: string },
  nowMs: number,
): string | undefined {
  const msg = query.get('msg');
  const sig = query.get('sig');
  if (!msg || !sig) return 'The request is not signed: the msg and sig query parameters are required.';
  const expected = createHmac('sha256', account.apiKey).update(msg).digest();
  const given = /^[0-9a-fA-F]{64}$/.test(sig) ? Buffer.from(sig, 'hex') : undefined;
  if (!given || !timingSafeEqual(expected, given)) return 'The signature does not match.';
  let payload: unknown;
  try {
    payload = JSON.parse(inflateSync(Buffer.from(msg, 'base64')).toString('utf8'));
  } catch {
    return 'The signed message is not zlib-compressed JSON.';
  }
  if (typeof payload !== 'object' || payload === null) return 'The signed message is not a JSON object.';
  const { _owner: owner, _timestamp: timestamp } = payload as Record<string, unknown>;
  if (owner !== account.ownerId) return 'The signed message names another owner.';
  if (typeof timestamp !== 'number' || !Number.isFinite(timestamp))
    return 'The signed message has no numeric _timestamp.';
  if (Math.abs(nowMs / 1000 - timestamp) > MAX_CLOCK_SKEW_SECONDS)
    return 'The signed message is stale: its _timestamp is more than 5 minutes off.';
  return undefined;
}
