// What the pages tell a user when a call fails, and the keys they send with a create.
import assert from "node:assert/strict";
import { test } from "node:test";

import { describeFailure, newIdempotencyKey } from "../../web/assets/api_client.js";

/** @param {number} status @param {unknown} body */
const answer = (status, body) => ({ status, ok: status < 400, body, headers: new Headers() });

test("a network failure asks to check the connection", () => {
  assert.equal(
    describeFailure(new TypeError("Failed to fetch")),
    "Could not reach the server. Check your connection and try again.",
  );
});

test("a 503 says the service is briefly unavailable, whatever its body", () => {
  assert.match(describeFailure(answer(503, { error: "Service unavailable" })), /briefly unavailable/);
});

test("the API's error is shown with its details: text, or each field's messages", () => {
  assert.equal(
    describeFailure(answer(404, { error: "Dataset not found or access denied" })),
    "Dataset not found or access denied",
  );
  assert.equal(
    describeFailure(answer(400, { error: "Dataset not ready for training", details: "status='processing'" })),
    "Dataset not ready for training: status='processing'",
  );
  assert.equal(
    describeFailure(
      answer(400, {
        error: "Validation error",
        details: { "gpu_config.count": ["Input should be less than or equal to 8"], limit: ["a", "b"] },
      }),
    ),
    "Validation error: gpu_config.count: Input should be less than or equal to 8 · limit: a; b",
  );
});

test("an internal error quotes its request id, so the user can cite it", () => {
  assert.equal(
    describeFailure(answer(500, { error: "Internal error", request_id: "r-1" })),
    "Internal error (reference r-1)",
  );
});

test("API Gateway's own answers and empty bodies still say something", () => {
  assert.equal(describeFailure(answer(401, { message: "Unauthorized" })), "Unauthorized");
  assert.equal(describeFailure(answer(502, null)), "The server answered with HTTP 502.");
});

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test("idempotency keys are fresh version-4 UUIDs", () => {
  const keys = new Set(Array.from({ length: 100 }, () => newIdempotencyKey()));
  assert.equal(keys.size, 100);
  for (const key of keys) assert.match(key, UUID_V4);
});

test("without crypto.randomUUID (plain HTTP) the key is built from random bytes, still a v4 UUID", (t) => {
  Object.defineProperty(globalThis.crypto, "randomUUID", { value: undefined, configurable: true });
  t.after(() => delete (/** @type {any} */ (globalThis.crypto).randomUUID));
  for (let i = 0; i < 50; i++) assert.match(newIdempotencyKey(), UUID_V4);
});
