"""The configuration page applies the memory rule itself (web/assets/memory_fit.js, from the catalog's
figures) to disable GPU types and to say why a setup does not fit, before the server refuses it: its
figures must be the server's (pipeline.catalog.memory_fit) to the byte. Node.js runs the page's module."""

import itertools
import json
import shutil
import subprocess
from functools import cache
from typing import Any

import pytest

from pipeline.catalog import memory_fit
from pipeline.catalog.gpu_prices import GPU_TYPES
from pipeline.catalog.listing import CATALOG
from tests.paths import REPO_ROOT

NODE = shutil.which("node")
MODULE = REPO_ROOT / "web" / "assets" / "memory_fit.js"
COUNTS = range(1, 9)
BATCH_SIZES = range(1, 65)
RANKS = (4, 8, 16, 32, 64, 128)

# Reads {catalog, counts, batchSizes, ranks, searches} on stdin; writes every figure the page computes.
HARNESS = """
import { readFileSync } from "node:fs";
import { bytesPerGpu, fewestGpus, fits, smallestFittingSetup } from %(module)s;

const { catalog, counts, batchSizes, ranks, searches } = JSON.parse(readFileSync(0, "utf8"));
const overhead = catalog.memory_rule.overhead_bytes;
const bytes = {};
const fitting = {};
const fewest = {};
const smallest = {};
for (const model of catalog.base_models) {
  bytes[model.id] = [];
  fitting[model.id] = {};
  for (const gpu of catalog.gpu_types) fitting[model.id][gpu.id] = [];
  for (const gpuCount of counts) {
    for (const batchSize of batchSizes) {
      for (const rank of ranks) {
        const setting = { gpuCount, batchSize, rank };
        bytes[model.id].push(bytesPerGpu(model.memory, overhead, setting));
        for (const gpu of catalog.gpu_types) {
          fitting[model.id][gpu.id].push(fits(model.memory, overhead, gpu.memory_bytes, setting));
        }
      }
    }
  }
  fewest[model.id] = {};
  smallest[model.id] = [];
  for (const gpu of catalog.gpu_types) {
    fewest[model.id][gpu.id] = searches.map((search) =>
      fewestGpus(model.memory, overhead, gpu.memory_bytes, search),
    );
  }
  for (const search of searches) {
    smallest[model.id].push(smallestFittingSetup(model.memory, overhead, catalog.gpu_types, search));
  }
}
process.stdout.write(JSON.stringify({ bytes, fitting, fewest, smallest }));
"""

# A sample of searches for the smallest setup: every slider's ends and middles, and past them.
SEARCHES = [
    {"maxCount": max_count, "batchSize": batch_size, "rank": rank}
    for max_count, batch_size, rank in itertools.product(
        (1, 2, 4, 8), (1, 2, 4, 8, 16, 32, 64), (4, 16, 64, 128)
    )
]


@cache
def _page_figures() -> dict[str, Any]:
    assert NODE is not None, "Node.js runs the page's memory rule in this test; install nodejs"
    catalog = CATALOG.model_dump(mode="json")
    given = {
        "catalog": catalog,
        "counts": list(COUNTS),
        "batchSizes": list(BATCH_SIZES),
        "ranks": list(RANKS),
        "searches": SEARCHES,
    }
    result = subprocess.run(
        [NODE, "--input-type=module", "-e", HARNESS % {"module": json.dumps(MODULE.as_uri())}],
        input=json.dumps(given),
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    figures: dict[str, Any] = json.loads(result.stdout)
    return figures


def _terms(model: dict[str, Any]) -> memory_fit.MemoryTerms:
    return memory_fit.MemoryTerms(**model["memory"])


MODELS = CATALOG.model_dump(mode="json")["base_models"]


@pytest.mark.parametrize("model", MODELS, ids=[model["id"] for model in MODELS])
def test_the_page_needs_the_same_bytes_per_gpu_as_the_server_for_every_setup_batch_and_rank(
    model: dict[str, Any],
) -> None:
    terms = _terms(model)
    settings = list(itertools.product(COUNTS, BATCH_SIZES, RANKS))
    expected = [
        memory_fit.bytes_per_gpu(terms, gpu_count=count, batch_size=batch, rank=rank)
        for count, batch, rank in settings
    ]

    page = _page_figures()

    assert len(page["bytes"][model["id"]]) == len(settings) == 8 * 64 * 6
    mismatches = [
        (setting, mine, theirs)
        for setting, mine, theirs in zip(settings, page["bytes"][model["id"]], expected, strict=True)
        if mine != theirs
    ]
    assert mismatches == []
    for gpu in GPU_TYPES.values():
        fitting = [
            memory_fit.fits(
                terms, gpu_memory_gib=gpu.memory_gib, gpu_count=count, batch_size=batch, rank=rank
            )
            for count, batch, rank in settings
        ]
        assert page["fitting"][model["id"]][gpu.id] == fitting, gpu.id


@pytest.mark.parametrize("model", MODELS, ids=[model["id"] for model in MODELS])
def test_the_page_finds_the_servers_fewest_gpus_and_smallest_fitting_setup(model: dict[str, Any]) -> None:
    terms = _terms(model)
    gpus = [(gpu.id, gpu.memory_gib, gpu.price_per_gpu_hour) for gpu in GPU_TYPES.values()]

    page = _page_figures()

    smallest = [
        memory_fit.smallest_fitting_setup(
            terms, gpus, max_count=search["maxCount"], batch_size=search["batchSize"], rank=search["rank"]
        )
        for search in SEARCHES
    ]
    assert page["smallest"][model["id"]] == [
        None if setup is None else {"type": setup.gpu_type, "count": setup.gpu_count} for setup in smallest
    ]
    assert None in page["smallest"]["llama-3.1-70b"]  # the sample reaches "nothing fits" too
    for gpu in GPU_TYPES.values():
        fewest = [
            memory_fit.fewest_gpus(
                terms,
                gpu_memory_gib=gpu.memory_gib,
                max_count=search["maxCount"],
                batch_size=search["batchSize"],
                rank=search["rank"],
            )
            for search in SEARCHES
        ]
        assert page["fewest"][model["id"]][gpu.id] == fewest, gpu.id


def test_the_catalog_gives_the_page_the_servers_overhead_and_gpu_memory() -> None:
    catalog = CATALOG.model_dump(mode="json")

    assert catalog["memory_rule"]["overhead_bytes"] == memory_fit.OVERHEAD_BYTES
    assert {gpu["id"]: gpu["memory_bytes"] for gpu in catalog["gpu_types"]} == {
        gpu.id: gpu.memory_gib * memory_fit.GIB for gpu in GPU_TYPES.values()
    }
