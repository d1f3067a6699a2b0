// @ts-check
// What the job page says about a job, as pure functions of the API's answers (no DOM): the events
// in words, the ETA, what a cancel costs, and the loss chart's geometry. job.js puts them on the page.
import { capitalized, count, money, when } from "./format.js";

export const ACTIVE_STATUSES = new Set(["queued", "initializing", "running"]);

/**
 * @typedef {{id: number, type: string, created_at: string, data: Record<string, any>}} JobEvent
 * @typedef {{step: number, epoch: number, train_loss: number | null, validation_loss: number | null}} MetricPoint
 */

/**
 * One event of the feed as a sentence.
 * @param {JobEvent} event
 * @param {{total_steps: number, estimated_total_cost: number | string}} job
 * @returns {string}
 */
export function describeEvent(event, job) {
  const data = event.data;
  switch (event.type) {
    case "status_changed": {
      const moved = `${capitalized(String(data.from))} → ${capitalized(String(data.to))}`;
      if (data.cancellation) return `${moved}: it finished before the cancellation reached the GPU.`;
      if (data.stop_reason && STOPPED_BY[data.stop_reason])
        return `${moved}: ${STOPPED_BY[data.stop_reason]}.`;
      if (data.worker_id) return `${moved} on GPU worker ${data.worker_id}.`;
      return `${moved}.`;
    }
    case "progress": {
      const loss = data.metrics?.train_loss;
      return (
        `${Number(data.progress).toFixed(0)}% · step ${count(data.step)} of ${count(job.total_steps)}` +
        ` · ${money(data.cost)} so far` +
        (loss != null ? ` · train loss ${Number(loss).toFixed(3)}` : "")
      );
    }
    case "checkpoint":
      return `Checkpoint saved at step ${count(data.step)} (epoch ${data.epoch}) · ${money(data.cost)} so far.`;
    case "cost": {
      if (data.reason) return `Final cost ${money(data.cost)}: ${data.reason}.`;
      const capped =
        Number(data.beyond_cap_not_charged) > 0
          ? ` Capped at ${money(data.cap)}: ${money(data.beyond_cap_not_charged)} of GPU time past it not charged.`
          : "";
      return (
        `Final cost ${money(data.cost)} of ${money(data.estimated_total_cost ?? job.estimated_total_cost)}` +
        ` estimated` +
        (Number(data.not_charged) > 0 ? `; ${money(data.not_charged)} of the estimate not charged.` : ".") +
        capped
      );
    }
    case "error":
      return `Failed: ${data.message} (${data.code}).`;
    case "cancellation_requested":
      if (data.reason && STOPPED_BY[data.reason]) {
        const stopped = STOPPED_BY[data.reason];
        return `Stopping: ${stopped} (${money(data.cap)}); the job stops at its next step.`;
      }
      return "Cancellation requested: the job stops at its next step.";
    default:
      return capitalized(event.type.replaceAll("_", " "));
  }
}

/**
 * When a running job should end, in words.
 * @param {{status: string, estimated_finish_at: string | null, cancellation_requested_at?: string | null}} job
 * @param {number} nowMs
 * @returns {string}
 */
export function etaText(job, nowMs) {
  if (job.status === "queued" || job.status === "initializing") return "Waiting for a GPU";
  if (job.status === "running" && job.cancellation_requested_at)
    return "At its next step: it is being stopped";
  if (job.status !== "running" || !job.estimated_finish_at) return "—";
  const left = Math.round((Date.parse(job.estimated_finish_at) - nowMs) / 1000);
  const at = when(job.estimated_finish_at);
  if (left <= 0) return `Any moment now (expected ${at})`;
  if (left < 60) return `${at} (in ${left} s)`;
  if (left < 3600) return `${at} (in ${Math.round(left / 60)} min)`;
  return `${at} (in ${(left / 3600).toFixed(1)} h)`;
}

/**
 * What a cancel of this job costs, said before the user confirms it.
 * @param {{status: string, current_cost: number | string, estimated_total_cost: number | string}} job
 * @returns {string}
 */
export function cancelChargeText(job) {
  if (job.status === "queued" || job.status === "initializing") {
    return `Nothing has run yet: you will not be charged, and none of the ${money(job.estimated_total_cost)} estimate is.`;
  }
  const spent = Number(job.current_cost);
  const left = Math.max(Number(job.estimated_total_cost) - spent, 0);
  return (
    `It has cost ${money(spent)} so far. You are charged for the GPU time used until it stops, at its` +
    ` next step (a little more than ${money(spent)}); about ${money(left)} of the` +
    ` ${money(job.estimated_total_cost)} estimate will not be charged.`
  );
}

/** Why a budget stopped a job, as the end of a sentence. */
const STOPPED_BY = {
  budget_reached: "its cost reached its budget",
  monthly_limit_reached: "your monthly spending limit was reached",
};

/**
 * The job's budget, in words: "" when it has none.
 * @param {{max_cost?: number | string | null, stop_reason?: string | null}} job
 * @returns {string}
 */
export function budgetText(job) {
  const parts = [];
  if (job.max_cost !== null && job.max_cost !== undefined) {
    parts.push(
      `Budget ${money(job.max_cost)}: the job stops when its cost reaches it, and is never charged more.`,
    );
  }
  if (job.stop_reason === "monthly_limit_reached") {
    parts.push("Your monthly spending limit stopped it: it is never charged past what the month had left.");
  }
  return parts.join(" ");
}

/**
 * Why a job is stopping or stopped, and what it is charged: "" while nothing stops it.
 * @param {{status: string, cancellation_requested_at?: string | null, stop_reason?: string | null,
 *   current_cost: number | string, estimated_total_cost: number | string}} job
 * @returns {string}
 */
export function stopNoteText(job) {
  const budget = job.stop_reason ? STOPPED_BY[job.stop_reason] : undefined;
  if (job.status === "running" && job.cancellation_requested_at) {
    const since = when(job.cancellation_requested_at);
    return budget
      ? `Stopping since ${since}, as ${budget}: the job stops at its next step.` +
          ` Cost so far ${money(job.current_cost)}, and it is never charged more than its cap.`
      : `Cancellation requested ${since}: the job stops at its next step.` +
          ` Cost so far ${money(job.current_cost)}; the final charge follows when it stops.`;
  }
  if (job.status !== "cancelled") return "";
  const notCharged = Math.max(Number(job.estimated_total_cost) - Number(job.current_cost), 0);
  if (budget) {
    return `Stopped, as ${budget}. Charged ${money(job.current_cost)}; ${money(notCharged)} of the estimate not charged.`;
  }
  return cancelOutcomeText({ cancellation: "cancelled", charged: job.current_cost, not_charged: notCharged });
}

/**
 * What the cancel answer did, in words.
 * @param {{cancellation: string, charged: number | string, not_charged: number | string}} answer
 * @returns {string}
 */
export function cancelOutcomeText(answer) {
  if (answer.cancellation === "cancelled") {
    return `Cancelled. Charged ${money(answer.charged)}; ${money(answer.not_charged)} of the estimate not charged.`;
  }
  return (
    `Cancellation requested: the job stops at its next step. Charged so far ${money(answer.charged)};` +
    ` the final charge follows when it stops.`
  );
}

/**
 * The loss chart's lines in a width × height box (SVG user units), with its axes' ranges.
 * @param {MetricPoint[]} points
 * @param {number} totalSteps
 * @param {{width: number, height: number, pad: {left: number, right: number, top: number, bottom: number}}} box
 */
export function chartGeometry(points, totalSteps, box) {
  const losses = points.flatMap((p) => [p.train_loss, p.validation_loss]).filter((v) => v != null);
  if (losses.length === 0) return null;
  let low = Math.min(...losses);
  let high = Math.max(...losses);
  if (high - low < 1e-9) {
    low -= 0.5;
    high += 0.5;
  }
  const span = high - low;
  low = Math.max(0, low - span * 0.05);
  high += span * 0.05;
  const steps = Math.max(totalSteps, ...points.map((p) => p.step), 1);
  const plotWidth = box.width - box.pad.left - box.pad.right;
  const plotHeight = box.height - box.pad.top - box.pad.bottom;
  /** @param {number} step */
  const x = (step) => box.pad.left + (step / steps) * plotWidth;
  /** @param {number} loss */
  const y = (loss) => box.pad.top + (1 - (loss - low) / (high - low)) * plotHeight;
  /** @param {"train_loss" | "validation_loss"} key */
  const line = (key) =>
    points
      .filter((p) => p[key] != null)
      .map((p, i) => `${i === 0 ? "M" : "L"}${x(p.step).toFixed(1)},${y(p[key]).toFixed(1)}`)
      .join(" ");
  const validation = points
    .filter((p) => p.validation_loss != null)
    .map((p) => ({ x: x(p.step), y: y(p.validation_loss), step: p.step, loss: p.validation_loss }));
  const ticks = [0, 0.5, 1].map((f) => ({ value: low + (high - low) * f, y: y(low + (high - low) * f) }));
  return {
    train: line("train_loss"),
    validation: line("validation_loss"),
    validationPoints: validation,
    ticks,
    steps,
    low,
    high,
  };
}

/**
 * A sentence for screen readers: what the chart shows.
 * @param {MetricPoint[]} points
 * @returns {string}
 */
export function chartSummary(points) {
  const train = points.filter((p) => p.train_loss != null);
  const validation = points.filter((p) => p.validation_loss != null);
  if (train.length === 0 && validation.length === 0) return "No losses reported yet.";
  const parts = [];
  if (train.length) {
    const first = train[0];
    const last = train[train.length - 1];
    parts.push(
      `Train loss from ${first.train_loss.toFixed(3)} at step ${count(first.step)} to ` +
        `${last.train_loss.toFixed(3)} at step ${count(last.step)}`,
    );
  }
  if (validation.length) {
    const last = validation[validation.length - 1];
    parts.push(`validation loss ${last.validation_loss.toFixed(3)} at step ${count(last.step)}`);
  }
  return `${parts.join("; ")}.`;
}

/**
 * One checkpoint as the files list says it: step, epoch and its losses.
 * @param {{step: number, epoch: number, metrics: Record<string, number>}} checkpoint
 */
export function checkpointText(checkpoint) {
  const losses = [];
  if (checkpoint.metrics.train_loss != null)
    losses.push(`train loss ${checkpoint.metrics.train_loss.toFixed(3)}`);
  if (checkpoint.metrics.validation_loss != null) {
    losses.push(`validation loss ${checkpoint.metrics.validation_loss.toFixed(3)}`);
  }
  return [`Step ${checkpoint.step.toLocaleString("en-US")}`, `epoch ${checkpoint.epoch}`, ...losses].join(
    " · ",
  );
}

/**
 * What the files list says of the final adapter, by the job's status.
 * @param {string} status
 * @param {boolean} available
 */
export function adapterText(status, available) {
  if (available) return "The trained LoRA adapter is ready to download.";
  if (status === "failed" || status === "cancelled") {
    return `No adapter: the job ${status === "failed" ? "failed" : "was cancelled"} before it finished. Its checkpoints, if any, are below.`;
  }
  return "The adapter can be downloaded once the job has completed.";
}
