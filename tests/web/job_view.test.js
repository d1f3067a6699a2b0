// What the job page says about a job: events in words, the ETA, the cancel's charge, the loss chart.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  adapterText,
  budgetText,
  cancelChargeText,
  cancelOutcomeText,
  chartGeometry,
  chartSummary,
  checkpointText,
  describeEvent,
  etaText,
  stopNoteText,
} from "../../web/assets/job_view.js";

const JOB = { total_steps: 625, estimated_total_cost: 2.32 };
const event = (type, data) => ({ id: 1, type, created_at: "2026-12-03T12:00:00Z", data });

test("each kind of event reads as a sentence with its figures", () => {
  assert.equal(
    describeEvent(event("status_changed", { from: "initializing", to: "running", worker_id: "gpu-7" }), JOB),
    "Initializing → Running on GPU worker gpu-7.",
  );
  assert.equal(
    describeEvent(
      event("progress", { step: 250, epoch: 0, progress: 40, cost: 0.73, metrics: { train_loss: 1.23456 } }),
      JOB,
    ),
    "40% · step 250 of 625 · $0.73 so far · train loss 1.235",
  );
  assert.equal(
    describeEvent(event("checkpoint", { step: 625, epoch: 1, cost: 1.82, object_key: "k" }), JOB),
    "Checkpoint saved at step 625 (epoch 1) · $1.82 so far.",
  );
  assert.equal(
    describeEvent(
      event("cost", { final: true, cost: 1.82, estimated_total_cost: 2.32, not_charged: 0.5 }),
      JOB,
    ),
    "Final cost $1.82 of $2.32 estimated; $0.50 of the estimate not charged.",
  );
  assert.equal(
    describeEvent(event("cost", { final: true, cost: 0, reason: "cancelled before it ran" }), JOB),
    "Final cost $0.00: cancelled before it ran.",
  );
  assert.equal(
    describeEvent(event("error", { code: "out_of_memory", message: "CUDA out of memory" }), JOB),
    "Failed: CUDA out of memory (out_of_memory).",
  );
  assert.equal(
    describeEvent(event("cancellation_requested", {}), JOB),
    "Cancellation requested: the job stops at its next step.",
  );
});

test("a completion that beat the cancel says the cancellation came too late", () => {
  const text = describeEvent(
    event("status_changed", { from: "running", to: "completed", cancellation: "too late" }),
    JOB,
  );
  assert.equal(text, "Running → Completed: it finished before the cancellation reached the GPU.");
});

test("a cost over the estimate says nothing was left uncharged", () => {
  const text = describeEvent(
    event("cost", { final: true, cost: 2.5, estimated_total_cost: 2.32, not_charged: 0 }),
    JOB,
  );
  assert.equal(text, "Final cost $2.50 of $2.32 estimated.");
});

test("the ETA counts down while running and waits before", () => {
  const now = Date.parse("2026-12-03T12:00:00Z");
  const running = (at) => ({ status: "running", estimated_finish_at: at });
  assert.match(etaText(running("2026-12-03T12:00:40Z"), now), /\(in 40 s\)$/);
  assert.match(etaText(running("2026-12-03T12:05:00Z"), now), /\(in 5 min\)$/);
  assert.match(etaText(running("2026-12-03T15:00:00Z"), now), /\(in 3\.0 h\)$/);
  assert.match(etaText(running("2026-12-03T11:59:00Z"), now), /^Any moment now/);
  assert.equal(etaText({ status: "queued", estimated_finish_at: null }, now), "Waiting for a GPU");
  assert.equal(etaText({ status: "completed", estimated_finish_at: null }, now), "—");
  const stopping = { ...running("2026-12-03T12:05:00Z"), cancellation_requested_at: "2026-12-03T11:59:00Z" };
  assert.equal(etaText(stopping, now), "At its next step: it is being stopped");
});

test("the cancel dialog states the charge so far and what of the estimate is not charged", () => {
  assert.equal(
    cancelChargeText({ status: "running", current_cost: 0.73, estimated_total_cost: 2.32 }),
    "It has cost $0.73 so far. You are charged for the GPU time used until it stops, at its next step" +
      " (a little more than $0.73); about $1.59 of the $2.32 estimate will not be charged.",
  );
  assert.equal(
    cancelChargeText({ status: "queued", current_cost: 0, estimated_total_cost: 2.32 }),
    "Nothing has run yet: you will not be charged, and none of the $2.32 estimate is.",
  );
  assert.equal(
    cancelOutcomeText({ cancellation: "cancelled", charged: 0, not_charged: 2.32 }),
    "Cancelled. Charged $0.00; $2.32 of the estimate not charged.",
  );
  assert.match(
    cancelOutcomeText({ cancellation: "requested", charged: 0.73, not_charged: 1.59 }),
    /Charged so far \$0\.73/,
  );
});

const BOX = { width: 200, height: 120, pad: { left: 0, right: 0, top: 10, bottom: 10 } };

test("the chart spans the whole run and puts the lowest loss lowest", () => {
  const points = [
    { step: 0, epoch: 0, train_loss: 2, validation_loss: null },
    { step: 50, epoch: 0, train_loss: 1, validation_loss: null },
    { step: 100, epoch: 1, train_loss: 0.5, validation_loss: 0.6 },
  ];
  const geometry = chartGeometry(points, 200, BOX);
  const coordinates = geometry.train.split(" ").map((move) => move.slice(1).split(",").map(Number));
  assert.deepEqual(
    coordinates.map(([x]) => x),
    [0, 50, 100],
  ); // 100 of 200 steps reaches half the width
  const ys = coordinates.map(([, y]) => y);
  assert.ok(ys[0] < ys[1] && ys[1] < ys[2], "a falling loss draws downwards");
  assert.ok(ys[0] >= 10 && ys[2] <= 110, "inside the padding");
  assert.equal(geometry.validationPoints.length, 1);
  assert.equal(geometry.validation, `M100.0,${geometry.validationPoints[0].y.toFixed(1)}`);
  assert.equal(geometry.steps, 200);
});

test("no losses means no chart, and a flat loss still draws", () => {
  assert.equal(chartGeometry([], 100, BOX), null);
  const flat = chartGeometry([{ step: 10, epoch: 0, train_loss: 1, validation_loss: null }], 100, BOX);
  assert.ok(flat.high > flat.low);
  assert.match(flat.train, /^M20\.0,/);
});

test("the chart's summary reads the first and last losses", () => {
  assert.equal(chartSummary([]), "No losses reported yet.");
  assert.equal(
    chartSummary([
      { step: 10, epoch: 0, train_loss: 2.5, validation_loss: null },
      { step: 625, epoch: 1, train_loss: 0.61, validation_loss: 0.7 },
    ]),
    "Train loss from 2.500 at step 10 to 0.610 at step 625; validation loss 0.700 at step 625.",
  );
});

test("a checkpoint reads as its step, epoch and losses", () => {
  assert.equal(
    checkpointText({ step: 1250, epoch: 2, metrics: { train_loss: 0.81234, validation_loss: 0.9 } }),
    "Step 1,250 · epoch 2 · train loss 0.812 · validation loss 0.900",
  );
  assert.equal(checkpointText({ step: 60, epoch: 0, metrics: {} }), "Step 60 · epoch 0");
});

test("the adapter line says when it can be downloaded, and why not", () => {
  assert.equal(adapterText("completed", true), "The trained LoRA adapter is ready to download.");
  assert.equal(adapterText("running", false), "The adapter can be downloaded once the job has completed.");
  assert.match(adapterText("failed", false), /^No adapter: the job failed before it finished/);
  assert.match(adapterText("cancelled", false), /^No adapter: the job was cancelled/);
});

test("a job's budget, and a stop a budget made, read as sentences", () => {
  assert.equal(budgetText({ max_cost: null }), "");
  assert.equal(budgetText({ max_cost: null, stop_reason: "cancelled_by_user" }), "");
  assert.equal(
    budgetText({ max_cost: 12.5, stop_reason: "budget_reached" }),
    "Budget $12.50: the job stops when its cost reaches it, and is never charged more.",
  );
  assert.equal(
    budgetText({ max_cost: null, stop_reason: "monthly_limit_reached" }),
    "Your monthly spending limit stopped it: it is never charged past what the month had left.",
  );
  const job = {
    current_cost: 1,
    estimated_total_cost: 2.32,
    cancellation_requested_at: "2026-12-07T12:00:00Z",
  };
  assert.equal(stopNoteText({ ...job, status: "running", cancellation_requested_at: null }), "");
  assert.match(
    stopNoteText({ ...job, status: "running", stop_reason: "budget_reached" }),
    /^Stopping since .+, as its cost reached its budget: the job stops at its next step\. Cost so far \$1\.00, and it is never charged more than its cap\.$/,
  );
  assert.match(
    stopNoteText({ ...job, status: "running", stop_reason: "cancelled_by_user" }),
    /^Cancellation requested .+: the job stops at its next step\. Cost so far \$1\.00; the final charge follows/,
  );
  assert.equal(
    stopNoteText({ ...job, status: "cancelled", stop_reason: "monthly_limit_reached" }),
    "Stopped, as your monthly spending limit was reached. Charged $1.00; $1.32 of the estimate not charged.",
  );
  assert.equal(
    stopNoteText({ ...job, status: "cancelled", stop_reason: "cancelled_by_user" }),
    "Cancelled. Charged $1.00; $1.32 of the estimate not charged.",
  );
  assert.equal(stopNoteText({ ...job, status: "completed", stop_reason: "budget_reached" }), "");
  assert.equal(
    describeEvent(
      event("status_changed", { from: "running", to: "cancelled", stop_reason: "budget_reached" }),
      JOB,
    ),
    "Running → Cancelled: its cost reached its budget.",
  );
  assert.equal(
    describeEvent(event("cancellation_requested", { reason: "budget_reached", cap: 1.5, cost: 1.5 }), JOB),
    "Stopping: its cost reached its budget ($1.50); the job stops at its next step.",
  );
  assert.equal(
    describeEvent(event("cancellation_requested", {}), JOB),
    "Cancellation requested: the job stops at its next step.",
  );
  assert.equal(
    describeEvent(
      event("cost", {
        cost: 1.5,
        final: true,
        estimated_total_cost: 2.32,
        not_charged: 0.82,
        cap: 1.5,
        beyond_cap_not_charged: 0.07,
      }),
      JOB,
    ),
    "Final cost $1.50 of $2.32 estimated; $0.82 of the estimate not charged." +
      " Capped at $1.50: $0.07 of GPU time past it not charged.",
  );
});
