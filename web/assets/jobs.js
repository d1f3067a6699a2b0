// @ts-check
// /training/jobs?status=&page=: the user's jobs, newest first, filtered by status, ten to a page.
import { callApi, describeFailure } from "./api_client.js";
import { loadConfig } from "./config.js";
import { money, capitalized, when } from "./format.js";
import { clearError, showError, startSignedInPage } from "./page_shell.js";
import { $ } from "./dom.js";

const PAGE_SIZE = 10;
let loadSequence = 0;
/** @type {Map<string, string>} base model id -> name (a model the catalog no longer lists: its id) */
let modelNames = new Map();

async function main() {
  if (!(await startSignedInPage())) return;
  const config = await loadConfig();
  $("datasets-link").href = config.datasetsUrl;
  $("new-job").href = config.datasetsUrl; // a job starts from one of the user's datasets

  const catalog = await callApi("/catalog").catch((error) => error);
  if (catalog instanceof Error || !catalog.ok) {
    showError($("page-error"), describeFailure(catalog));
    return;
  }
  modelNames = new Map(catalog.body.data.base_models.map((model) => [model.id, model.name]));
  const filter = $("status-filter");
  for (const status of catalog.body.data.job_statuses) filter.append(new Option(capitalized(status), status));
  filter.addEventListener("change", () => navigate({ status: filter.value, page: 1 }));
  addEventListener("popstate", load);
  await load();
}

function currentQuery() {
  const params = new URLSearchParams(location.search);
  const page = Number.parseInt(params.get("page") ?? "1", 10);
  return { status: params.get("status") ?? "", page: Number.isFinite(page) && page > 0 ? page : 1 };
}

function urlFor({ status, page }) {
  const params = new URLSearchParams();
  if (status) params.set("status", status);
  if (page > 1) params.set("page", String(page));
  const query = params.toString();
  return `/training/jobs${query ? `?${query}` : ""}`;
}

function navigate(query) {
  history.pushState(null, "", urlFor(query));
  load();
}

async function load() {
  const sequence = ++loadSequence;
  const query = currentQuery();
  $("status-filter").value = query.status;
  $("jobs-loading").hidden = false;
  const params = new URLSearchParams({ page: String(query.page), limit: String(PAGE_SIZE) });
  if (query.status) params.set("status", query.status);
  let result;
  try {
    result = await callApi(`/jobs?${params}`);
  } catch (error) {
    result = error;
  }
  if (sequence !== loadSequence) return; // the user already moved on to another filter or page
  $("jobs-loading").hidden = true;
  if (result instanceof Error || !result.ok) {
    showError($("page-error"), describeFailure(result));
    return;
  }
  clearError($("page-error"));
  render(result.body.data, query);
}

function render({ jobs, pagination }, query) {
  $("jobs-rows").replaceChildren(...jobs.map(row));
  $("jobs-table").hidden = jobs.length === 0;
  $("jobs-empty").hidden = jobs.length !== 0;
  const { total, totalPages } = pagination;
  // Empty: either there is nothing (yet) for this filter, or the address points past the last page.
  $("jobs-empty-text").textContent =
    total > 0
      ? `There is no page ${query.page}: the last one is page ${totalPages}.`
      : query.status
        ? `No ${query.status} jobs.`
        : "No training jobs yet.";
  $("datasets-link").hidden = total > 0;
  $("jobs-summary").textContent = `${total} ${total === 1 ? "job" : "jobs"}`;
  $("pager").hidden = totalPages <= 1 && query.page <= 1;
  $("page-position").textContent =
    query.page > Math.max(totalPages, 1)
      ? `Past the last page (${Math.max(totalPages, 1)})`
      : `Page ${query.page} of ${Math.max(totalPages, 1)}`;
  const previous = query.page > totalPages ? Math.max(totalPages, 1) : query.page - 1; // past the end: the last
  pageLink($("previous-page"), query.page > 1 ? { ...query, page: previous } : null);
  pageLink($("next-page"), query.page < totalPages ? { ...query, page: query.page + 1 } : null);
}

function pageLink(link, target) {
  if (target === null) {
    link.removeAttribute("href");
    link.setAttribute("aria-disabled", "true");
    link.onclick = null;
    return;
  }
  link.href = urlFor(target);
  link.removeAttribute("aria-disabled");
  link.onclick = (event) => {
    event.preventDefault();
    navigate(target);
  };
}

function row(job) {
  const tr = document.createElement("tr");
  const link = document.createElement("a");
  link.href = `/training/jobs/${encodeURIComponent(job.id)}`;
  link.textContent = when(job.created_at);
  const badge = document.createElement("span");
  badge.className = `badge ${job.status}`;
  badge.textContent = capitalized(job.status);
  const cells = [
    ["Created", link],
    ["Dataset", job.dataset.name],
    ["Model", job.base_model ? (modelNames.get(job.base_model) ?? job.base_model) : "—"],
    ["Preset", capitalized(job.preset_id)],
    ["GPU", `${job.gpu_config.count} × ${job.gpu_config.type}`],
    ["Status", badge],
    ["Progress", `${Number(job.progress).toFixed(0)}%`],
    ["Cost", money(job.current_cost)],
    ["Estimated cost", money(job.estimated_total_cost)],
  ];
  const numbers = new Set(["Progress", "Cost", "Estimated cost"]);
  const unbroken = new Set(["Created", "Model", "GPU"]); // a date, a model or a GPU on one line
  for (const [label, content] of cells) {
    const td = document.createElement("td");
    td.dataset.label = label;
    td.classList.toggle("number", numbers.has(label));
    td.classList.toggle("nowrap", unbroken.has(label));
    td.append(content);
    tr.append(td);
  }
  return tr;
}

main().catch((error) => showError($("page-error"), `Something went wrong on this page: ${error.message}`));
