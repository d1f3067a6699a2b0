// @ts-check
// Calls to the PIPELINE API from every page: where the API is (config.js), the bearer token,
// JSON in and out, and one readable message for every kind of failure.
import { beginSignIn, currentToken, forgetToken } from "./auth.js";
import { loadConfig } from "./config.js";

/**
 * @typedef {{status: number, ok: boolean, body: any, headers: Headers}} ApiResult
 * @typedef {{method?: string, body?: unknown, headers?: Record<string, string>, signal?: AbortSignal}} CallOptions
 */

/**
 * One API call. Resolves to {status, ok, body, headers}; rejects only when the server could not be
 * reached (or the call was aborted). A 401 means the token expired: sign in again, then come back.
 * @param {string} path
 * @param {CallOptions} [options]
 * @returns {Promise<ApiResult>}
 */
export async function callApi(path, { method = "GET", body, headers = {}, signal } = {}) {
  const config = await loadConfig();
  const token = currentToken();
  /** @type {Record<string, string>} */
  const sent = { ...headers };
  if (token) sent.Authorization = `Bearer ${token}`;
  if (body !== undefined) sent["Content-Type"] = "application/json";
  const response = await fetch(`${config.apiUrl}${path}`, {
    method,
    headers: sent,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal,
  });
  let payload = null;
  try {
    payload = await response.json();
  } catch {
    payload = null; // an empty or non-JSON body (a proxy's error page): the status still says what happened
  }
  if (response.status === 401) {
    forgetToken();
    await beginSignIn(location.pathname + location.search);
  }
  return { status: response.status, ok: response.ok, body: payload, headers: response.headers };
}

/**
 * What went wrong, in words, from an API answer (or a thrown network error).
 * @param {ApiResult | Error} resultOrError
 * @returns {string}
 */
export function describeFailure(resultOrError) {
  if (resultOrError instanceof Error) {
    return "Could not reach the server. Check your connection and try again.";
  }
  const { status, body } = resultOrError;
  if (status === 503) return "The service is busy or briefly unavailable. Please try again in a few seconds.";
  if (body && typeof body.error === "string") {
    const details = body.details;
    if (typeof details === "string") return `${body.error}: ${details}`;
    if (details && typeof details === "object") {
      const parts = Object.entries(details)
        .filter(([, messages]) => Array.isArray(messages))
        .map(([field, messages]) => `${field}: ${messages.join("; ")}`);
      if (parts.length) return `${body.error}: ${parts.join(" · ")}`;
    }
    if (body.request_id) return `${body.error} (reference ${body.request_id})`;
    return body.error;
  }
  if (body && typeof body.message === "string") return body.message; // API Gateway's own answers
  return `The server answered with HTTP ${status}.`;
}

/**
 * An Idempotency-Key: a UUID, also where crypto.randomUUID is missing (pages served over plain HTTP).
 * @returns {string}
 */
export function newIdempotencyKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
