// @ts-check
// What the datasets page says about a dataset and its upload, as pure functions of the API's answers
// (no DOM, no fetch): sizes, the upload's progress, statuses, validation's findings in words.
// datasets.js puts them on the page.
import { count } from "./format.js";

/** The API's largest file (POST /datasets answers it as upload.max_bytes, which has the last word). */
export const MAX_UPLOAD_BYTES = 1024 ** 3;
/** The longest name POST /datasets takes. */
export const MAX_NAME_LENGTH = 200;

/**
 * @typedef {{line: number, code: string, message: string}} DatasetProblem
 * @typedef {{total: number, minimum: number, median: number, p95: number, maximum: number, over_context: number}} TokenCounts
 * @typedef {{id: string, name: string, context_length: number}} BaseModel
 * @typedef {{status: string, training_ready?: boolean, upload_expires_at?: string | null}} DatasetState
 */

const UNITS = ["KiB", "MiB", "GiB", "TiB"];

/**
 * A file's size as people read it: "980 bytes", "1.5 KiB", "12 MiB", "1 GiB" (binary units, as the
 * 1 GiB limit is; one decimal below 10, none above).
 * @param {number | null | undefined} bytes
 * @returns {string}
 */
export function fileSize(bytes) {
  if (bytes == null || !Number.isFinite(Number(bytes))) return "—";
  let value = Number(bytes);
  if (value < 1024) return `${count(value)} ${value === 1 ? "byte" : "bytes"}`;
  let unit = -1;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  // Rounded first, so 1023.96 KiB reads "1 MiB" rather than "1,024 KiB".
  let shown = value < 10 ? Math.round(value * 10) / 10 : Math.round(value);
  if (shown >= 1024 && unit < UNITS.length - 1) {
    shown = 1;
    unit += 1;
  }
  return `${shown.toLocaleString("en-US", { maximumFractionDigits: 1 })} ${UNITS[unit]}`;
}

/**
 * The upload's progress: a whole percentage (100 only once every byte is sent) and its line,
 * "45% · 1.2 MiB of 2.6 MiB".
 * @param {number} sent bytes of the file sent so far
 * @param {number} total the file's size
 * @returns {{percent: number, text: string}}
 */
export function uploadProgress(sent, total) {
  const done = Math.min(Math.max(sent, 0), total);
  const percent = total > 0 ? Math.floor((done * 100) / total) : 0;
  return { percent, text: `${percent}% · ${fileSize(done)} of ${fileSize(total)}` };
}

/**
 * Why this file cannot be uploaded, before anything is sent; null when it can.
 * @param {number} bytes
 * @param {number} [maxBytes]
 * @returns {string | null}
 */
export function sizeProblem(bytes, maxBytes = MAX_UPLOAD_BYTES) {
  if (bytes === 0) return "This file is empty. Pick a JSONL file with at least 10 examples, one per line.";
  if (bytes > maxBytes) {
    // Just over the limit, both round to the same figure: then the bytes tell them apart.
    const close = fileSize(bytes) === fileSize(maxBytes);
    const size = close ? `${count(bytes)} bytes` : fileSize(bytes);
    const limit = close ? `${fileSize(maxBytes)} (${count(maxBytes)} bytes)` : fileSize(maxBytes);
    return (
      `This file is ${size}: the largest file you can upload is ${limit}.` +
      " Split it into smaller files and upload each as its own dataset."
    );
  }
  return null;
}

/**
 * A new dataset's name from its file's: without the extension ("support.jsonl" -> "support"), at most
 * as long as the API takes.
 * @param {string} fileName
 * @returns {string}
 */
export function defaultName(fileName) {
  const dot = fileName.lastIndexOf(".");
  const stem = dot > 0 ? fileName.slice(0, dot) : fileName;
  return stem.trim().slice(0, MAX_NAME_LENGTH) || fileName.slice(0, MAX_NAME_LENGTH);
}

/**
 * The datasets page's address for one dataset, from the deployment's datasetsUrl (a path on this
 * site, or another site's address): "/training/datasets?datasetId=<id>".
 * @param {string} datasetsUrl
 * @param {string} datasetId
 * @param {string} origin this page's origin
 * @returns {string}
 */
export function datasetPageUrl(datasetsUrl, datasetId, origin) {
  const url = new URL(datasetsUrl, origin);
  url.searchParams.set("datasetId", datasetId);
  return url.origin === origin ? `${url.pathname}${url.search}${url.hash}` : url.href;
}

/**
 * Whether a dataset still waits for a file whose upload form has expired (the upload never finished).
 * @param {DatasetState} dataset
 * @param {number} now ms since the epoch
 */
export function uploadExpired(dataset, now) {
  if (dataset.status !== "uploading" || !dataset.upload_expires_at) return false;
  return Date.parse(dataset.upload_expires_at) < now;
}

/**
 * A dataset's status in a word or two, and the badge's class.
 * @param {DatasetState} dataset
 * @param {number} now ms since the epoch
 * @returns {{label: string, badge: string}}
 */
export function statusWords(dataset, now) {
  switch (dataset.status) {
    case "uploading":
      return uploadExpired(dataset, now)
        ? { label: "Upload not finished", badge: "expired" }
        : { label: "Uploading", badge: "uploading" };
    case "processing":
      return { label: "Validating", badge: "processing" };
    case "ready":
      return dataset.training_ready === false
        ? { label: "Not yet checked", badge: "processing" }
        : { label: "Ready", badge: "ready" };
    case "failed":
      return { label: "Failed validation", badge: "failed" };
    default:
      return { label: dataset.status, badge: "" };
  }
}

/**
 * What is happening to a dataset, in a sentence (the detail's status line).
 * @param {DatasetState & {validated_at?: string | null}} dataset
 * @param {number} now ms since the epoch
 * @param {{uploadingHere?: boolean}} [context] this page is sending its file right now
 * @returns {string}
 */
export function statusSentence(dataset, now, { uploadingHere = false } = {}) {
  switch (dataset.status) {
    case "uploading":
      if (uploadingHere) return "Uploading its file.";
      if (uploadExpired(dataset, now)) {
        return "Its file never arrived: the upload did not finish in time. Delete it and upload the file again.";
      }
      return "Waiting for its file to arrive. This page updates by itself.";
    case "processing":
      return "Validating the file: checking every line and counting each example's tokens for every base model. This page updates by itself.";
    case "ready":
      return dataset.training_ready === false
        ? "Not yet checked for training."
        : "Ready for training: validation found no problem in its file.";
    case "failed":
      return "Validation found problems in its file, so it cannot be trained on. Fix them and upload the file again.";
    default:
      return `Status: ${dataset.status}.`;
  }
}

/** Whether the page should keep asking for a dataset's status (validation not over). */
export function stillValidating(/** @type {DatasetState} */ dataset, /** @type {number} */ now) {
  return dataset.status === "processing" || (dataset.status === "uploading" && !uploadExpired(dataset, now));
}

/**
 * One problem validation found, by its line: "Line 12: The line is not valid JSON: Expecting ','
 * delimiter at column 40". Line 0 is the file as a whole.
 * @param {DatasetProblem} problem
 * @returns {string}
 */
export function problemLine(problem) {
  const where = problem.line > 0 ? `Line ${count(problem.line)}` : "The whole file";
  return `${where}: ${problem.message}`;
}

/**
 * How many problems there are, and how many are listed: "Showing the first 50 of 132 problems".
 * @param {number} shown
 * @param {number} total
 * @returns {string}
 */
export function problemsSummary(shown, total) {
  const all = Math.max(total, shown);
  if (shown < all) return `Showing the first ${count(shown)} of ${count(all)} problems.`;
  return all === 1 ? "1 problem." : `${count(all)} problems.`;
}

/**
 * A context length as the configuration page writes it: 32,768 tokens -> "32K".
 * @param {number} tokens
 */
export function contextText(tokens) {
  return `${Math.round(tokens / 1024)}K`;
}

/**
 * The warning for a model some examples are too long for: "3 examples are longer than Mistral 7B
 * v0.3's 32K context".
 * @param {number} overContext
 * @param {{name: string, context_length: number}} model
 * @returns {string}
 */
export function overContextSentence(overContext, model) {
  const examples = overContext === 1 ? "1 example is" : `${count(overContext)} examples are`;
  return (
    `${examples} longer than ${model.name}'s ${contextText(model.context_length)} context:` +
    ` ${overContext === 1 ? "it" : "they"} cannot be trained on with that model.`
  );
}

/**
 * The token statistics, one row per base model: the catalog's order, then any model the catalog no
 * longer lists (named by its id).
 * @param {Record<string, TokenCounts> | null | undefined} tokenCounts
 * @param {BaseModel[]} models
 * @returns {Array<TokenCounts & {id: string, name: string, context_length: number | null}>}
 */
export function tokenRows(tokenCounts, models) {
  if (!tokenCounts) return [];
  const known = models.filter((model) => model.id in tokenCounts);
  const rows = known.map((model) => ({
    ...tokenCounts[model.id],
    id: model.id,
    name: model.name,
    context_length: model.context_length,
  }));
  for (const [id, counts] of Object.entries(tokenCounts)) {
    if (!known.some((model) => model.id === id)) rows.push({ ...counts, id, name: id, context_length: null });
  }
  return rows;
}

/**
 * A refused delete, in words. 409: jobs that have not ended use the dataset.
 * @param {{status: number, body: any}} result
 * @returns {string | null} null when it is not a 409 (the caller words other failures)
 */
export function deleteRefusalSentence(result) {
  if (result.status !== 409) return null;
  const jobs = result.body?.details?.job_ids ?? [];
  const which = jobs.length === 1 ? "A job that has not ended uses" : "Jobs that have not ended use";
  return (
    `${which} this dataset, so it cannot be deleted yet. Wait for ${jobs.length === 1 ? "it" : "them"}` +
    ` to finish, or cancel ${jobs.length === 1 ? "it" : "them"}, then delete the dataset.`
  );
}

/**
 * Why storage refused the file (S3 answers the form with XML: <Code>, <Message>), in words.
 * @param {number} status
 * @param {string} responseText
 * @returns {string}
 */
export function uploadRefusalSentence(status, responseText) {
  const code = /<Code>([^<]*)<\/Code>/.exec(responseText)?.[1] ?? "";
  const message = /<Message>([^<]*)<\/Message>/.exec(responseText)?.[1] ?? "";
  if (code === "EntityTooLarge") return "Storage refused the file: it is larger than an upload may be.";
  if (code === "EntityTooSmall") return "Storage refused the file: it is empty.";
  if (/expired/i.test(message)) {
    return "The upload took longer than its form allows (an hour). Upload the file again.";
  }
  const why = code ? ` (${code}${message ? `: ${message}` : ""})` : ` (HTTP ${status})`;
  return `Storage refused the file${why}. Nothing was kept: upload it again.`;
}
