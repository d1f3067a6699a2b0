// The figures every page writes, as the API's numbers arrive.
import assert from "node:assert/strict";
import { test } from "node:test";

import { capitalized, count, fixed, hours, money, when } from "../../web/assets/format.js";

test("money shows dollars and cents, from a number or the API's string", () => {
  assert.equal(money(5.94), "$5.94");
  assert.equal(money(7), "$7.00");
  assert.equal(money("0.5"), "$0.50");
});

test("hours keep one decimal, counts group thousands", () => {
  assert.equal(hours(1.25), "1.3 hours");
  assert.equal(count(1234567), "1,234,567");
});

test("a missing time is a dash, not 'Invalid Date'", () => {
  assert.equal(when(null), "—");
  assert.equal(when(undefined), "—");
  assert.notEqual(when("2026-12-02T14:00:00Z"), "—");
});

test("a moment says which time zone it is in", () => {
  assert.match(when("2026-12-02T14:00:00Z"), /\b(UTC|GMT([+-]\d{1,2}(:\d\d)?)?|[A-Z]{3,5})$/);
});

test("a slider value keeps exactly the control's decimals", () => {
  assert.equal(fixed(0.000123456, 5), 0.00012);
  assert.equal(fixed("3", 0), 3);
});

test("statuses and preset ids are shown capitalised", () => {
  assert.equal(capitalized("queued"), "Queued");
  assert.equal(capitalized(""), "");
});
