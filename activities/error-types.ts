/**
 * The stable error type names of the connectors, as plain constants with no imports: workflows (which may
 * not import activity code) and reports can use them without pulling in the HTTP client or Node built-ins.
 */

/** Stable error type names: workflows match them in `nonRetryableErrorTypes`, reports show them. */
export const ErrorTypes = {
  /** TwelveLabs refused the API key (401): every call would fail, so the batch stops. */
  TwelveLabsAuth: 'TwelveLabsAuthError',
  /** Uplynk refused the signature (401): wrong owner ID or key, or the worker's clock is off by over 5 minutes. */
  UplynkAuth: 'UplynkAuthError',
  /** EnterMediaDB refused the session key (401). */
  EnterMediaAuth: 'EnterMediaAuthError',
  /** A system's credentials are not set in the worker's environment. */
  MissingCredentials: 'MissingCredentialsError',
  /** 403: this key may not touch this resource. */
  PermissionDenied: 'PermissionDeniedError',
  /** 409: TwelveLabs refuses a plain delete while indexed assets reference the asset. */
  AssetReferenced: 'AssetReferencedError',
  /** 400 or 422: the vendor rejected the request as malformed. */
  InvalidRequest: 'InvalidRequestError',
  /** An ID that would not stay one path segment or one list element in a URL: refused before any call. */
  UnsafeId: 'UnsafeIdError',
  /** 400 on an unlink that would leave a TwelveLabs entity with no asset. */
  EntityLastAsset: 'EntityLastAssetError',
  /** A 404 that is not the vendor's own "not found" (a route not there: check the base URL); never "absent". */
  NotFound: 'NotFoundError',
  /** Any other 4xx (405, 410, 413, ...): nothing suggests a retry would go better. */
  UnexpectedClientError: 'UnexpectedClientError',
  /** A 2xx whose body does not have the documented shape: the vendor changed, retrying will not help. */
  UnexpectedResponse: 'UnexpectedResponseError',
  /** 429: retried after `Retry-After`. */
  RateLimited: 'RateLimitedError',
  /** 5xx: retried. */
  VendorUnavailable: 'VendorUnavailableError',
  /** 408, or no answer within the request timeout: retried. */
  RequestTimeout: 'RequestTimeoutError',
  /** Connection refused, reset or dropped, DNS failure: retried. */
  Connection: 'ConnectionError',
  /** A 2xx whose body is not JSON at all (a proxy's page, a truncated body): retried. */
  ResponseNotJson: 'ResponseNotJsonError',
  /** A TwelveLabs entity is still `processing`: retried (BENIGN) so that the retry policy polls. */
  EntityProcessing: 'EntityProcessingError',
} as const;
export type ErrorType = (typeof ErrorTypes)[keyof typeof ErrorTypes];

/**
 * The error types that must never be retried. Workflows pass this list as `nonRetryableErrorTypes` in
 * their activity retry policies (the activities also throw them as non-retryable, so this is a second
 * lock that holds even when a failure crosses a boundary that loses the flag).
 */
export const NON_RETRYABLE_ERROR_TYPES: readonly ErrorType[] = [
  ErrorTypes.TwelveLabsAuth,
  ErrorTypes.UplynkAuth,
  ErrorTypes.EnterMediaAuth,
  ErrorTypes.MissingCredentials,
  ErrorTypes.PermissionDenied,
  ErrorTypes.AssetReferenced,
  ErrorTypes.InvalidRequest,
  ErrorTypes.UnsafeId,
  ErrorTypes.EntityLastAsset,
  ErrorTypes.NotFound,
  ErrorTypes.UnexpectedClientError,
  ErrorTypes.UnexpectedResponse,
];
