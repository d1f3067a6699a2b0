// The session the pages keep, and where sign-in may send the user afterwards.
import assert from "node:assert/strict";
import { beforeEach, test } from "node:test";

import { currentToken, currentUser, forgetToken, safeNext, storeToken } from "../../web/assets/auth.js";

class MemoryStorage {
  #items = new Map();
  /** @param {string} key */
  getItem(key) {
    return this.#items.get(key) ?? null;
  }
  /** @param {string} key @param {string} value */
  setItem(key, value) {
    this.#items.set(key, String(value));
  }
  /** @param {string} key */
  removeItem(key) {
    this.#items.delete(key);
  }
}

beforeEach(() => {
  Object.assign(globalThis, {
    sessionStorage: new MemoryStorage(),
    location: new URL("https://training.pipeline.example/training/jobs"),
  });
});

test("a stored token is the current one, with its user", () => {
  storeToken("t-1", 3600, "alice@example.com");
  assert.equal(currentToken(), "t-1");
  assert.equal(currentUser(), "alice@example.com");
});

test("a token within 30 seconds of expiry is dropped, not sent halfway through a form", () => {
  storeToken("t-2", 20, "alice");
  assert.equal(currentToken(), null);
  assert.equal(sessionStorage.getItem("pipeline.session"), null);
});

test("signing out forgets the token; a damaged session is no session", () => {
  storeToken("t-3", 3600, "alice");
  forgetToken();
  assert.equal(currentToken(), null);
  sessionStorage.setItem("pipeline.session", "{not json");
  assert.equal(currentToken(), null);
});

test("after sign-in the user goes back only to a page of this site", () => {
  assert.equal(safeNext("/training/configure?datasetId=1#top"), "/training/configure?datasetId=1#top");
  for (const away of [
    "https://evil.example/",
    "//evil.example/x",
    "/\\evil.example",
    "javascript:alert(1)",
  ]) {
    assert.equal(safeNext(away), "/training/jobs", away);
  }
  assert.equal(safeNext(null), "/training/jobs");
});
