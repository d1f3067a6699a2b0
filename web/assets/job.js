// @ts-check
// /training/jobs/<id>: one job, refreshed every 5 s while it is queued, initializing or running.
import { callApi, describeFailure } from "./api_client.js";
import { count, money, capitalized, when } from "./format.js";
import { clearError, showError, startSignedInPage } from "./page_shell.js";
import { $ } from "./dom.js";

const POLL_MS = 5000;
const ACTIVE = new Set(["queued", "initializing", "running"]);
const jobId = decodeURIComponent(location.pathname.replace(/\/+$/, "").split("/").pop());
let timer = null;

async function main() {
  if (!(await startSignedInPage())) return;
  await refresh();
}

async function refresh() {
  timer = null;
  let result;
  try {
    result = await callApi(`/jobs/${encodeURIComponent(jobId)}`);
  } catch (error) {
    showError($("page-error"), `${describeFailure(error)} Retrying...`);
    schedule();
    return;
  }
  $("job-loading").hidden = true;
  if (result.ok) {
    clearError($("page-error"));
    render(result.body.data);
    if (ACTIVE.has(result.body.data.status)) schedule();
    else $("polling-note").textContent = `Final status. Last checked ${new Date().toLocaleTimeString()}.`;
    return;
  }
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

function render(job) {
  document.title = `${job.dataset.name} · Training Job · PIPELINE`;
  $("job-title").textContent = `Training Job: ${job.dataset.name}`;
  $("job-subtitle").textContent = `Created ${when(job.created_at)}`;
  const badge = $("job-status");
  badge.textContent = capitalized(job.status);
  badge.className = `badge ${job.status}`;
  const progress = Number(job.progress);
  $("job-progress").value = progress;
  $("job-progress-text").textContent = `${progress.toFixed(0)}%`;
  $("job-dataset").textContent = job.dataset.name;
  $("job-preset").textContent = capitalized(job.preset_id);
  $("job-gpu").textContent = `${job.gpu_config.count} × ${job.gpu_config.type}`;
  const hp = job.hyperparameters;
  $("job-hyperparameters").textContent =
    `learning rate ${hp.learning_rate}, batch ${hp.batch_size}, epochs ${hp.epochs}, rank ${hp.rank}` +
    (hp.alpha != null ? `, alpha ${hp.alpha}` : "") +
    (hp.dropout != null ? `, dropout ${hp.dropout}` : "");
  $("job-stage").textContent = job.current_stage ?? "—";
  $("job-epoch").textContent = `${job.current_epoch} of ${job.total_epochs}`;
  $("job-step").textContent = `${count(job.current_step)} of ${count(job.total_steps)}`;
  $("job-estimated-cost").textContent = money(job.estimated_total_cost);
  $("job-current-cost").textContent = money(job.current_cost);
  $("job-created").textContent = when(job.created_at);
  $("job-started").textContent = when(job.started_at);
  $("job-completed").textContent = when(job.completed_at);
  $("job-id").textContent = job.id;
  const error = $("job-error");
  error.hidden = !job.error_message;
  error.textContent = job.error_message ?? "";
  if (ACTIVE.has(job.status)) {
    $("polling-note").textContent =
      `Refreshing every ${POLL_MS / 1000} s. Last checked ${new Date().toLocaleTimeString()}.`;
  }
  $("job").hidden = false;
}

main().catch((error) => showError($("page-error"), `Something went wrong on this page: ${error.message}`));
