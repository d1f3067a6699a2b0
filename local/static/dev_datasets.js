// The local stand-in of the dataset section's page: the signed-in user's datasets, from /dev/datasets.
// Served by `make run` only (local/web_pages.py), never deployed.
import { currentToken } from "/assets/auth.js";
import { startSignedInPage } from "/assets/page_shell.js";

const list = document.getElementById("datasets");

if (await startSignedInPage()) {
  const response = await fetch("/dev/datasets", { headers: { Authorization: `Bearer ${currentToken()}` } });
  const datasets = response.ok ? (await response.json()).datasets : [];
  list.replaceChildren();
  for (const dataset of datasets) {
    const item = document.createElement("li");
    const label = `${dataset.name} — ${dataset.status}, ${dataset.total_training_pairs ?? 0} pairs`;
    if (dataset.ready) {
      const link = document.createElement("a");
      link.href = `/training/configure?datasetId=${encodeURIComponent(dataset.id)}`;
      link.textContent = label;
      item.append(link);
    } else {
      item.textContent = `${label} (not ready for training)`;
    }
    list.append(item);
  }
  if (!datasets.length) {
    const item = document.createElement("li");
    item.textContent = "No datasets yet: make dataset FILE=path.jsonl USER=... uploads one.";
    list.append(item);
  }
}
