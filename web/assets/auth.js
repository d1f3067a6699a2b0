// @ts-check
// Who is signed in. The access token lives in sessionStorage (one tab, gone when it closes).
// Locally the stack's dev-only endpoint issues tokens for a chosen user; deployed, the Cognito hosted
// UI does, through the authorization-code flow with PKCE (no client secret in the page).
import { loadConfig } from "./config.js";

const TOKEN_KEY = "pipeline.session";
const PENDING_KEY = "pipeline.signin";
export const SIGNIN_PATH = "/training/signin";

/** The access token, unless missing or about to expire. @returns {string | null} */
export function currentToken() {
  const stored = readJson(sessionStorage, TOKEN_KEY);
  if (!stored || typeof stored.token !== "string") return null;
  if (Date.now() > stored.expiresAt - 30_000) {
    forgetToken(); // about to expire: a request with it would fail halfway through a form
    return null;
  }
  return stored.token;
}

export function currentUser() {
  return readJson(sessionStorage, TOKEN_KEY)?.user ?? null;
}

/**
 * @param {string} token
 * @param {number} expiresInSeconds
 * @param {string | null} user
 */
export function storeToken(token, expiresInSeconds, user) {
  const expiresAt = Date.now() + expiresInSeconds * 1000;
  sessionStorage.setItem(TOKEN_KEY, JSON.stringify({ token, expiresAt, user }));
}

export function forgetToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

/**
 * Go to sign-in; afterwards the user comes back to `next` (a path on this site). Every hop replaces
 * the current history entry, so Back and Cancel afterwards skip the sign-in pages.
 * @param {string} next
 */
export async function beginSignIn(next) {
  const config = await loadConfig();
  if (config.auth.kind !== "cognito") {
    location.replace(`${SIGNIN_PATH}?next=${encodeURIComponent(next)}`);
    return;
  }
  const verifier = randomString(64);
  const state = randomString(32);
  sessionStorage.setItem(PENDING_KEY, JSON.stringify({ verifier, state, next }));
  const challenge = base64Url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  const query = new URLSearchParams({
    response_type: "code",
    client_id: config.auth.clientId,
    redirect_uri: `${location.origin}${SIGNIN_PATH}`,
    scope: config.auth.scopes,
    state,
    code_challenge: challenge,
    code_challenge_method: "S256",
  });
  location.replace(`${config.auth.domain}/oauth2/authorize?${query}`);
}

/**
 * The hosted UI sent the user back with ?code=&state=: trade the code for tokens. Returns `next`.
 * @param {URLSearchParams} params
 * @returns {Promise<string>}
 */
export async function completeCognitoSignIn(params) {
  const config = await loadConfig();
  const pending = readJson(sessionStorage, PENDING_KEY);
  sessionStorage.removeItem(PENDING_KEY);
  if (!pending || pending.state !== params.get("state")) {
    throw new Error("This sign-in link is stale or was not started here. Please sign in again.");
  }
  const response = await fetch(`${config.auth.domain}/oauth2/token`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      client_id: config.auth.clientId,
      code: params.get("code"),
      redirect_uri: `${location.origin}${SIGNIN_PATH}`,
      code_verifier: pending.verifier,
    }),
  });
  if (!response.ok) throw new Error(`Sign-in failed (HTTP ${response.status}). Please try again.`);
  const tokens = await response.json();
  storeToken(tokens.access_token, tokens.expires_in, claimsOf(tokens.id_token ?? tokens.access_token));
  return safeNext(pending.next);
}

/**
 * Locally: ask the stack's dev-only endpoint for a token for `user`. Returns nothing; throws on failure.
 * @param {string} user
 */
export async function signInLocally(user) {
  const config = await loadConfig();
  const response = await fetch(config.auth.tokenUrl, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ user }),
  });
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new Error(body?.error ?? `Sign-in failed (HTTP ${response.status}).`);
  storeToken(body.access_token, body.expires_in, user);
}

export async function signOut() {
  const config = await loadConfig();
  forgetToken();
  if (config.auth.kind === "cognito") {
    const query = new URLSearchParams({
      client_id: config.auth.clientId,
      logout_uri: `${location.origin}${SIGNIN_PATH}`,
    });
    location.assign(`${config.auth.domain}/logout?${query}`);
  } else {
    location.assign(SIGNIN_PATH);
  }
}

/**
 * Only pages of this site: an open redirect through ?next= would hand the session to anyone.
 * @param {unknown} next
 * @returns {string}
 */
export function safeNext(next) {
  if (typeof next !== "string" || !next.startsWith("/")) return "/training/jobs";
  // Resolved as the browser would: "//host" and "/\host" both leave the site.
  const target = new URL(next, location.origin);
  return target.origin === location.origin
    ? `${target.pathname}${target.search}${target.hash}`
    : "/training/jobs";
}

/**
 * Who the token is for, to show on the page (the API checks the token; the page only displays).
 * @param {string} jwt
 * @returns {string | null}
 */
function claimsOf(jwt) {
  try {
    const binary = atob(jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/"));
    const payload = JSON.parse(new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0))));
    return payload.email ?? payload.username ?? payload["cognito:username"] ?? null;
  } catch {
    return null;
  }
}

/**
 * @param {Storage} storage
 * @param {string} key
 */
function readJson(storage, key) {
  try {
    return JSON.parse(storage.getItem(key) ?? "null");
  } catch {
    return null;
  }
}

/** @param {number} length */
function randomString(length) {
  // 64 symbols, so each random byte maps to one without bias.
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  return [...crypto.getRandomValues(new Uint8Array(length))]
    .map((b) => alphabet[b % alphabet.length])
    .join("");
}

/** @param {ArrayBuffer} buffer */
function base64Url(buffer) {
  return btoa(String.fromCharCode(...new Uint8Array(buffer)))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}
