// @ts-check
// /training/jobs/<id>: one job followed to its end. Every 2 s while it is queued, initializing or
// running: the job, then its new events (by cursor) and its loss chart; polling stops at a final
// status, after one last read of the events and the chart. Cancel asks first, saying what it costs.
import { callApi, describeFailure } from "./api_client.js";
import { count, money, capitalized, when } from "./format.js";
import { clearError, showError, startSignedInPage } from "./page_shell.js";
import { $ } from "./dom.js";
import {
  ACTIVE_STATUSES,
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
} from "./job_view.js";

const POLL_MS = 2000;
const CHART = { width: 640, height: 260, pad: { left: 52, right: 16, top: 12, bottom: 36 } };
const SVG_NS = "http://www.w3.org/2000/svg";
const jobId = decodeURIComponent(location.pathname.replace(/\/+$/, "").split("/").pop());
const path = `/jobs/${encodeURIComponent(jobId)}`;

/** @type {any} */
let job = null;
/** @type {string | null} */
let eventsCursor = null;
/** @type {string | null} */
let chartedAt = null; // status and step the chart was last read at
/** @type {string | null} */
let filesAt = null; // status and checkpoint count the files were last read at
let checkpointEvents = 0;
let timer = null;
let stopped = false;
/** @type {Promise<void> | null} */
let inFlight = null;
let again = false;
/** @type {Map<string, string>} base model id -> name, from the catalog (ids until it answers) */
let modelNames = new Map();

async function main() {
  if (!(await startSignedInPage())) return;
  $("cancel-job").addEventListener("click", openCancelDialog);
  $("cancel-keep").addEventListener("click", () => $("cancel-dialog").close());
  $("cancel-confirm").addEventListener("click", confirmCancel);
  $("download-adapter").addEventListener("click", () => download("artifact=adapter", $("download-adapter")));
  loadModelNames(); // beside the first poll: the job shows its model's id until the names arrive
  await refresh();
}

/** The base models' names, to show the job's by name; without them the page shows the id. */
async function loadModelNames() {
  try {
    const result = await callApi("/catalog");
    if (!result.ok) return;
    modelNames = new Map(result.body.data.base_models.map((model) => [model.id, model.name]));
  } catch {
    return;
  }
  if (job) renderModel(job);
}

function renderModel(shown) {
  const model = shown.base_model ? (modelNames.get(shown.base_model) ?? shown.base_model) : "—";
  $("job-model-summary").textContent = model;
  $("job-base-model").textContent = model;
}

/** One poll at a time (a cancel's refresh may meet the timer's): the feed's cursor moves in order. */
function refresh() {
  if (inFlight) {
    again = true;
    return inFlight;
  }
  inFlight = poll().finally(() => {
    inFlight = null;
    if (again && !stopped) {
      again = false;
      refresh();
    }
  });
  return inFlight;
}

async function poll() {
  timer = null;
  let result;
  try {
    result = await callApi(path);
  } catch (error) {
    showError($("page-error"), `${describeFailure(error)} Retrying...`);
    schedule();
    return;
  }
  $("job-loading").hidden = true;
  if (!result.ok) {
    if (result.status === 404 || result.status === 400) {
      $("job").hidden = true;
      showError(
        $("page-error"),
        "Training job not found. It may belong to another account, or the link is wrong.",
      );
      return;
    }
    showError($("page-error"), describeFailure(result));
    if (result.status >= 500) schedule(); // a passing outage: keep trying at the same pace
    return;
  }
  clearError($("page-error"));
  job = result.body.data;
  render(job);
  // Read after the job: they hold at least what the job's answer reflects (its final events too).
  await Promise.all([followEvents(), followChart(job)]);
  await followFiles(job); // after the events: a new checkpoint event says the list changed
  if (ACTIVE_STATUSES.has(job.status)) {
    schedule();
  } else {
    stopped = true;
    $("polling-note").textContent = `Final status. Last checked ${new Date().toLocaleTimeString()}.`;
  }
}

/** Poll while the tab is visible; a hidden tab waits until it is shown again. */
function schedule() {
  clearTimeout(timer);
  timer = setTimeout(() => {
    if (document.hidden) {
      document.addEventListener("visibilitychange", refresh, { once: true });
    } else {
      refresh();
    }
  }, POLL_MS);
}

function render(shown) {
  document.title = `${shown.dataset.name} · Training Job · PIPELINE`;
  $("job-title").textContent = `Training Job: ${shown.dataset.name}`;
  $("job-created-summary").textContent = when(shown.created_at);
  renderModel(shown);
  const badge = $("job-status");
  badge.textContent = capitalized(shown.status);
  badge.className = `badge ${shown.status}`;
  const progress = Number(shown.progress);
  $("job-progress").value = progress;
  $("job-progress-text").textContent = `${progress.toFixed(0)}%`;
  $("job-step").textContent = `${count(shown.current_step)} of ${count(shown.total_steps)}`;
  $("job-epoch").textContent = `${shown.current_epoch} of ${shown.total_epochs}`;
  $("job-eta").textContent = etaText(shown, Date.now());
  renderCost(shown);
  renderFailure(shown);
  renderCancelState(shown);
  $("job-dataset").textContent = shown.dataset.name;
  $("job-preset").textContent = capitalized(shown.preset_id);
  $("job-gpu").textContent = `${shown.gpu_config.count} × ${shown.gpu_config.type}`;
  const hp = shown.hyperparameters;
  $("job-hyperparameters").textContent =
    `learning rate ${hp.learning_rate}, batch ${hp.batch_size}, epochs ${hp.epochs}, rank ${hp.rank}` +
    (hp.alpha != null ? `, alpha ${hp.alpha}` : "") +
    (hp.dropout != null ? `, dropout ${hp.dropout}` : "");
  $("job-stage").textContent = shown.current_stage ?? "—";
  $("job-created").textContent = when(shown.created_at);
  $("job-started").textContent = when(shown.started_at);
  $("job-completed").textContent = when(shown.completed_at);
  $("job-id").textContent = shown.id;
  if (ACTIVE_STATUSES.has(shown.status)) {
    $("polling-note").textContent =
      `Refreshing every ${POLL_MS / 1000} s. Last checked ${new Date().toLocaleTimeString()}.`;
  }
  $("job").hidden = false;
}

function renderCost(shown) {
  const final = !ACTIVE_STATUSES.has(shown.status);
  $("job-current-cost-label").textContent = final ? "Charged" : "Cost so far";
  $("job-current-cost").textContent = money(shown.current_cost);
  $("job-estimated-cost").textContent = money(shown.estimated_total_cost);
  const meter = $("job-cost-meter");
  meter.max = Math.max(Number(shown.estimated_total_cost), Number(shown.current_cost), 0.01);
  meter.value = Number(shown.current_cost);
  meter.high = Number(shown.estimated_total_cost);
  let note = "";
  if (shown.cost_over_estimate) {
    note = "This run has cost more than its estimate: it is charged for the GPU time it used.";
  } else if (!final) {
    note = "Charged for the GPU time used: the figure rises as the job runs.";
  } else if (Number(shown.estimated_total_cost) > Number(shown.current_cost)) {
    note = `${money(Number(shown.estimated_total_cost) - Number(shown.current_cost))} of the estimate was not charged.`;
  }
  $("job-cost-note").textContent = note;
  const budget = budgetText(shown);
  $("job-budget").textContent = budget;
  $("job-budget").hidden = budget === "";
}

function renderFailure(shown) {
  const error = $("job-error");
  const failure = shown.error;
  error.hidden = !failure && !shown.error_message;
  error.textContent = failure
    ? `Training failed: ${failure.message} (error code ${failure.code})`
    : (shown.error_message ?? "");
}

function renderCancelState(shown) {
  const requested = shown.status === "running" && shown.cancellation_requested_at;
  $("cancel-job").hidden = !ACTIVE_STATUSES.has(shown.status) || Boolean(requested);
  const note = stopNoteText(shown);
  $("cancel-note").textContent = note;
  $("cancel-note").hidden = note === "";
}

// ---- the events feed ------------------------------------------------------------------------------

async function followEvents() {
  for (let pages = 0; pages < 10; pages += 1) {
    const query = new URLSearchParams({ limit: "200" });
    if (eventsCursor) query.set("cursor", eventsCursor);
    let result;
    try {
      result = await callApi(`${path}/events?${query}`);
    } catch {
      return; // the next poll tries again from the same cursor
    }
    if (!result.ok) return;
    const { events, next_cursor: next, has_more: more } = result.body.data;
    appendEvents(events);
    eventsCursor = next ?? eventsCursor;
    if (!more) return;
  }
}

function appendEvents(events) {
  const list = $("job-events");
  for (const event of events) {
    const item = document.createElement("li");
    item.dataset.type = event.type;
    if (event.type === "checkpoint") checkpointEvents += 1;
    const time = document.createElement("time");
    time.dateTime = event.created_at;
    time.textContent = new Date(event.created_at).toLocaleTimeString();
    const text = document.createElement("span");
    text.textContent = describeEvent(event, job);
    if (event.type === "error") text.className = "error";
    item.append(time, text);
    list.append(item);
  }
  $("events-empty").hidden = list.children.length > 0;
}

// ---- the adapter and checkpoints ------------------------------------------------------------------

async function followFiles(shown) {
  const reached = `${shown.status}:${checkpointEvents}`;
  if (reached === filesAt) return; // no new checkpoint and no new status since the last read
  const checkpoints = [];
  let available = false;
  let cursor = null;
  do {
    // Every page, by cursor (a job keeps at most 1,000 checkpoints: five pages of 200).
    const query = cursor === null ? "?limit=200" : `?limit=200&cursor=${encodeURIComponent(cursor)}`;
    let result;
    try {
      result = await callApi(`${path}/checkpoints${query}`);
    } catch {
      return;
    }
    if (!result.ok) return;
    checkpoints.push(...result.body.data.checkpoints);
    available = result.body.data.adapter_available;
    cursor = result.body.data.next_cursor;
  } while (cursor !== null);
  filesAt = reached;
  $("adapter-note").textContent = adapterText(shown.status, available);
  $("download-adapter").hidden = !available;
  $("checkpoints").replaceChildren(
    ...checkpoints.map((checkpoint) => {
      const item = document.createElement("li");
      const text = document.createElement("span");
      text.textContent = checkpointText(checkpoint);
      const button = document.createElement("button");
      button.type = "button";
      button.className = "button";
      button.textContent = "Download";
      button.setAttribute("aria-label", `Download the checkpoint at step ${checkpoint.step}`);
      button.addEventListener("click", () => download(`artifact=checkpoint&step=${checkpoint.step}`, button));
      item.append(text, button);
      return item;
    }),
  );
  $("checkpoints-empty").hidden = checkpoints.length > 0;
}

/** A fresh presigned URL at each click (they last minutes), then the browser downloads it. */
async function download(query, button) {
  button.disabled = true;
  $("files-error").textContent = "";
  try {
    const result = await callApi(`${path}/download?${query}`);
    if (result.ok) {
      location.assign(result.body.data.url); // Content-Disposition: attachment, so the page stays
    } else {
      $("files-error").textContent = describeFailure(result);
    }
  } catch (error) {
    $("files-error").textContent = describeFailure(error);
  } finally {
    button.disabled = false;
  }
}

// ---- the loss chart -------------------------------------------------------------------------------

async function followChart(shown) {
  const reached = `${shown.status}:${shown.current_step}`;
  if (reached === chartedAt) return; // nothing new since the last read
  let result;
  try {
    result = await callApi(`${path}/metrics?max_points=200`);
  } catch {
    return;
  }
  if (!result.ok) return;
  chartedAt = reached;
  drawChart(result.body.data.points, shown.total_steps);
}

/**
 * @param {string} name
 * @param {Record<string, string | number>} attributes
 * @param {string} [text]
 */
function svg(name, attributes, text) {
  const element = document.createElementNS(SVG_NS, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  if (text !== undefined) element.textContent = text;
  return element;
}

function drawChart(points, totalSteps) {
  const chart = $("loss-chart");
  const geometry = chartGeometry(points, totalSteps, CHART);
  $("loss-summary").textContent = chartSummary(points);
  const { width, height, pad } = CHART;
  const bottom = height - pad.bottom;
  const parts = [
    svg("line", { class: "axis", x1: pad.left, y1: bottom, x2: width - pad.right, y2: bottom }),
    svg("line", { class: "axis", x1: pad.left, y1: pad.top, x2: pad.left, y2: bottom }),
  ];
  if (geometry === null) {
    parts.push(
      svg(
        "text",
        { class: "empty", x: width / 2, y: height / 2, "text-anchor": "middle" },
        "No losses reported yet",
      ),
    );
    chart.replaceChildren(...parts);
    return;
  }
  for (const tick of geometry.ticks) {
    parts.push(
      svg(
        "text",
        { class: "tick", x: pad.left - 6, y: tick.y + 4, "text-anchor": "end" },
        tick.value.toFixed(2),
      ),
    );
  }
  parts.push(
    svg("text", { class: "tick", x: pad.left, y: height - 12, "text-anchor": "start" }, "step 0"),
    svg(
      "text",
      { class: "tick", x: width - pad.right, y: height - 12, "text-anchor": "end" },
      `step ${count(geometry.steps)}`,
    ),
  );
  if (geometry.train) parts.push(svg("path", { class: "train", d: geometry.train, "data-series": "train" }));
  if (geometry.validation) {
    parts.push(svg("path", { class: "validation", d: geometry.validation, "data-series": "validation" }));
  }
  for (const point of geometry.validationPoints) {
    const dot = svg("circle", {
      class: "validation-point",
      cx: point.x.toFixed(1),
      cy: point.y.toFixed(1),
      r: 4,
    });
    dot.append(svg("title", {}, `Validation loss ${point.loss.toFixed(3)} at step ${count(point.step)}`));
    parts.push(dot);
  }
  chart.replaceChildren(...parts);
}

// ---- cancel ---------------------------------------------------------------------------------------

function openCancelDialog() {
  if (!job) return;
  $("cancel-charge").textContent = cancelChargeText(job);
  $("cancel-dialog-error").textContent = "";
  $("cancel-confirm").disabled = false;
  $("cancel-dialog").showModal();
}

async function confirmCancel() {
  const confirm = $("cancel-confirm");
  confirm.disabled = true;
  let result;
  try {
    result = await callApi(`${path}/cancel`, { method: "POST" });
  } catch (error) {
    $("cancel-dialog-error").textContent = describeFailure(error);
    confirm.disabled = false;
    return;
  }
  if (result.ok) {
    $("cancel-dialog").close();
    const answer = result.body.data;
    job = { ...job, ...answer.job };
    render(job);
    const note = $("cancel-note");
    note.hidden = false;
    note.textContent = cancelOutcomeText(answer);
  } else if (result.status === 409) {
    $("cancel-dialog").close();
    showError($("page-error"), "This job already finished: there is nothing to cancel.");
  } else {
    $("cancel-dialog-error").textContent = describeFailure(result);
    confirm.disabled = false;
    return;
  }
  if (stopped) return;
  clearTimeout(timer);
  await refresh();
}

main().catch((error) => showError($("page-error"), `Something went wrong on this page: ${error.message}`));
