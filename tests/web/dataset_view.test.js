// The datasets page's words and figures: sizes, the upload's progress, statuses, validation's findings.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  MAX_UPLOAD_BYTES,
  contextText,
  datasetPageUrl,
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
  uploadExpired,
  uploadProgress,
  uploadRefusalSentence,
} from "../../web/assets/dataset_view.js";

const NOW = Date.parse("2026-12-07T12:00:00Z");
const LATER = "2026-12-07T13:00:00Z";
const EARLIER = "2026-12-07T11:00:00Z";
const MISTRAL = { id: "mistral-7b-v0.3", name: "Mistral 7B v0.3", context_length: 32_768 };
const LLAMA = { id: "llama-3.2-3b", name: "Llama 3.2 3B", context_length: 131_072 };

test("a size is written in bytes, then binary units: one decimal below 10, none above", () => {
  assert.equal(fileSize(0), "0 bytes");
  assert.equal(fileSize(1), "1 byte");
  assert.equal(fileSize(1023), "1,023 bytes");
  assert.equal(fileSize(1024), "1 KiB");
  assert.equal(fileSize(1536), "1.5 KiB");
  assert.equal(fileSize(12.4 * 1024 * 1024), "12 MiB");
  assert.equal(fileSize(MAX_UPLOAD_BYTES), "1 GiB");
  assert.equal(fileSize(1.25 * 1024 ** 3), "1.3 GiB");
});

test("a size just under the next unit reads as that unit, and a missing size as a dash", () => {
  assert.equal(fileSize(1024 * 1024 - 20), "1 MiB");
  assert.equal(fileSize(null), "—");
  assert.equal(fileSize(undefined), "—");
});

test("the upload's progress is a whole percentage of the file, 100 only once all of it is sent", () => {
  assert.deepEqual(uploadProgress(0, 2 * 1024 * 1024), { percent: 0, text: "0% · 0 bytes of 2 MiB" });
  assert.deepEqual(uploadProgress(1024 * 1024, 2 * 1024 * 1024), {
    percent: 50,
    text: "50% · 1 MiB of 2 MiB",
  });
  assert.equal(uploadProgress(2 * 1024 * 1024 - 1, 2 * 1024 * 1024).percent, 99);
  assert.equal(uploadProgress(5000, 4000).percent, 100); // the form's own fields never push it past
  assert.equal(uploadProgress(4000, 4000).text, "100% · 3.9 KiB of 3.9 KiB");
});

test("a file too large or empty is refused before anything is sent, in words", () => {
  assert.equal(sizeProblem(1), null);
  assert.equal(sizeProblem(MAX_UPLOAD_BYTES), null);
  assert.equal(
    sizeProblem(MAX_UPLOAD_BYTES + 1),
    "This file is 1,073,741,825 bytes: the largest file you can upload is 1 GiB (1,073,741,824 bytes)." +
      " Split it into smaller files and upload each as its own dataset.",
  );
  assert.match(
    sizeProblem(3 * 1024 * 1024, 1024 * 1024),
    /^This file is 3 MiB: the largest file you can upload is 1 MiB\./,
  );
  assert.match(sizeProblem(0), /^This file is empty/);
});

test("a dataset is named after its file, without the extension and at most 200 characters", () => {
  assert.equal(defaultName("support-chats.jsonl"), "support-chats");
  assert.equal(defaultName("archive.2026.jsonl"), "archive.2026");
  assert.equal(defaultName("README"), "README");
  assert.equal(defaultName(".jsonl"), ".jsonl");
  assert.equal(defaultName(`${"x".repeat(300)}.jsonl`).length, 200);
});

test("each status in words, with an upload whose form expired said as such", () => {
  assert.deepEqual(statusWords({ status: "uploading", upload_expires_at: LATER }, NOW), {
    label: "Uploading",
    badge: "uploading",
  });
  assert.deepEqual(statusWords({ status: "uploading", upload_expires_at: EARLIER }, NOW), {
    label: "Upload not finished",
    badge: "expired",
  });
  assert.equal(statusWords({ status: "processing" }, NOW).label, "Validating");
  assert.equal(statusWords({ status: "ready", training_ready: true }, NOW).label, "Ready");
  assert.equal(statusWords({ status: "ready", training_ready: false }, NOW).label, "Not yet checked");
  assert.equal(statusWords({ status: "failed" }, NOW).label, "Failed validation");
});

test("the page follows a dataset only while validation is not over", () => {
  assert.equal(stillValidating({ status: "uploading", upload_expires_at: LATER }, NOW), true);
  assert.equal(stillValidating({ status: "processing" }, NOW), true);
  assert.equal(stillValidating({ status: "uploading", upload_expires_at: EARLIER }, NOW), false);
  assert.equal(stillValidating({ status: "ready" }, NOW), false);
  assert.equal(stillValidating({ status: "failed" }, NOW), false);
  assert.equal(uploadExpired({ status: "processing", upload_expires_at: EARLIER }, NOW), false);
});

test("the detail's sentence says what is happening and what to do", () => {
  assert.equal(statusSentence({ status: "uploading" }, NOW, { uploadingHere: true }), "Uploading its file.");
  assert.match(statusSentence({ status: "uploading", upload_expires_at: EARLIER }, NOW), /never arrived/);
  assert.match(statusSentence({ status: "processing" }, NOW), /^Validating the file/);
  assert.match(statusSentence({ status: "ready", training_ready: true }, NOW), /^Ready for training/);
  assert.match(statusSentence({ status: "failed" }, NOW), /^Validation found problems in its file/);
});

test("a problem is said by its line, the file's own problems as the whole file's", () => {
  assert.equal(
    problemLine({
      line: 12,
      code: "invalid_json",
      message: "The line is not valid JSON: Expecting ',' delimiter at column 40",
    }),
    "Line 12: The line is not valid JSON: Expecting ',' delimiter at column 40",
  );
  assert.equal(
    problemLine({ line: 1204, code: "empty_content", message: "A text is empty" }),
    "Line 1,204: A text is empty",
  );
  assert.equal(
    problemLine({
      line: 0,
      code: "too_few_examples",
      message: "The file has fewer examples than a job needs: 3 valid, at least 10 needed",
    }),
    "The whole file: The file has fewer examples than a job needs: 3 valid, at least 10 needed",
  );
});

test("the problems' count says how many are listed of how many there are", () => {
  assert.equal(problemsSummary(50, 132), "Showing the first 50 of 132 problems.");
  assert.equal(problemsSummary(50, 1320), "Showing the first 50 of 1,320 problems.");
  assert.equal(problemsSummary(4, 4), "4 problems.");
  assert.equal(problemsSummary(1, 1), "1 problem.");
  assert.equal(problemsSummary(3, 0), "3 problems."); // a count missing from the answer: the list's
});

test("a context length is written in thousands of tokens, as the configuration page does", () => {
  assert.equal(contextText(32_768), "32K");
  assert.equal(contextText(131_072), "128K");
});

test("examples too long for a model are a warning that names it and its context", () => {
  assert.equal(
    overContextSentence(3, MISTRAL),
    "3 examples are longer than Mistral 7B v0.3's 32K context: they cannot be trained on with that model.",
  );
  assert.equal(
    overContextSentence(1, MISTRAL),
    "1 example is longer than Mistral 7B v0.3's 32K context: it cannot be trained on with that model.",
  );
  assert.match(
    overContextSentence(1200, LLAMA),
    /^1,200 examples are longer than Llama 3\.2 3B's 128K context/,
  );
});

test("the token table follows the catalog's order and names a model it no longer lists by its id", () => {
  const figures = { total: 10, minimum: 1, median: 2, p95: 3, maximum: 4, over_context: 0 };
  const rows = tokenRows(
    { "retired-model": figures, "mistral-7b-v0.3": figures, "llama-3.2-3b": { ...figures, total: 20 } },
    [LLAMA, MISTRAL],
  );
  assert.deepEqual(
    rows.map((row) => [row.id, row.name, row.context_length, row.total]),
    [
      ["llama-3.2-3b", "Llama 3.2 3B", 131_072, 20],
      ["mistral-7b-v0.3", "Mistral 7B v0.3", 32_768, 10],
      ["retired-model", "retired-model", null, 10],
    ],
  );
  assert.deepEqual(tokenRows(null, [LLAMA]), []);
});

test("a delete refused because jobs use the dataset says so and what to do", () => {
  const inUse = (jobIds) => ({
    status: 409,
    body: { error: "Dataset in use", details: { message: "...", job_ids: jobIds } },
  });
  assert.equal(
    deleteRefusalSentence(inUse(["a", "b"])),
    "Jobs that have not ended use this dataset, so it cannot be deleted yet. Wait for them to finish, or cancel them, then delete the dataset.",
  );
  assert.match(
    deleteRefusalSentence(inUse(["a"])),
    /^A job that has not ended uses this dataset.*Wait for it/,
  );
  assert.equal(deleteRefusalSentence({ status: 500, body: null }), null);
});

test("storage's refusal of the file is read from its XML, in words", () => {
  const xml = (code, message) =>
    `<?xml version="1.0"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`;
  assert.match(
    uploadRefusalSentence(400, xml("EntityTooLarge", "Your proposed upload exceeds")),
    /larger than/,
  );
  assert.match(
    uploadRefusalSentence(403, xml("AccessDenied", "Invalid according to Policy: Policy expired.")),
    /longer than its form allows/,
  );
  assert.equal(
    uploadRefusalSentence(403, xml("AccessDenied", "Access Denied")),
    "Storage refused the file (AccessDenied: Access Denied). Nothing was kept: upload it again.",
  );
  assert.equal(
    uploadRefusalSentence(502, "<html>Bad gateway</html>"),
    "Storage refused the file (HTTP 502). Nothing was kept: upload it again.",
  );
});

test("a dataset's address on the datasets page, on this site or another", () => {
  const origin = "https://d111.cloudfront.net";
  assert.equal(datasetPageUrl("/training/datasets", "abc", origin), "/training/datasets?datasetId=abc");
  assert.equal(
    datasetPageUrl("/training/datasets?view=all", "a b", origin),
    "/training/datasets?view=all&datasetId=a+b",
  );
  assert.equal(
    datasetPageUrl("https://data.example/sets", "abc", origin),
    "https://data.example/sets?datasetId=abc",
  );
});
