import { createHmac } from 'node:crypto';
import { deflateSync } from 'node:zlib';

/** The two query parameters that authenticate an Uplynk API v4 request. */
export interface UplynkSignature {
  msg: string;
  sig: string;
}

/**
 * Signs an Uplynk request (API.md §2): `msg` is base64 of the zlib-deflated JSON
 * `{"_owner": ownerId, "_timestamp": unix seconds}`, `sig` the hex HMAC-SHA256 of `msg` keyed with the API
 * key. Uplynk refuses a timestamp more than 5 minutes off, so sign each request as it starts.
 * @example signUplynkRequest('abc123', key) // { msg: 'eJyr...', sig: '9f2c...' }
 */
export function signUplynkRequest(
  ownerId: string,
  apiKey: string,
  nowSeconds: number = Math.floor(Date.now() / 1000),
): UplynkSignature {
  const payload = JSON.stringify({ _owner: ownerId, _timestamp: nowSeconds });
  const msg = deflateSync(Buffer.from(payload, 'utf8')).toString('base64');
  const sig = createHmac('sha256', apiKey).update(msg).digest('hex');
  return { msg, sig };
}
