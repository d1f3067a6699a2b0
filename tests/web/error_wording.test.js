// The configuration page's wording of the API's refusals: the API's texts (copied from
// shared/pipeline/http/errors.py and pydantic) in, sentences about the user's settings out.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  fieldName,
  fieldSentence,
  fieldSentences,
  monthSentence,
  notFittingSentence,
  notReadyLinkText,
  notReadySentence,
  problemSentence,
} from "../../web/assets/error_wording.js";

/** @param {number} status @param {unknown} body */
const answer = (status, body) => ({ status, ok: status < 400, body, headers: new Headers() });
const LABELS = { "hyperparameters.batch_size": "Batch Size", "gpu_config.count": "Number of GPUs" };

test("a field is named by its label on the page, else in plain words", () => {
  assert.equal(fieldName("hyperparameters.batch_size", LABELS), "Batch Size");
  assert.equal(fieldName("gpu_config.type", LABELS), "GPU type");
  assert.equal(fieldName("hyperparameters.lora_alpha", LABELS), "lora alpha");
});

test("range messages become the limit in words", () => {
  const batch = "hyperparameters.batch_size";
  assert.equal(
    fieldSentence(batch, "Input should be less than or equal to 64", LABELS),
    "Batch Size can be at most 64.",
  );
  assert.equal(
    fieldSentence(batch, "Input should be greater than or equal to 1", LABELS),
    "Batch Size must be at least 1.",
  );
  assert.equal(
    fieldSentence("hyperparameters.dropout", "Input should be less than 1", LABELS),
    "dropout must be below 1.",
  );
  assert.equal(
    fieldSentence("hyperparameters.alpha", "Input should be greater than 0", LABELS),
    "alpha must be above 0.",
  );
});

test("a malformed dataset id sends the user back to the datasets page, without the parser's words", () => {
  const sentence = fieldSentence(
    "dataset_id",
    "Input should be a valid UUID, invalid character: found `n` at 0",
    LABELS,
  );
  assert.equal(
    sentence,
    "The dataset in this page's address is not valid. Open the dataset again from your datasets page.",
  );
});

test("type and choice messages point at the page's controls", () => {
  assert.equal(
    fieldSentence("gpu_config.count", "Input should be a JSON number (an integer)", LABELS),
    "Number of GPUs must be chosen with its control on this page.",
  );
  assert.equal(
    fieldSentence("gpu_config.type", "Input should be 'A100-40GB', 'A100-80GB', 'H100' or 'A10G'", LABELS),
    "GPU type must be one of the options offered.",
  );
  assert.equal(fieldSentence("gpu_config.count", "Field required", LABELS), "Number of GPUs is missing.");
  assert.equal(fieldSentence("gpu_config.count", "Something new", LABELS), "Number of GPUs: Something new");
});

test("details by field become one sentence per field; anything else is ignored", () => {
  assert.deepEqual(
    fieldSentences(
      {
        "hyperparameters.batch_size": ["Input should be less than or equal to 64"],
        "gpu_config.count": ["Input should be greater than or equal to 1", "Field required"],
        limits: { total_steps: 1 },
      },
      LABELS,
    ),
    {
      "hyperparameters.batch_size": "Batch Size can be at most 64.",
      "gpu_config.count": "Number of GPUs must be at least 1. Number of GPUs is missing.",
    },
  );
  assert.deepEqual(fieldSentences("not an object", LABELS), {});
});

test("a dataset not ready says what it is waiting for", () => {
  assert.match(notReadySentence({ status: "processing", training_ready: false }), /still being validated/);
  assert.match(notReadySentence({ status: "uploading", training_ready: false }), /not finished uploading/);
  assert.match(
    notReadySentence({ status: "ready", training_ready: false }),
    /not passed its training checks/,
  );
  assert.match(
    notReadySentence({ status: "failed", training_ready: false }),
    /^Validation found problems in its file, so this dataset cannot be trained on\. See them on the datasets page/,
  );
});

test("the link beside a dataset not ready says what the datasets page shows of it", () => {
  assert.equal(notReadyLinkText({ status: "failed" }), "See the problems on the datasets page");
  assert.equal(notReadyLinkText({ status: "processing" }), "Follow its validation on the datasets page");
  assert.equal(notReadyLinkText({ status: "uploading" }), "Follow its validation on the datasets page");
  assert.equal(notReadyLinkText({ status: "ready" }), "Go to Datasets");
});

test("the API's not-ready refusal is read for its status, not repeated", () => {
  const refusal = answer(400, {
    error: "Dataset not ready for training",
    details:
      "Dataset must have status='ready' and training_ready=true. Current: status='processing', training_ready=false",
  });
  const sentence = problemSentence(refusal, LABELS);
  assert.equal(
    sentence,
    "This dataset is still being validated. Training can start once it is ready: come back in a few minutes.",
  );
  assert.doesNotMatch(sentence, /status=/);
});

test("a validation refusal lists what to change, in words", () => {
  const refusal = answer(400, {
    error: "Validation error",
    details: { "hyperparameters.batch_size": ["Input should be less than or equal to 64"] },
  });
  assert.equal(problemSentence(refusal, LABELS), "Please change this: Batch Size can be at most 64.");
  assert.equal(
    problemSentence(answer(400, { error: "Validation error" }), LABELS),
    "Some settings need a change.",
  );
});

test("a configuration beyond the limits names the limit it passed", () => {
  const refusal = answer(422, {
    error: "Configuration too large",
    details: {
      limits: { total_steps: 10000000, estimated_cost: 100000.0, gpu_days: 1000 },
      exceeded: { estimated_cost: 161234.5 },
    },
  });
  assert.equal(
    problemSentence(refusal),
    "This configuration is larger than one job allows: it would cost more than $100000.00. Try fewer epochs or a larger batch size.",
  );
  const both = answer(422, {
    error: "Configuration too large",
    details: {
      limits: { total_steps: 10000000, gpu_days: 1000 },
      exceeded: { total_steps: 2e7, gpu_days: 1001 },
    },
  });
  assert.match(
    problemSentence(both),
    /more than 10,000,000 steps, and it would use more than 1,000 GPU-days/,
  );
});

test("a refusal at the monthly limit gives the month's figures and what to do", () => {
  const refusal = answer(409, {
    error: "Monthly spending limit reached",
    details: { monthly_spend_limit: 100, charged: 61.5, committed: 30, this_job: 12.25, message: "..." },
  });
  assert.equal(
    problemSentence(refusal),
    "This job ($12.25) would take this month past your $100.00 spending limit: $61.50 is charged and " +
      "$30.00 is held by jobs not yet finished. Raise your limit, choose a cheaper configuration, or wait " +
      "for those jobs to end. Nothing was started.",
  );
});

test("the month's spend beside the price: nothing without a limit, else what is spent, held and left", () => {
  assert.equal(monthSentence(undefined), "");
  const spend = { monthly_spend_limit: 100, charged: 40, committed: 0, remaining: 60 };
  assert.equal(monthSentence(spend), "This month: $40.00 spent of your $100.00 limit; $60.00 left.");
  const held = { monthly_spend_limit: 100, charged: 40, committed: 55.5, remaining: 4.5 };
  assert.equal(
    monthSentence(held),
    "This month: $40.00 spent and $55.50 held by jobs not yet finished of your $100.00 limit; $4.50 left.",
  );
});

test("the other refusals are sentences a user can act on", () => {
  assert.match(
    problemSentence(answer(404, { error: "Dataset not found or access denied" })),
    /not found in your account/,
  );
  assert.match(
    problemSentence(answer(409, { error: "Request in progress", details: "A request with this ..." })),
    /still being created/,
  );
  assert.match(problemSentence(answer(422, { error: "Idempotency-Key reused" })), /Reload the page/);
  assert.equal(
    problemSentence(answer(413, { error: "Payload too large" })),
    "The request was too large to send.",
  );
  assert.equal(
    problemSentence(answer(500, { error: "Internal server error", request_id: "req-1" })),
    "Something went wrong on our side (reference req-1). Nothing was charged. Please try again; if it keeps happening, contact support with the reference.",
  );
});

test("what it does not know, it says as the API did; a network failure as the client does", () => {
  assert.equal(
    problemSentence(answer(418, { error: "Teapot", details: "short and stout" })),
    "Teapot: short and stout",
  );
  assert.match(problemSentence(new TypeError("Failed to fetch")), /Could not reach the server/);
});

test("GPUs too small for the base model: what it needs, against what each GPU has, and what fits", () => {
  // shared/pipeline/http/errors.py's wording, both forms
  const tooSmall = answer(400, {
    error: "Validation error",
    details: {
      gpu_config: [
        "Mistral NeMo 12B needs 34.1 GiB on each GPU of 1 x V100-32GB at batch size 4 and LoRA rank 16," +
          " more than its 32 GiB; the smallest setup that fits: 1 x A100-40GB",
      ],
    },
  });
  assert.equal(
    problemSentence(tooSmall, LABELS),
    "Please change this: Mistral NeMo 12B does not fit on 1 × V100-32GB at batch size 4 and LoRA rank 16:" +
      " it needs 34.1 GiB on each GPU, more than the 32 GiB each has. The smallest setup that fits: 1 × A100-40GB.",
  );
  assert.equal(
    fieldSentence(
      "gpu_config",
      "Llama 3.1 70B needs 83.1 GiB on each GPU of 8 x V100-32GB at batch size 64 and LoRA rank 128," +
        " more than its 32 GiB; no GPU setup fits it at these settings: lower the batch size or the rank",
      LABELS,
    ),
    "Llama 3.1 70B does not fit on 8 × V100-32GB at batch size 64 and LoRA rank 128: it needs 83.1 GiB on" +
      " each GPU, more than the 32 GiB each has. No GPU setup fits it at these settings: lower the batch" +
      " size or the LoRA rank.",
  );
  assert.equal(
    fieldSentence("gpu_config", "Something else entirely", LABELS),
    "The GPU configuration: Something else entirely",
  );
});

test("the page's own fit sentence names the setups as the page shows them, and more of the same GPU", () => {
  assert.equal(
    notFittingSentence({
      model: "Mistral NeMo 12B",
      setup: "1 × NVIDIA V100 32GB",
      neededGib: "34.1",
      memoryGib: "32",
      batchSize: 4,
      rank: 16,
      sameType: "2 or more of these GPUs hold it.",
      smallest: "1 × NVIDIA A100 40GB",
    }),
    "Mistral NeMo 12B does not fit on 1 × NVIDIA V100 32GB at batch size 4 and LoRA rank 16: it needs" +
      " 34.1 GiB on each GPU, more than the 32 GiB each has. 2 or more of these GPUs hold it. The smallest" +
      " setup that fits: 1 × NVIDIA A100 40GB.",
  );
});

test("an unknown base model points at the models on the page, without the list of ids", () => {
  const refusal = answer(400, {
    error: "Validation error",
    details: { base_model: ["Value error, must be one of: llama-3.2-3b, mistral-7b-v0.3"] },
  });
  assert.equal(
    problemSentence(refusal, LABELS),
    "Please change this: The base model is not one this service trains: pick one of the models on this page.",
  );
});
