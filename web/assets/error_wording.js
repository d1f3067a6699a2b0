// @ts-check
// What the configuration page tells a person when the API refuses something: the API's own texts
// (precise, for programs and developers) turned into sentences about the user's settings and dataset.
// Pure: no DOM, no fetch. Anything not recognised falls back to the API's words, never to nothing.
import { describeFailure } from "./api_client.js";
import { count, money } from "./format.js";

/** @typedef {import("./api_client.js").ApiResult} ApiResult */

/** Field paths the page has no slider for, named as a person would. */
const FIELD_NAMES = {
  dataset_id: "The dataset",
  base_model: "The base model",
  gpu_config: "The GPU configuration",
  "gpu_config.type": "GPU type",
  "gpu_config.count": "Number of GPUs",
  preset_id: "The preset",
  estimated_cost: "The estimate",
};

/**
 * A field's name on the page: the slider's label when there is one.
 * @param {string} field dotted field path, as the API keys its details
 * @param {Record<string, string>} labels field path -> label (from the catalog's controls)
 */
export function fieldName(field, labels) {
  return labels[field] ?? FIELD_NAMES[field] ?? field.split(".").pop().replaceAll("_", " ");
}

/**
 * One validation message of the API as a sentence about the field.
 * @param {string} field
 * @param {string} message the API's (pydantic's) message
 * @param {Record<string, string>} labels
 * @returns {string}
 */
export function fieldSentence(field, message, labels) {
  const name = fieldName(field, labels);
  if (field === "dataset_id") {
    return "The dataset in this page's address is not valid. Open the dataset again from your datasets page.";
  }
  if (field === "base_model" && /must be one of/.test(message)) {
    return "The base model is not one this service trains: pick one of the models on this page.";
  }
  if (field === "gpu_config") {
    const fit = serverFit(message);
    if (fit) return notFittingSentence(fit);
  }
  let match;
  if ((match = /less than or equal to (\S+)/.exec(message))) return `${name} can be at most ${match[1]}.`;
  if ((match = /greater than or equal to (\S+)/.exec(message)))
    return `${name} must be at least ${match[1]}.`;
  if ((match = /less than (\S+)/.exec(message))) return `${name} must be below ${match[1]}.`;
  if ((match = /greater than (\S+)/.exec(message))) return `${name} must be above ${match[1]}.`;
  if (/multiple of/.test(message)) return `${name} must be one of the slider's steps.`;
  if (/Field required/.test(message)) return `${name} is missing.`;
  if (/integer|number|valid/.test(message)) return `${name} must be chosen with its control on this page.`;
  if (/Input should be/.test(message)) return `${name} must be one of the options offered.`;
  return `${name}: ${message}`;
}

/**
 * Why a base model does not fit the chosen GPUs, and what would: one sentence or three. The page says
 * it before asking the server (from the memory rule), and words the server's refusal the same way.
 * @param {{model: string, setup: string, neededGib: string, memoryGib: string,
 *   batchSize: number | string, rank: number | string, sameType?: string | null,
 *   smallest: string | null}} fit setups already written ("1 × NVIDIA V100 32GB")
 * @returns {string}
 */
export function notFittingSentence(fit) {
  const why =
    `${fit.model} does not fit on ${fit.setup} at batch size ${fit.batchSize} and LoRA rank ${fit.rank}:` +
    ` it needs ${fit.neededGib} GiB on each GPU, more than the ${fit.memoryGib} GiB each has.`;
  const more = fit.sameType ? ` ${fit.sameType}` : "";
  const instead =
    fit.smallest === null
      ? " No GPU setup fits it at these settings: lower the batch size or the LoRA rank."
      : ` The smallest setup that fits: ${fit.smallest}.`;
  return why + more + instead;
}

/**
 * The server's "does not fit" message (shared/pipeline/http/errors.py), taken apart; null if it is not one.
 * @param {string} message
 */
function serverFit(message) {
  const match =
    /^(.+) needs ([\d.]+) GiB on each GPU of (\d+) x (\S+) at batch size (\d+) and LoRA rank (\d+), more than its (\d+) GiB(?:; the smallest setup that fits: (\d+) x (\S+))?/.exec(
      message,
    );
  if (!match) return null;
  const [, model, neededGib, count, type, batchSize, rank, memoryGib, smallestCount, smallestType] = match;
  return {
    model,
    setup: `${count} × ${type}`,
    neededGib,
    memoryGib,
    batchSize,
    rank,
    smallest: smallestCount ? `${smallestCount} × ${smallestType}` : null,
  };
}

/**
 * The API's validation details, as sentences, keyed by field.
 * @param {unknown} details
 * @param {Record<string, string>} labels
 * @returns {Record<string, string>}
 */
export function fieldSentences(details, labels) {
  /** @type {Record<string, string>} */
  const sentences = {};
  if (!details || typeof details !== "object") return sentences;
  for (const [field, messages] of Object.entries(details)) {
    if (!Array.isArray(messages)) continue;
    sentences[field] = messages.map((message) => fieldSentence(field, String(message), labels)).join(" ");
  }
  return sentences;
}

/**
 * A dataset that is not ready, in words (from GET /datasets/{id}: status and training_ready).
 * @param {{status: string, training_ready: boolean}} dataset
 */
export function notReadySentence(dataset) {
  if (dataset.status === "failed") {
    return "Validation found problems in its file, so this dataset cannot be trained on. See them on the datasets page, fix the file and upload it again.";
  }
  if (dataset.status === "uploading") {
    return "This dataset's file has not finished uploading. Training can start once it is uploaded and validated.";
  }
  if (dataset.status !== "ready") {
    return "This dataset is still being validated. Training can start once it is ready: come back in a few minutes.";
  }
  return "This dataset has not passed its training checks yet. Training can start once it has: come back in a few minutes.";
}

/**
 * The link beside a not-ready dataset's sentence: to the datasets page, where its state is followed.
 * @param {{status: string}} dataset
 */
export function notReadyLinkText(dataset) {
  if (dataset.status === "failed") return "See the problems on the datasets page";
  if (dataset.status === "uploading" || dataset.status === "processing") {
    return "Follow its validation on the datasets page";
  }
  return "Go to Datasets";
}

/**
 * What went wrong, for the person on the configuration page: one or two sentences.
 * @param {ApiResult | Error} resultOrError
 * @param {Record<string, string>} [labels]
 * @returns {string}
 */
export function problemSentence(resultOrError, labels = {}) {
  if (resultOrError instanceof Error) return describeFailure(resultOrError);
  const { status, body } = resultOrError;
  const error = body && typeof body.error === "string" ? body.error : "";
  if (error === "Dataset not ready for training") {
    const current = /status='([^']*)', training_ready=(true|false)/.exec(String(body.details ?? ""));
    return current
      ? notReadySentence({ status: current[1], training_ready: current[2] === "true" })
      : notReadySentence({ status: "processing", training_ready: false });
  }
  if (error === "Dataset not found or access denied") {
    return "This dataset was not found in your account: it may have been deleted. Pick a dataset on your datasets page.";
  }
  if (error === "Validation error") {
    const sentences = Object.values(fieldSentences(body.details, labels));
    return sentences.length ? `Please change this: ${sentences.join(" ")}` : "Some settings need a change.";
  }
  if (error === "Configuration too large") return tooLargeSentence(body.details);
  if (error === "Monthly spending limit reached") return monthlyLimitSentence(body.details);
  if (error === "Request in progress") {
    return "Your job is still being created. Wait a moment, then press Start Training again: it will not be created twice.";
  }
  if (error === "Idempotency-Key reused") {
    return "These settings changed while the job was being created. Reload the page and start again.";
  }
  if (status === 413) return "The request was too large to send.";
  if (status === 500) {
    const reference = body && typeof body.request_id === "string" ? ` (reference ${body.request_id})` : "";
    return `Something went wrong on our side${reference}. Nothing was charged. Please try again; if it keeps happening, contact support with the reference.`;
  }
  return describeFailure(resultOrError);
}

/**
 * @param {any} details {monthly_spend_limit, charged, committed, this_job} of a 409
 */
function monthlyLimitSentence(details) {
  const limit = money(details?.monthly_spend_limit ?? 0);
  const charged = money(details?.charged ?? 0);
  const committed = money(details?.committed ?? 0);
  return (
    `This job (${money(details?.this_job ?? 0)}) would take this month past your ${limit} spending limit: ` +
    `${charged} is charged and ${committed} is held by jobs not yet finished. ` +
    "Raise your limit, choose a cheaper configuration, or wait for those jobs to end. Nothing was started."
  );
}

/**
 * The month's spend beside the price, from an estimate's monthly_spend (absent: no limit, no line).
 * Whether this job fits is the summary's state line; this one gives the figures.
 * @param {{ monthly_spend_limit: number, charged: number, committed: number, remaining: number } | undefined} spend
 * @returns {string}
 */
export function monthSentence(spend) {
  if (!spend) return "";
  const held = spend.committed > 0 ? ` and ${money(spend.committed)} held by jobs not yet finished` : "";
  return (
    `This month: ${money(spend.charged)} spent${held} of your ${money(spend.monthly_spend_limit)} limit;` +
    ` ${money(spend.remaining)} left.`
  );
}

/**
 * @param {any} details {limits: {...}, exceeded: {...}} of a 422 Configuration too large
 */
function tooLargeSentence(details) {
  const exceeded = details?.exceeded ?? {};
  const limits = details?.limits ?? {};
  const parts = [];
  if ("estimated_cost" in exceeded) parts.push(`it would cost more than ${money(limits.estimated_cost)}`);
  if ("total_steps" in exceeded) parts.push(`it would take more than ${count(limits.total_steps)} steps`);
  if ("gpu_days" in exceeded) parts.push(`it would use more than ${count(limits.gpu_days)} GPU-days`);
  const why = parts.length ? `: ${parts.join(", and ")}` : "";
  return `This configuration is larger than one job allows${why}. Try fewer epochs or a larger batch size.`;
}
