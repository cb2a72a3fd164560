/**
 * IDs that reach a URL: checked against a safe alphabet before they are percent-encoded, so that no ID,
 * from a plan or from a vendor's answer, can change the route (`.`, `..`, `/`) or the list it is in (`,`).
 */
import { CallError } from './http-errors.js';
import { ErrorTypes } from './error-types.js';

const SAFE = /^[A-Za-z0-9_.:-]{1,200}$/;

/** The ID as it is, or a per-item `UnsafeIdError` naming what it is. */
export function safeId(id: string, what: string): string {
  if (!SAFE.test(id) || /^\.+$/.test(id)) {
    throw new CallError({
      disposition: 'item',
      type: ErrorTypes.UnsafeId,
      message: `${what} ${JSON.stringify(id.slice(0, 80))} is not a safe ID (letters, digits, "_", ".", ":" or "-", not only dots): no call was made`,
    });
  }
  return id;
}

/** The ID checked and percent-encoded, for one path segment. */
export function segment(id: string, what: string): string {
  return encodeURIComponent(safeId(id, what));
}
