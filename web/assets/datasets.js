// @ts-check
// /training/datasets?datasetId=<uuid>: the user's datasets, newest first, a page at a time; upload one
// (pick or drop a JSONL file, name it, watch it go up to storage and be validated); one dataset's
// statistics or its problems by line; Configure training on a ready one; delete one.
//
// The upload: POST /datasets makes the dataset and a presigned S3 form; the file goes straight to S3
// as that form (XMLHttpRequest, for its progress events); S3's notification starts validation, which
// the page follows with GET /datasets/{id} until the dataset is ready or failed.
import { callApi, describeFailure } from "./api_client.js";
import {
  MAX_UPLOAD_BYTES,
  contextText,
  defaultName,
  deleteRefusalSentence,
  fileSize,
  overContextSentence,
  problemLine,
  problemsSummary,
  sizeProblem,
  statusSentence,
  statusWords,
  stillValidating,
  tokenRows,
  uploadProgress,
  uploadRefusalSentence,
} from "./dataset_view.js";
import { count, when } from "./format.js";
import { clearError, showError, startSignedInPage } from "./page_shell.js";
import { $ } from "./dom.js";

const PAGE_SIZE = 20;
const POLL_MS = 1500;

/**
 * @typedef {{id: string, name: string, status: string} & Record<string, any>} Dataset a dataset as the API answers it
 * @typedef {{xhr: XMLHttpRequest, datasetId: string, file: File}} Upload
 */

const state = {
  /** @type {import("./dataset_view.js").BaseModel[]} */
  models: [],
  /** @type {Dataset[]} newest first, as listed (and uploaded here) */
  datasets: [],
  /** @type {string | null} */
  nextCursor: null,
  /** @type {File | null} the file picked, not yet uploaded */
  file: null,
  maxBytes: MAX_UPLOAD_BYTES, // until POST /datasets says otherwise
  /** @type {Upload | null} the upload under way */
  upload: null,
  /** @type {string | null} the dataset in the detail card */
  shownId: null,
  /** @type {Dataset | null} */
  shown: null,
};
/** @type {ReturnType<typeof setTimeout> | undefined} */
let pollTimer;
let detailSequence = 0;

async function main() {
  if (!(await startSignedInPage())) return;
  wireUpload();
  wireDetail();
  $("load-more").addEventListener("click", loadMore);
  addEventListener("popstate", showFromAddress);
  addEventListener("beforeunload", (event) => {
    if (state.upload) event.preventDefault(); // leaving would stop the upload halfway
  });

  const [catalog] = await Promise.all([callApi("/catalog").catch((error) => error), loadFirstPage()]);
  if (!(catalog instanceof Error) && catalog.ok) state.models = catalog.body.data.base_models;
  // Without the catalog the statistics name the models by their ids: nothing else needs it.
  await showFromAddress();
}

// ---- the list -------------------------------------------------------------------------------------

async function loadFirstPage() {
  const page = await fetchPage(null);
  $("list-loading").hidden = true;
  if (!page) return;
  // An upload started before the list arrived stays on top.
  const listed = new Set(page.datasets.map((dataset) => dataset.id));
  state.datasets = [...state.datasets.filter((dataset) => !listed.has(dataset.id)), ...page.datasets];
  state.nextCursor = page.next_cursor;
  renderList();
}

async function loadMore() {
  const button = $("load-more");
  button.disabled = true;
  button.textContent = "Loading...";
  const before = state.datasets.length;
  const page = await fetchPage(state.nextCursor);
  button.disabled = false;
  button.textContent = "Load more";
  if (!page) return;
  const known = new Set(state.datasets.map((dataset) => dataset.id));
  state.datasets.push(...page.datasets.filter((dataset) => !known.has(dataset.id)));
  state.nextCursor = page.next_cursor;
  renderList();
  if (!state.nextCursor) {
    // The button is gone: the focus goes to the first dataset just shown.
    const first = $("list-rows").children[before]?.querySelector("a");
    first?.focus();
  }
}

/** @param {string | null} cursor @returns {Promise<{datasets: Dataset[], next_cursor: string | null} | null>} */
async function fetchPage(cursor) {
  const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (cursor) params.set("cursor", cursor);
  let result;
  try {
    result = await callApi(`/datasets?${params}`);
  } catch (error) {
    result = error;
  }
  if (result instanceof Error || !result.ok) {
    showError($("list-error"), `Could not load your datasets. ${describeFailure(result)}`);
    return null;
  }
  clearError($("list-error"));
  return result.body.data;
}

function renderList() {
  const rows = $("list-rows");
  rows.replaceChildren(...state.datasets.map(listRow));
  const none = state.datasets.length === 0;
  $("list-table").hidden = none;
  $("list-empty").hidden = !none;
  $("list-pager").hidden = !state.nextCursor;
  const shown = state.datasets.length;
  $("list-summary").textContent = none
    ? ""
    : `${count(shown)} ${shown === 1 ? "dataset" : "datasets"}${state.nextCursor ? " shown; older ones below" : ""}`;
}

/** @param {Dataset} dataset */
function listRow(dataset) {
  const tr = document.createElement("tr");
  tr.dataset.id = dataset.id;
  const name = document.createElement("a");
  name.href = detailUrl(dataset.id);
  name.addEventListener("click", (event) => {
    event.preventDefault();
    openDetail(dataset.id, { push: true, focus: true });
  });
  const labels = ["Name", "Status", "Examples", "Size", "Created", "Actions"];
  for (const label of labels) {
    const td = document.createElement("td");
    td.dataset.label = label;
    td.classList.toggle("number", label === "Examples" || label === "Size");
    td.classList.toggle("nowrap", label === "Created" || label === "Size");
    if (label === "Actions") td.classList.add("row-actions");
    tr.append(td);
  }
  tr.children[0].append(name);
  fillRow(tr, dataset);
  return tr;
}

/**
 * The row's figures, in place (the name's link stays the same element: a focus on it is kept).
 * @param {HTMLTableRowElement} tr
 * @param {Dataset} dataset
 */
function fillRow(tr, dataset) {
  const [nameCell, statusCell, examplesCell, sizeCell, createdCell, actionsCell] = tr.children;
  nameCell.querySelector("a").textContent = dataset.name;
  const words = statusWords(dataset, Date.now());
  const badge = document.createElement("span");
  badge.className = `badge ${words.badge}`;
  badge.textContent = words.label;
  statusCell.replaceChildren(badge);
  // Examples are counted once a file passed validation (a failed one's count of valid lines would mislead).
  examplesCell.textContent =
    dataset.status === "ready" && dataset.examples != null ? count(dataset.examples) : "—";
  sizeCell.textContent = fileSize(dataset.size_bytes);
  createdCell.textContent = when(dataset.created_at);
  actionsCell.replaceChildren();
  if (dataset.ready_for_training) actionsCell.append(configureLink(dataset));
  actionsCell.classList.toggle("empty", !dataset.ready_for_training);
}

/** @param {Dataset} dataset */
function configureLink(dataset) {
  const link = document.createElement("a");
  link.href = configureUrl(dataset.id);
  link.textContent = "Configure training";
  link.setAttribute("aria-label", `Configure training on ${dataset.name}`);
  return link;
}

/** A dataset's new answer: in the list (its row), and in the detail when shown there. @param {Dataset} dataset */
function datasetChanged(dataset) {
  const index = state.datasets.findIndex((listed) => listed.id === dataset.id);
  if (index >= 0) {
    state.datasets[index] = dataset;
    const tr = $("list-rows").querySelector(`tr[data-id="${CSS.escape(dataset.id)}"]`);
    if (tr) fillRow(tr, dataset);
  }
  if (state.shownId === dataset.id) {
    state.shown = dataset;
    renderDetail();
  }
}

/** @param {string} id */
function forgetDataset(id) {
  state.datasets = state.datasets.filter((dataset) => dataset.id !== id);
  renderList();
}

// ---- the addresses --------------------------------------------------------------------------------

/** @param {string} id */
function detailUrl(id) {
  return `${location.pathname}?datasetId=${encodeURIComponent(id)}`;
}

/** @param {string} id */
function configureUrl(id) {
  return `/training/configure?datasetId=${encodeURIComponent(id)}`;
}

async function showFromAddress() {
  const id = new URLSearchParams(location.search).get("datasetId");
  if (id) await openDetail(id, { push: false, focus: false });
  else hideDetail();
}

// ---- one dataset ----------------------------------------------------------------------------------

function wireDetail() {
  $("detail-close").addEventListener("click", () => {
    const id = state.shownId;
    history.pushState(null, "", location.pathname);
    hideDetail();
    const row = id ? $("list-rows").querySelector(`tr[data-id="${CSS.escape(id)}"] a`) : null;
    (row ?? $("list-title")).focus();
  });
  $("detail-delete").addEventListener("click", openDeleteDialog);
  $("delete-keep").addEventListener("click", () => $("delete-dialog").close());
  $("delete-confirm").addEventListener("click", confirmDelete);
}

/**
 * Show one dataset (GET /datasets/{id}) and follow it while it is being validated.
 * @param {string} id
 * @param {{push: boolean, focus: boolean, known?: Dataset}} options
 */
async function openDetail(id, { push, focus, known }) {
  if (push) history.pushState(null, "", detailUrl(id));
  clearTimeout(pollTimer);
  const sequence = ++detailSequence;
  state.shownId = id;
  clearError($("detail-error"));
  if (known) {
    state.shown = known;
    renderDetail();
  } else {
    state.shown = state.datasets.find((dataset) => dataset.id === id) ?? null;
    if (state.shown) renderDetail();
  }
  if (focus) $("detail").focus();
  const answer = await fetchDataset(id);
  if (sequence !== detailSequence) return; // another dataset was opened meanwhile
  if (answer === "missing") {
    showMissing();
    return;
  }
  if (answer) datasetChanged(answer);
  if (focus && !$("detail").contains(document.activeElement)) $("detail").focus(); // shown only now
  follow(sequence);
}

/** @param {string} id @returns {Promise<Dataset | "missing" | null>} null: not reachable now */
async function fetchDataset(id) {
  let result;
  try {
    result = await callApi(`/datasets/${encodeURIComponent(id)}`);
  } catch (error) {
    result = error;
  }
  if (!(result instanceof Error) && result.status === 404) return "missing";
  if (result instanceof Error || !result.ok) {
    // Beside the dataset when it is on screen; else (opened from the address) at the top of the page.
    const where = $("detail").hidden ? $("page-error") : $("detail-error");
    showError(where, `Could not read this dataset just now. ${describeFailure(result)}`);
    return null;
  }
  clearError($("detail-error"));
  return result.body.data;
}

/** Ask again every POLL_MS while validation is not over (a hidden tab waits until it is shown). */
function follow(sequence) {
  clearTimeout(pollTimer);
  if (!state.shown || !stillValidating(state.shown, Date.now())) return;
  pollTimer = setTimeout(() => {
    if (document.hidden) document.addEventListener("visibilitychange", () => poll(sequence), { once: true });
    else poll(sequence);
  }, POLL_MS);
}

/** @param {number} sequence */
async function poll(sequence) {
  if (sequence !== detailSequence || !state.shownId) return;
  const answer = await fetchDataset(state.shownId);
  if (sequence !== detailSequence) return;
  if (answer === "missing") {
    showMissing();
    return;
  }
  if (answer) datasetChanged(answer);
  follow(sequence);
}

function hideDetail() {
  detailSequence += 1;
  clearTimeout(pollTimer);
  state.shownId = null;
  state.shown = null;
  $("detail").hidden = true;
}

function showMissing() {
  const id = state.shownId;
  hideDetail();
  if (id) forgetDataset(id);
  showError($("page-error"), "This dataset is not in your account: it may have been deleted.");
}

function renderDetail() {
  const dataset = state.shown;
  if (!dataset) return;
  const now = Date.now();
  const uploadingHere = state.upload?.datasetId === dataset.id;
  $("detail-name").textContent = dataset.name;
  const words = statusWords(dataset, now);
  $("detail-status").textContent = words.label;
  $("detail-status").className = `badge ${words.badge}`;
  $("detail-state").textContent = statusSentence(dataset, now, { uploadingHere });
  $("detail-spinner").hidden = !stillValidating(dataset, now);
  $("detail-size").textContent = uploadingHere
    ? fileSize(state.upload.file.size)
    : fileSize(dataset.size_bytes);
  $("detail-created").textContent = when(dataset.created_at);
  $("detail-validated").textContent = when(dataset.validated_at);
  $("detail-validated").hidden = $("detail-validated-term").hidden = !dataset.validated_at;
  renderStatistics(dataset);
  renderProblems(dataset);
  const configure = $("detail-configure");
  configure.hidden = !dataset.ready_for_training;
  configure.href = configureUrl(dataset.id);
  $("detail-delete").disabled = uploadingHere;
  document.title = `${dataset.name} · Datasets · PIPELINE`;
  $("detail").hidden = false;
}

/** @param {Dataset} dataset */
function renderStatistics(dataset) {
  const ready = dataset.status === "ready" && dataset.examples != null;
  $("detail-ready").hidden = !ready;
  if (!ready) return;
  $("stat-examples").textContent = count(dataset.examples);
  $("stat-held-out").textContent = count(dataset.held_out ?? 0);
  $("stat-trained-on").textContent = count(dataset.total_training_pairs ?? 0);
  const rows = tokenRows(dataset.token_counts, state.models);
  $("token-rows").replaceChildren(
    ...rows.map((row) => {
      const tr = document.createElement("tr");
      const cells = [
        ["Base model", row.name],
        ["Training tokens", count(row.total)],
        ["Median", count(row.median)],
        ["95th percentile", count(row.p95)],
        ["Longest", count(row.maximum)],
        ["Context", row.context_length ? contextText(row.context_length) : "—"],
      ];
      for (const [label, text] of cells) {
        const td = document.createElement(label === "Base model" ? "th" : "td");
        if (label === "Base model") td.setAttribute("scope", "row");
        td.dataset.label = label;
        td.classList.toggle("number", label !== "Base model");
        td.textContent = text;
        tr.append(td);
      }
      return tr;
    }),
  );
  const warnings = rows
    .filter((row) => row.over_context > 0 && row.context_length)
    .map((row) => {
      const item = document.createElement("li");
      item.textContent = overContextSentence(row.over_context, row);
      return item;
    });
  $("context-warning-list").replaceChildren(...warnings);
  $("context-warnings").hidden = warnings.length === 0;
}

/** @param {Dataset} dataset */
function renderProblems(dataset) {
  const failed = dataset.status === "failed";
  $("detail-failed").hidden = !failed;
  if (!failed) return;
  const problems = dataset.errors ?? [];
  $("problems-summary").textContent = problemsSummary(
    problems.length,
    dataset.error_count ?? problems.length,
  );
  $("problem-list").replaceChildren(
    ...problems.map((problem) => {
      const item = document.createElement("li");
      item.textContent = problemLine(problem);
      return item;
    }),
  );
}

// ---- delete ---------------------------------------------------------------------------------------

function openDeleteDialog() {
  const dataset = state.shown;
  if (!dataset) return;
  $("delete-dialog-text").textContent =
    `“${dataset.name}” and its file will be deleted. Jobs already trained on it keep their results, ` +
    "and still show its name.";
  $("delete-dialog-error").textContent = "";
  $("delete-confirm").disabled = false;
  $("delete-dialog").showModal();
}

async function confirmDelete() {
  const dataset = state.shown;
  if (!dataset) return;
  const confirm = $("delete-confirm");
  confirm.disabled = true;
  let result;
  try {
    result = await callApi(`/datasets/${encodeURIComponent(dataset.id)}`, { method: "DELETE" });
  } catch (error) {
    $("delete-dialog-error").textContent = describeFailure(error);
    confirm.disabled = false;
    return;
  }
  if (result.ok || result.status === 404) {
    $("delete-dialog").close();
    history.replaceState(null, "", location.pathname);
    hideDetail();
    forgetDataset(dataset.id);
    document.title = "Datasets · PIPELINE";
    const notice = $("page-notice");
    showError(notice, `Deleted “${dataset.name}”.`);
    notice.focus();
    return;
  }
  const refusal = deleteRefusalSentence(result);
  if (refusal) {
    $("delete-dialog").close();
    showInUse(refusal, result.body?.details?.job_ids ?? []);
    return;
  }
  $("delete-dialog-error").textContent = describeFailure(result);
  confirm.disabled = false;
}

/**
 * The 409's sentence, with a link to each job that uses the dataset.
 * @param {string} sentence
 * @param {string[]} jobIds
 */
function showInUse(sentence, jobIds) {
  const box = $("detail-error");
  const text = document.createElement("p");
  text.textContent = sentence;
  box.replaceChildren(text);
  if (jobIds.length) {
    const list = document.createElement("ul");
    jobIds.forEach((id, index) => {
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.href = `/training/jobs/${encodeURIComponent(id)}`;
      link.textContent = jobIds.length === 1 ? "The job using it" : `Job ${index + 1} using it`;
      item.append(link);
      list.append(item);
    });
    box.append(list);
  }
  box.hidden = false;
  box.scrollIntoView({ block: "center" });
  box.focus({ preventScroll: true });
}

// ---- upload ---------------------------------------------------------------------------------------

function wireUpload() {
  $("upload-limit").textContent = fileSize(state.maxBytes);
  const input = $("file-input");
  input.addEventListener("change", () => {
    if (input.files?.length) chooseFile(input.files[0]);
  });
  const zone = $("drop-zone");
  zone.addEventListener("dragenter", onDragOver);
  zone.addEventListener("dragover", onDragOver);
  zone.addEventListener("dragleave", (event) => {
    if (!zone.contains(/** @type {Node | null} */ (event.relatedTarget))) zone.classList.remove("dragging");
  });
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("dragging");
    const files = event.dataTransfer?.files;
    if (!files?.length || state.upload) return;
    chooseFile(files[0], files.length > 1 ? files.length : 1);
  });
  // A file dropped beside the zone must not replace the page (the browser would open it).
  for (const type of ["dragover", "drop"]) {
    addEventListener(type, (/** @type {DragEvent} */ event) => {
      if (zone.contains(/** @type {Node | null} */ (event.target))) return;
      event.preventDefault();
      if (event.dataTransfer) event.dataTransfer.dropEffect = "none";
    });
  }
  $("upload-form").addEventListener("submit", (event) => {
    event.preventDefault();
    startUpload();
  });
  $("upload-clear").addEventListener("click", () => {
    resetUploadForm();
    $("file-input").focus();
  });
  $("upload-cancel").addEventListener("click", () => state.upload?.xhr.abort());
}

/** @param {DragEvent} event */
function onDragOver(event) {
  event.preventDefault();
  if (event.dataTransfer) event.dataTransfer.dropEffect = state.upload ? "none" : "copy";
  if (!state.upload) $("drop-zone").classList.add("dragging");
}

/**
 * A file picked or dropped: its name and size, a name for the dataset, and whether it can go.
 * @param {File} file
 * @param {number} [dropped] how many files were dropped (only the first is used)
 */
function chooseFile(file, dropped = 1) {
  state.file = file;
  $("upload-form").hidden = false;
  $("upload-progress-block").hidden = true;
  $("upload-status").textContent = "";
  $("chosen-file-name").textContent = file.name;
  $("chosen-file-size").textContent = fileSize(file.size);
  const name = $("dataset-name-input");
  name.value = defaultName(file.name);
  $("dataset-name-error").textContent = "";
  const problem = sizeProblem(file.size, state.maxBytes);
  const note = dropped > 1 ? `${dropped} files were dropped: only ${file.name} is used. ` : "";
  if (problem) showError($("upload-error"), note + problem);
  else if (note) showError($("upload-error"), `${note}Drop the others one at a time.`);
  else clearError($("upload-error"));
  $("upload-start").disabled = problem !== null;
  name.focus();
  name.select();
}

function resetUploadForm() {
  state.file = null;
  $("file-input").value = "";
  $("upload-form").hidden = true;
  clearError($("upload-error"));
  $("dataset-name-error").textContent = "";
}

/** @param {boolean} busy */
function setUploading(busy) {
  for (const id of ["file-input", "dataset-name-input", "upload-start", "upload-clear"])
    $(id).disabled = busy;
  $("drop-zone").classList.toggle("disabled", busy);
  $("upload-cancel").disabled = !busy;
}

async function startUpload() {
  const file = state.file;
  if (!file || state.upload) return;
  const name = $("dataset-name-input").value.trim();
  if (!name) {
    $("dataset-name-error").textContent = "Give the dataset a name.";
    $("dataset-name-input").focus();
    return;
  }
  $("dataset-name-error").textContent = "";
  const tooBig = sizeProblem(file.size, state.maxBytes);
  if (tooBig) {
    showUploadError(tooBig);
    return;
  }
  clearError($("upload-error"));
  clearError($("page-notice"));
  setUploading(true);
  showProgress(file, 0);
  $("upload-status").textContent = `Creating the dataset “${name}”...`;

  let created;
  try {
    created = await callApi("/datasets", { method: "POST", body: { name } });
  } catch (error) {
    created = error;
  }
  if (created instanceof Error || created.status !== 201) {
    setUploading(false);
    $("upload-progress-block").hidden = true;
    $("upload-status").textContent = "";
    showUploadError(`The dataset was not created. ${describeFailure(created)}`);
    return;
  }
  const { dataset, upload } = created.body.data;
  state.maxBytes = upload.max_bytes;
  $("upload-limit").textContent = fileSize(state.maxBytes);
  const refused = sizeProblem(file.size, state.maxBytes);
  if (refused) {
    await discard(dataset.id);
    setUploading(false);
    $("upload-progress-block").hidden = true;
    $("upload-status").textContent = "";
    showUploadError(refused);
    return;
  }

  const xhr = new XMLHttpRequest();
  state.upload = { xhr, datasetId: dataset.id, file };
  state.datasets.unshift(dataset);
  renderList();
  openDetail(dataset.id, { push: true, focus: false, known: dataset });
  $("upload-status").textContent = `Uploading ${file.name}...`;

  const outcome = await send(xhr, upload, file);
  state.upload = null;
  setUploading(false);
  if (outcome.ok) {
    showProgress(file, file.size);
    $("upload-progress-label").textContent = `Uploaded ${file.name}`;
    $("upload-status").textContent =
      `${file.name} is uploaded. Validating it: the dataset below shows what it finds.`;
    resetUploadForm();
    $("upload-progress-block").hidden = false;
    $("upload-cancel").hidden = true;
    if (state.shownId === dataset.id) openDetail(dataset.id, { push: false, focus: false });
    return;
  }
  // Not uploaded: the dataset would wait for a file forever. Gone, and the same file can go again.
  await discard(dataset.id);
  if (state.shownId === dataset.id) {
    history.replaceState(null, "", location.pathname);
    hideDetail();
  }
  $("upload-progress-block").hidden = true;
  if (outcome.aborted) {
    $("upload-status").textContent = "Upload cancelled: nothing was kept.";
    $("upload-start").focus();
  } else {
    $("upload-status").textContent = "";
    showUploadError(outcome.message);
  }
}

/**
 * POST the file to S3 as the presigned form: every field first, the file last (S3 reads nothing after it).
 * @param {XMLHttpRequest} xhr
 * @param {{url: string, fields: Record<string, string>}} upload
 * @param {File} file
 * @returns {Promise<{ok: boolean, aborted?: boolean, message: string}>}
 */
function send(xhr, upload, file) {
  const form = new FormData();
  for (const [field, value] of Object.entries(upload.fields)) form.append(field, value);
  form.append("file", file, file.name);
  return new Promise((resolve) => {
    xhr.upload.addEventListener("progress", (event) => {
      // The body is the form: its fields and the file. The share sent, of the file's own size.
      if (event.lengthComputable && event.total > 0)
        showProgress(file, (event.loaded / event.total) * file.size);
    });
    xhr.addEventListener("load", () => {
      const ok = xhr.status >= 200 && xhr.status < 300;
      resolve({ ok, message: ok ? "" : uploadRefusalSentence(xhr.status, xhr.responseText) });
    });
    xhr.addEventListener("error", () =>
      resolve({
        ok: false,
        message: "The file could not be sent to storage. Check your connection and upload it again.",
      }),
    );
    xhr.addEventListener("abort", () => resolve({ ok: false, aborted: true, message: "" }));
    xhr.open("POST", upload.url);
    xhr.send(form);
  });
}

/**
 * @param {File} file
 * @param {number} sent bytes of the file
 */
function showProgress(file, sent) {
  const { percent, text } = uploadProgress(Math.round(sent), file.size);
  $("upload-progress-block").hidden = false;
  $("upload-cancel").hidden = false;
  $("upload-progress-label").textContent = `Uploading ${file.name}`;
  $("upload-progress").value = percent;
  $("upload-progress-text").textContent = text;
}

/** @param {string} message */
function showUploadError(message) {
  const box = $("upload-error");
  showError(box, message);
  box.scrollIntoView({ block: "center" });
  box.focus({ preventScroll: true });
}

/** A dataset made for an upload that did not happen: deleted (best effort) and out of the list. @param {string} id */
async function discard(id) {
  try {
    const result = await callApi(`/datasets/${encodeURIComponent(id)}`, { method: "DELETE" });
    if (result.ok || result.status === 404) forgetDataset(id);
  } catch {
    // Unreachable now: it stays in the list, its upload not finished, until the user deletes it.
  }
}

main().catch((error) => showError($("page-error"), `Something went wrong on this page: ${error.message}`));
