// @ts-check
// /training/configure?datasetId=<uuid>: pick a base model, a preset, a GPU and hyperparameters, watch
// the cost, start the job. Models, prices, presets and slider ranges all come from GET /catalog; which
// GPU setups hold the model is the catalog's memory rule, applied here (memory_fit.js) as the server does.
import { callApi, describeFailure, newIdempotencyKey } from "./api_client.js";
import { loadConfig } from "./config.js";
import { datasetPageUrl } from "./dataset_view.js";
import {
  fieldSentences,
  monthSentence,
  notFittingSentence,
  notReadyLinkText,
  notReadySentence,
  problemSentence,
} from "./error_wording.js";
import { count, fixed, hours, money } from "./format.js";
import { bytesPerGpu, fewestGpus, fits, smallestFittingSetup } from "./memory_fit.js";
import { clearError, showError, startSignedInPage } from "./page_shell.js";
import { $ } from "./dom.js";

// The spec's starting point; the catalog decides whether these exist (else its first entries).
const DEFAULT_PRESET = "balanced";
const DEFAULT_GPU_TYPE = "A100-80GB";
const DEFAULT_GPU_COUNT = 2;
const DEBOUNCE_MS = 500;
const MAX_IN_PROGRESS_RETRIES = 10;
const ESTIMATE_RETRY_S = 5;
const GIB = 2 ** 30;

const state = {
  datasetId: null,
  datasetsUrl: "/training/datasets", // the deployment's datasets page (config.json)
  dataset: null, // GET /datasets/{id}: name, size, readiness
  catalog: null,
  baseModel: null, // a base model's id: the catalog's default until one is picked
  presetId: DEFAULT_PRESET, // a preset's id, or "custom" once a slider moved
  basePreset: null, // the preset the custom settings started from
  gpuType: DEFAULT_GPU_TYPE,
  gpuCount: DEFAULT_GPU_COUNT,
  hyperparameters: {},
  estimate: null, // the server's estimate for exactly the configuration on screen, or null
  estimatePending: false,
  submitting: false,
  confirming: false, // the 409 dialog is open: only its own button may start the job
  idempotencyKey: null, // one per configuration: a double click or a retry sends the same key
  fitProblem: null, // why the chosen GPUs cannot hold the model (the memory rule), or null when they can
  gpuReasons: {}, // GPU type -> what it takes to hold the model ("needs ≥ 2 GPUs"), "" when one does
};
let estimateTimer = null;
let estimateSequence = 0;
let estimateInFlight = null;

async function main() {
  $("back").addEventListener("click", goBack);
  $("cancel").addEventListener("click", goBack);
  if (!(await startSignedInPage())) return;

  const config = await loadConfig();
  state.datasetsUrl = config.datasetsUrl;
  state.datasetId = new URLSearchParams(location.search).get("datasetId");
  if (!state.datasetId) {
    $("datasets-link").href = config.datasetsUrl;
    $("no-dataset").hidden = false;
    return;
  }

  $("dataset-missing-link").href = config.datasetsUrl;
  let catalog, dataset;
  try {
    [catalog, dataset] = await Promise.all([
      callApi("/catalog"),
      callApi(`/datasets/${encodeURIComponent(state.datasetId)}`),
    ]);
  } catch (error) {
    showError($("page-error"), describeFailure(error));
    return;
  }
  if (dataset.status === 404) {
    // Unknown, malformed or someone else's: nothing to configure, only the way to a dataset.
    $("dataset-missing").hidden = false;
    return;
  }
  for (const result of [dataset, catalog]) {
    if (!result.ok) {
      showError($("page-error"), problemSentence(result));
      return;
    }
  }
  state.dataset = dataset.body.data;
  state.catalog = catalog.body.data;
  renderDataset();
  renderForm();
  applyPreset(findPreset(DEFAULT_PRESET) ?? state.catalog.presets[0]);
  $("configure").hidden = false;
}

function goBack() {
  if (history.length > 1) history.back();
  else location.assign("/training/jobs");
}

// ---- the dataset ----------------------------------------------------------------------------------

function renderDataset() {
  const dataset = state.dataset;
  const orDash = (value) => (value === null || value === undefined ? "—" : count(value));
  document.title = `Configure Training Job: ${dataset.name} · PIPELINE`;
  $("dataset-name").textContent = dataset.name;
  $("dataset-pairs").textContent = orDash(dataset.total_training_pairs);
  $("dataset-tokens").textContent = orDash(dataset.total_tokens);
  $("dataset-format").textContent = dataset.format ?? "—";
  $("dataset-readiness").textContent = dataset.ready_for_training ? "Ready for training" : "Not ready yet";
  $("summary-dataset").textContent = dataset.name;
  // Not ready: why, and the way to the datasets page, which follows its validation or lists its problems.
  $("dataset-not-ready").hidden = dataset.ready_for_training;
  $("dataset-not-ready-text").textContent = dataset.ready_for_training ? "" : notReadySentence(dataset);
  const link = $("dataset-not-ready-link");
  link.textContent = notReadyLinkText(dataset);
  link.href = datasetPageUrl(state.datasetsUrl, dataset.id ?? state.datasetId, location.origin);
  $("dataset").hidden = false;
}

/** Create said the dataset is not ready (it was when the page opened): show it as it is now. */
async function refreshDataset() {
  try {
    const result = await callApi(`/datasets/${encodeURIComponent(state.datasetId)}`);
    if (result.ok) {
      state.dataset = result.body.data;
      renderDataset();
      return;
    }
  } catch {
    // Unreachable now: the refusal already says why, so assume what it said.
  }
  state.dataset = { ...state.dataset, ready_for_training: false };
}

/** Field path -> the label the page shows for it (for the errors' wording). */
function fieldLabels() {
  return Object.fromEntries([
    ["base_model", "Base Model"],
    ["gpu_config.type", "GPU Type"],
    ...state.catalog.controls.map((control) => [control.field, control.label]),
  ]);
}

// ---- the form -------------------------------------------------------------------------------------

function renderForm() {
  const { presets, gpu_types: gpuTypes, controls, base_models: models } = state.catalog;

  const defaultModel = models.find((model) => model.id === state.catalog.default_base_model) ?? models[0];
  state.baseModel = defaultModel.id;
  $("models").replaceChildren(...models.map(modelCard));
  $("presets").replaceChildren(...presets.map(presetCard));

  const select = $("gpu-type");
  select.replaceChildren(
    ...gpuTypes.map((gpu) => new Option(`${gpu.label} — ${money(gpu.price_per_gpu_hour)}/hr`, gpu.id)),
  );
  state.gpuType = gpuTypes.some((gpu) => gpu.id === DEFAULT_GPU_TYPE) ? DEFAULT_GPU_TYPE : gpuTypes[0].id;
  select.value = state.gpuType;
  describeGpu();
  select.addEventListener("change", () => {
    state.gpuType = select.value;
    describeGpu();
    configurationChanged();
  });

  for (const control of controls) {
    const [group] = control.field.split(".");
    const container = group === "gpu_config" ? $("gpu-controls") : $("hyperparameter-controls");
    container.append(slider(control));
  }
  const countControl = controls.find((c) => c.field === "gpu_config.count");
  state.gpuCount = clamp(DEFAULT_GPU_COUNT, countControl);
  setSlider("gpu_config.count", state.gpuCount);
  // The fit message sits under the count slider: both controls are described by it.
  for (const input of [select, $("control-gpu_config.count")]) {
    input.setAttribute("aria-describedby", `${input.getAttribute("aria-describedby")} error-gpu_config`);
  }
  $("gpu-fit-use").addEventListener("click", useSmallestSetup);

  $("configure").addEventListener("submit", (event) => {
    event.preventDefault();
    startTraining();
  });
  $("confirm-start").addEventListener("click", () => {
    closeConfirm();
    startTraining();
  });
  $("confirm-cancel").addEventListener("click", () => {
    closeConfirm();
    updateStartButton();
    $("start").focus();
  });
}

/** Parameters in billions, one decimal: "7.2 B parameters". */
function parametersText(parameters) {
  return `${(parameters / 1e9).toFixed(1)} B parameters`;
}

/** Context in thousands of tokens (of 1,024): "32K tokens", "128K tokens". */
function contextText(tokens) {
  return `${Math.round(tokens / 1024)}K tokens`;
}

function modelCard(model) {
  // A native radio: arrow keys move between models, its label is the model's name alone (what voice
  // control users say), the facts describe it; the label's hit area covers the card (CSS).
  const card = document.createElement("div");
  card.className = "model";
  card.dataset.model = model.id;
  const input = document.createElement("input");
  input.type = "radio";
  input.name = "base_model";
  input.value = model.id;
  input.id = `model-${model.id}`;
  input.checked = model.id === state.baseModel;
  const label = document.createElement("label");
  label.htmlFor = input.id;
  label.textContent = model.name;
  const facts = document.createElement("ul");
  facts.className = "model-facts";
  facts.id = `model-${model.id}-facts`;
  for (const [name, text] of [
    ["size", parametersText(model.parameters)],
    ["context", `${contextText(model.context_length)} context`],
    ["license", `Licence: ${model.license}`],
    ["setup", ""],
  ]) {
    const item = document.createElement("li");
    item.dataset.fact = name;
    item.textContent = text;
    facts.append(item);
  }
  input.setAttribute("aria-describedby", facts.id);
  const head = document.createElement("div");
  head.className = "model-head";
  head.append(input, label);
  card.append(head, facts);
  card.classList.toggle("selected", input.checked);
  input.addEventListener("change", () => {
    if (!input.checked) return;
    state.baseModel = model.id;
    for (const other of $("models").querySelectorAll(".model")) {
      other.classList.toggle("selected", other === card);
    }
    configurationChanged();
  });
  return card;
}

function currentModel() {
  return state.catalog.base_models.find((model) => model.id === state.baseModel);
}

function gpuTypeOf(id) {
  return state.catalog.gpu_types.find((gpu) => gpu.id === id);
}

function gpuSetupText(type, gpuCount) {
  return `${gpuCount} × ${gpuTypeOf(type)?.label ?? type}`;
}

function presetCard(preset) {
  // The button holds the preset's name only, so its accessible name is the text it shows ("Fast"),
  // as voice control expects; the whole card presses it (CSS stretches its hit area over the card).
  const card = document.createElement("div");
  card.className = "preset";
  card.dataset.preset = preset.id;
  const title = document.createElement("h3");
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = preset.name;
  button.setAttribute("aria-pressed", "false");
  title.append(button);
  const description = document.createElement("p");
  description.textContent = preset.description;
  description.id = `preset-${preset.id}-description`;
  button.setAttribute("aria-describedby", description.id);
  const facts = document.createElement("dl");
  for (const [label, value] of [
    ["Learning Rate", preset.learning_rate],
    ["Batch", preset.batch_size],
    ["Epochs", preset.epochs],
    ["LoRA Rank", preset.rank],
  ]) {
    const term = document.createElement("dt");
    term.textContent = label;
    const detail = document.createElement("dd");
    detail.textContent = String(value);
    facts.append(term, detail);
  }
  card.append(title, description, facts);
  button.addEventListener("click", () => applyPreset(preset));
  return card;
}

function slider(control) {
  const field = document.createElement("div");
  field.className = "field";
  const inputId = `control-${control.field}`;
  const head = document.createElement("div");
  head.className = "field-head";
  const label = document.createElement("label");
  label.htmlFor = inputId;
  label.textContent = control.label;
  const output = document.createElement("output");
  output.id = `value-${control.field}`;
  output.htmlFor = inputId;
  head.append(label, output);

  const input = document.createElement("input");
  input.type = "range";
  input.id = inputId;
  input.name = control.field;
  input.min = String(control.minimum);
  input.max = String(control.maximum);
  input.step = String(control.step);
  input.setAttribute("aria-describedby", `hint-${control.field} error-${control.field}`);
  input.addEventListener("input", () => sliderMoved(control, input.value));

  const hint = document.createElement("p");
  hint.className = "hint";
  hint.id = `hint-${control.field}`;
  hint.textContent = control.hint;
  hint.dataset.base = control.hint;
  const error = document.createElement("p");
  error.className = "field-error";
  error.id = `error-${control.field}`;
  field.append(head, input, hint, error);
  return field;
}

function controlFor(fieldPath) {
  return state.catalog.controls.find((c) => c.field === fieldPath);
}

function setSlider(fieldPath, value) {
  const control = controlFor(fieldPath);
  if (!control) return;
  const input = $(`control-${fieldPath}`);
  const shown = fixed(value, control.decimals).toFixed(control.decimals);
  input.value = String(value);
  input.setAttribute("aria-valuetext", shown);
  $(`value-${fieldPath}`).textContent = shown;
  if (fieldPath === "gpu_config.count") {
    const hint = $(`hint-${fieldPath}`);
    hint.textContent =
      value > 1
        ? `${hint.dataset.base} Training will be ${value}x faster (approximately).`
        : hint.dataset.base;
  }
}

function sliderMoved(control, rawValue) {
  const value = fixed(rawValue, control.decimals);
  const [group, name] = control.field.split(".");
  if (group === "gpu_config") {
    state.gpuCount = value;
  } else {
    state.hyperparameters = { ...state.hyperparameters, [name]: value };
    state.presetId = "custom";
    showPresetSelection();
  }
  setSlider(control.field, value);
  configurationChanged();
}

function applyPreset(preset) {
  state.presetId = preset.id;
  state.basePreset = preset;
  const { learning_rate, batch_size, epochs, rank, alpha, dropout } = preset;
  state.hyperparameters = { learning_rate, batch_size, epochs, rank, alpha, dropout };
  for (const name of ["learning_rate", "batch_size", "epochs", "rank"]) {
    setSlider(`hyperparameters.${name}`, state.hyperparameters[name]);
  }
  showPresetSelection();
  configurationChanged();
}

function showPresetSelection() {
  for (const card of $("presets").querySelectorAll(".preset")) {
    const selected = card instanceof HTMLElement && card.dataset.preset === state.presetId;
    card.classList.toggle("selected", selected);
    card.querySelector("button").setAttribute("aria-pressed", String(selected));
  }
  $("hyperparameters-description").textContent =
    state.presetId === "custom"
      ? `Custom settings (started from the ${state.basePreset.name} preset)`
      : `Fine-tune training parameters (based on ${state.basePreset.name} preset)`;
}

function describeGpu() {
  const gpu = state.catalog.gpu_types.find((g) => g.id === state.gpuType);
  const memory = `${Math.round(gpu.memory_bytes / GIB)} GiB each`;
  const reason = state.gpuReasons[gpu.id] ? ` · ${state.gpuReasons[gpu.id]}` : "";
  $("gpu-type-description").textContent =
    `${money(gpu.price_per_gpu_hour)}/hr per GPU · ${memory} · ${gpu.description}${reason}`;
}

function findPreset(id) {
  return state.catalog.presets.find((p) => p.id === id);
}

function clamp(value, control) {
  return Math.min(control.maximum, Math.max(control.minimum, value));
}

function requestBody() {
  return {
    dataset_id: state.datasetId,
    base_model: state.baseModel,
    gpu_config: { type: state.gpuType, count: state.gpuCount },
    hyperparameters: state.hyperparameters,
  };
}

// ---- which GPU setups hold the model --------------------------------------------------------------

/** The memory rule over what is on screen: the GPU options, each model's smallest setup, the problem. */
function checkFit() {
  const { memory_rule: rule, gpu_types: gpuTypes, base_models: models } = state.catalog;
  const maxCount = controlFor("gpu_config.count").maximum;
  const batchSize = state.hyperparameters.batch_size;
  const rank = state.hyperparameters.rank;
  const overhead = rule.overhead_bytes;
  const model = currentModel();
  const search = { maxCount, batchSize, rank };

  // Each type: disabled when no count the slider offers holds the model, the fewest GPUs otherwise.
  // The chosen type stays chosen even when disabled: the page never swaps the user's GPU by itself.
  for (const option of $("gpu-type").options) {
    const gpu = gpuTypeOf(option.value);
    const fewest = fewestGpus(model.memory, overhead, gpu.memory_bytes, search);
    let reason = "";
    if (fewest === null) reason = `too small for ${model.name} at batch ${batchSize}, rank ${rank}`;
    else if (fewest > 1) reason = `needs ≥ ${fewest} GPUs`;
    state.gpuReasons[gpu.id] = reason;
    option.textContent = `${gpu.label} — ${money(gpu.price_per_gpu_hour)}/hr${reason ? ` — ${reason}` : ""}`;
    option.disabled = fewest === null;
  }
  describeGpu(); // the chosen type's reason also beside the select, where a narrow screen cuts the option
  for (const card of $("models").querySelectorAll(".model")) {
    const candidate = models.find((m) => m.id === card.dataset.model);
    const smallest = smallestFittingSetup(candidate.memory, overhead, gpuTypes, search);
    card.querySelector("[data-fact=setup]").textContent = smallest
      ? `Smallest GPU setup: ${gpuSetupText(smallest.type, smallest.count)}`
      : `No GPU setup at batch ${batchSize}, rank ${rank}`;
  }

  const gpu = gpuTypeOf(state.gpuType);
  const setting = { gpuCount: state.gpuCount, batchSize, rank };
  if (fits(model.memory, overhead, gpu.memory_bytes, setting)) {
    state.fitProblem = null;
    showGpuFit("", null);
    return;
  }
  const sameType = fewestGpus(model.memory, overhead, gpu.memory_bytes, search);
  const smallest = smallestFittingSetup(model.memory, overhead, gpuTypes, search);
  const moreOfThese =
    sameType !== null && smallest?.type !== gpu.id
      ? `${sameType} or more of these GPUs hold it.`
      : sameType === null
        ? `No number of these GPUs up to ${maxCount} holds it.`
        : null;
  state.fitProblem = { model, smallest };
  showGpuFit(
    notFittingSentence({
      model: model.name,
      setup: gpuSetupText(gpu.id, state.gpuCount),
      neededGib: (bytesPerGpu(model.memory, overhead, setting) / GIB).toFixed(1),
      memoryGib: String(Math.round(gpu.memory_bytes / GIB)),
      batchSize,
      rank,
      sameType: moreOfThese,
      smallest: smallest ? gpuSetupText(smallest.type, smallest.count) : null,
    }),
    smallest,
  );
}

/** The sentence under the GPU controls (the page's or the server's), with a way to the setup that fits. */
function showGpuFit(sentence, smallest) {
  $("error-gpu_config").textContent = sentence;
  $("gpu-fit").hidden = sentence === "";
  const use = $("gpu-fit-use");
  use.hidden = !smallest;
  if (smallest) use.textContent = `Use ${gpuSetupText(smallest.type, smallest.count)}`;
}

/** The one way the page changes the GPUs for the user: when asked to, with this button. */
function useSmallestSetup() {
  const smallest = state.fitProblem?.smallest;
  if (!smallest) return;
  state.gpuType = smallest.type;
  $("gpu-type").value = smallest.type;
  describeGpu();
  state.gpuCount = smallest.count;
  setSlider("gpu_config.count", smallest.count);
  configurationChanged();
  $("gpu-type").focus(); // the button is gone: focus where the change is
}

// ---- the live estimate ----------------------------------------------------------------------------

/** Every change: the old estimate no longer applies; ask again once the user pauses for 500 ms. */
function configurationChanged() {
  state.estimate = null;
  state.idempotencyKey = null; // a different configuration is a different job
  closeConfirm();
  clearError($("submit-error"));
  showEstimateLoading();
  clearTimeout(estimateTimer);
  checkFit();
  if (state.fitProblem) {
    // The server would refuse these GPUs: no request, no price, and the reason beside the GPUs.
    estimateSequence += 1; // an answer still on its way no longer applies
    estimateInFlight?.abort();
    state.estimatePending = false;
    finishEstimate();
    clearFigures();
    showError(
      $("estimate-error"),
      `No price: ${state.fitProblem.model.name} does not fit on these GPUs (see GPU Configuration).`,
    );
  } else {
    state.estimatePending = true;
    estimateTimer = setTimeout(requestEstimate, DEBOUNCE_MS);
  }
  updateStartButton();
}

async function requestEstimate() {
  const sequence = ++estimateSequence;
  estimateInFlight?.abort(); // an older answer is of no use any more
  const controller = new AbortController();
  estimateInFlight = controller;
  let result;
  try {
    result = await callApi("/jobs/estimate", {
      method: "POST",
      body: requestBody(),
      signal: controller.signal,
    });
  } catch (error) {
    if (sequence !== estimateSequence) return;
    finishEstimate();
    retryEstimateLater(describeFailure(error), null);
    return;
  }
  // Only the newest request may change the screen: an older one that arrives late is dropped.
  if (sequence !== estimateSequence) return;
  finishEstimate();
  if (result.ok) {
    state.estimate = result.body.data;
    renderEstimate();
  } else if (result.status >= 500) {
    retryEstimateLater(problemSentence(result, fieldLabels()), result.headers.get("Retry-After"));
  } else {
    clearFigures(); // no price applies to what is on screen
    showFieldErrors(result.body?.details);
    showError($("estimate-error"), problemSentence(result, fieldLabels()));
  }
  updateStartButton();
}

/** A failure that is not the request's fault (network, 5xx): say so, and ask again by itself. */
function retryEstimateLater(message, retryAfter) {
  const seconds = Math.min(Math.max(Number(retryAfter) || ESTIMATE_RETRY_S, 1), 60);
  showError($("estimate-error"), `${message} Trying again in ${seconds} s.`);
  clearTimeout(estimateTimer); // a change made meanwhile restarts the debounce instead
  estimateTimer = setTimeout(() => {
    state.estimatePending = true;
    showEstimateLoading();
    updateStartButton();
    requestEstimate();
  }, seconds * 1000);
}

function finishEstimate() {
  state.estimatePending = false;
  estimateInFlight = null;
  $("estimate-loading").classList.add("idle");
  $("estimate").setAttribute("aria-busy", "false");
}

/** The figures on screen stay, dimmed, until the next estimate replaces them: nothing moves. */
function showEstimateLoading() {
  clearFieldErrors();
  clearError($("estimate-error"));
  $("estimate-figures").classList.add("stale");
  $("summary-figures").classList.add("stale");
  $("estimate-loading").classList.remove("idle");
  $("estimate").setAttribute("aria-busy", "true");
}

const FIGURES = [
  "figure-compute",
  "figure-storage",
  "figure-total",
  "figure-duration",
  "figure-hourly-rate",
  "figure-total-steps",
  "figure-throughput",
  "summary-total",
];

function clearFigures() {
  for (const id of FIGURES) $(id).textContent = "—";
  $("summary-duration").textContent = "";
}

function renderEstimate() {
  const estimate = state.estimate;
  $("figure-compute").textContent = money(estimate.cost_breakdown.compute);
  $("figure-storage").textContent = money(estimate.cost_breakdown.storage);
  $("figure-total").textContent = money(estimate.estimated_cost);
  $("figure-duration").textContent = hours(estimate.estimated_duration_hours);
  $("figure-hourly-rate").textContent = `${money(estimate.hourly_rate)}/hr`;
  $("figure-total-steps").textContent = count(estimate.training_details.total_steps);
  $("figure-throughput").textContent =
    `${count(estimate.training_details.estimated_throughput_tokens_per_sec)} tok/s`;
  $("summary-total").textContent = money(estimate.estimated_cost);
  $("summary-duration").textContent = `about ${hours(estimate.estimated_duration_hours)}`;
  const month = monthSentence(estimate.monthly_spend);
  $("summary-month").textContent = month;
  $("summary-month").hidden = month === "";
  $("summary-month").classList.toggle("over", estimate.within_limit === false);
  $("estimate-figures").classList.remove("stale");
  $("summary-figures").classList.remove("stale");
}

/** A 400's details are keyed by dotted field path: each goes next to its field, in words. */
function showFieldErrors(details) {
  for (const [field, sentence] of Object.entries(fieldSentences(details, fieldLabels()))) {
    if (field === "gpu_config") {
      showGpuFit(sentence, null); // the server's own "does not fit": under the GPU controls too
      continue;
    }
    const slot = document.getElementById(`error-${field}`);
    if (slot) slot.textContent = sentence;
  }
}

function clearFieldErrors() {
  for (const slot of document.querySelectorAll(".field-error")) slot.textContent = "";
  showGpuFit("", null);
}

// ---- starting the job -----------------------------------------------------------------------------

/** Start Training is enabled only beside the server's price for exactly what is on screen. */
function updateStartButton() {
  const priced = state.estimate !== null && !state.estimatePending;
  const fits = state.estimate?.within_limit !== false; // refused before anything is sent
  const ready = priced && fits && state.dataset.ready_for_training && !state.submitting && !state.confirming;
  $("start").disabled = !ready;
  $("cancel").disabled = state.submitting;
  $("start-spinner").hidden = !state.submitting;
  $("start-label").textContent = state.submitting ? "Creating Job..." : "Start Training";
  $("summary-state").textContent = summaryState(priced);
}

function summaryState(priced) {
  if (state.submitting) return "Creating the job...";
  if (state.confirming) return "The price changed: confirm the new price above.";
  if (state.fitProblem) {
    return `${state.fitProblem.model.name} does not fit on these GPUs: see GPU Configuration.`;
  }
  if (state.estimatePending) return "Updating the price...";
  if (!priced) return "No price for these settings: see the message above.";
  if (!state.dataset.ready_for_training) return "This dataset is not ready for training yet.";
  if (state.estimate?.within_limit === false) return "This job does not fit your monthly spending limit.";
  return "Estimated total for these settings";
}

/** Scrolled to the middle of the screen (clear of the sticky summary), then focused. */
function bringIntoView(element) {
  element.scrollIntoView({ block: "center" });
  element.focus({ preventScroll: true });
}

function showStartError(message) {
  showError($("submit-error"), message);
  bringIntoView($("submit-error"));
}

function closeConfirm() {
  state.confirming = false;
  $("confirm").hidden = true;
}

async function startTraining() {
  if (state.submitting || state.estimate === null || state.estimatePending || state.fitProblem) return;
  if (!state.dataset.ready_for_training || state.confirming) return;
  state.submitting = true; // before any await: a second click finds the button already disabled
  updateStartButton();
  clearError($("submit-error"));
  state.idempotencyKey ??= newIdempotencyKey();
  const body = {
    ...requestBody(),
    preset_id: state.presetId,
    estimated_cost: state.estimate.estimated_cost,
  };
  try {
    for (let attempt = 0; ; attempt += 1) {
      const result = await callApi("/jobs", {
        method: "POST",
        body,
        headers: { "Idempotency-Key": state.idempotencyKey },
      });
      if (result.status === 201) {
        location.assign(`/training/jobs/${encodeURIComponent(result.body.data.id)}`);
        return; // stay disabled while the job page loads
      }
      if (result.status === 409 && result.body?.data) {
        offerNewEstimate(result.body);
        break;
      }
      if (result.body?.error === "Request in progress" && attempt < MAX_IN_PROGRESS_RETRIES) {
        // The same key is still being processed (an earlier click, another tab): wait as told, ask again.
        await sleep(Number(result.headers.get("Retry-After") || 1) * 1000);
        continue;
      }
      if (result.body?.error === "Dataset not ready for training") await refreshDataset();
      showFieldErrors(result.body?.details);
      showStartError(problemSentence(result, fieldLabels()));
      break;
    }
  } catch (error) {
    // The job may or may not exist: a retry sends the same Idempotency-Key, so it is never made twice.
    showStartError(problemSentence(error));
  }
  state.submitting = false;
  updateStartButton();
}

/** 409 Estimate out of date: show the server's new figure and let the user decide. */
function offerNewEstimate(body) {
  const previous = state.estimate.estimated_cost;
  state.estimate = body.data;
  renderEstimate();
  const now = money(body.data.estimated_cost);
  $("confirm-text").textContent =
    `The cost of this configuration changed since it was estimated: it was ${money(previous)}, ` +
    `it is now ${now}. Start training at the new cost?`;
  $("confirm-start").textContent = `Start Training at ${now}`;
  state.confirming = true;
  $("confirm").hidden = false;
  bringIntoView($("confirm-start"));
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

main().catch((error) => showError($("page-error"), `Something went wrong on this page: ${error.message}`));
