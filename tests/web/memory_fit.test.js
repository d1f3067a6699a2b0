// The memory rule the configuration page applies to the catalog's figures, checked against figures
// worked out by hand (tests/integration/test_memory_fit_parity.py holds it equal to the server's).
import assert from "node:assert/strict";
import { test } from "node:test";

import { bytesPerGpu, fewestGpus, fits, smallestFittingSetup } from "../../web/assets/memory_fit.js";

const GIB = 2 ** 30;
const OVERHEAD = 2 * GIB; // 2,147,483,648
const MISTRAL_7B = {
  weight_bytes: 14_496_047_104,
  lora_bytes_per_rank: 41_943_040,
  activation_bytes_per_sequence: 1_090_519_040,
};
const MISTRAL_NEMO = {
  weight_bytes: 24_495_564_800,
  lora_bytes_per_rank: 57_016_320,
  activation_bytes_per_sequence: 2_269_118_464,
};
const LLAMA_70B = {
  weight_bytes: 141_107_412_992,
  lora_bytes_per_rank: 207_093_760,
  activation_bytes_per_sequence: 4_305_453_056,
};
// The catalog's GPU types, in its order.
const A100_80 = { id: "A100-80GB", memory_bytes: 80 * GIB, price_per_gpu_hour: 3.5 };
const A100_40 = { id: "A100-40GB", memory_bytes: 40 * GIB, price_per_gpu_hour: 2.8 };
const H100 = { id: "H100", memory_bytes: 80 * GIB, price_per_gpu_hour: 4.2 };
const V100 = { id: "V100-32GB", memory_bytes: 32 * GIB, price_per_gpu_hour: 2.1 };
const GPUS = [A100_80, A100_40, H100, V100];

test("one GPU holds the weights, the LoRA states, the whole batch's activations and the overhead", () => {
  // 14,496,047,104 + 16 × 41,943,040 + 15 × 1,090,519,040 + 2,147,483,648
  assert.equal(bytesPerGpu(MISTRAL_7B, OVERHEAD, { gpuCount: 1, batchSize: 15, rank: 16 }), 33_672_404_992);
  assert.equal(bytesPerGpu(MISTRAL_7B, OVERHEAD, { gpuCount: 1, batchSize: 16, rank: 16 }), 34_762_924_032);
});

test("several GPUs share the weights and LoRA states and split the batch, each rounded up", () => {
  // (141,107,412,992 + 16 × 207,093,760) / 2 + (4 / 2) × 4,305,453,056 + 2,147,483,648
  assert.equal(bytesPerGpu(LLAMA_70B, OVERHEAD, { gpuCount: 2, batchSize: 4, rank: 16 }), 82_968_846_336);
  // ceil(14,663,819,264 / 3) = 4,887,939,755; ceil(4 / 3) = 2 sequences on the busiest GPU
  assert.equal(bytesPerGpu(MISTRAL_7B, OVERHEAD, { gpuCount: 3, batchSize: 4, rank: 4 }), 9_216_461_483);
});

test("Mistral 7B fits one V100 32GB at batch 15 but not at batch 16 (rank 16)", () => {
  assert.equal(fits(MISTRAL_7B, OVERHEAD, V100.memory_bytes, { gpuCount: 1, batchSize: 15, rank: 16 }), true);
  assert.equal(
    fits(MISTRAL_7B, OVERHEAD, V100.memory_bytes, { gpuCount: 1, batchSize: 16, rank: 16 }),
    false,
  );
});

test("Mistral NeMo fits one A100 40GB at batch 4 up to rank 126, not 127", () => {
  // 42,903,578,624 and 42,960,594,944 bytes against 42,949,672,960
  assert.equal(
    fits(MISTRAL_NEMO, OVERHEAD, A100_40.memory_bytes, { gpuCount: 1, batchSize: 4, rank: 126 }),
    true,
  );
  assert.equal(
    fits(MISTRAL_NEMO, OVERHEAD, A100_40.memory_bytes, { gpuCount: 1, batchSize: 4, rank: 127 }),
    false,
  );
});

test("a setup needing exactly the GPU's memory fits", () => {
  const exact = bytesPerGpu(LLAMA_70B, OVERHEAD, { gpuCount: 2, batchSize: 4, rank: 16 });
  assert.equal(fits(LLAMA_70B, OVERHEAD, exact, { gpuCount: 2, batchSize: 4, rank: 16 }), true);
  assert.equal(fits(LLAMA_70B, OVERHEAD, exact - 1, { gpuCount: 2, batchSize: 4, rank: 16 }), false);
});

test("the fewest GPUs of a type that hold a model, or null past the most the page offers", () => {
  const defaults = { maxCount: 8, batchSize: 4, rank: 16 };
  assert.equal(fewestGpus(MISTRAL_7B, OVERHEAD, V100.memory_bytes, defaults), 1);
  assert.equal(fewestGpus(MISTRAL_NEMO, OVERHEAD, V100.memory_bytes, defaults), 2); // 34.1 GiB on one
  assert.equal(fewestGpus(LLAMA_70B, OVERHEAD, A100_80.memory_bytes, defaults), 2);
  assert.equal(fewestGpus(LLAMA_70B, OVERHEAD, A100_40.memory_bytes, defaults), 4);
  assert.equal(fewestGpus(LLAMA_70B, OVERHEAD, V100.memory_bytes, defaults), 6);
  assert.equal(fewestGpus(LLAMA_70B, OVERHEAD, V100.memory_bytes, { ...defaults, maxCount: 5 }), null);
});

test("the smallest setup is the least GPU memory, then the lower hourly price", () => {
  const defaults = { maxCount: 8, batchSize: 4, rank: 16 };
  // 2 × A100 80GB, 2 × H100 and 4 × A100 40GB all hold 160 GiB: $7.00 an hour is the cheapest
  assert.deepEqual(smallestFittingSetup(LLAMA_70B, OVERHEAD, GPUS, defaults), {
    type: "A100-80GB",
    count: 2,
  });
  assert.deepEqual(smallestFittingSetup(LLAMA_70B, OVERHEAD, [H100, A100_40, A100_80], defaults), {
    type: "A100-80GB",
    count: 2,
  });
  assert.deepEqual(smallestFittingSetup(MISTRAL_NEMO, OVERHEAD, GPUS, defaults), {
    type: "A100-40GB",
    count: 1,
  });
  assert.deepEqual(smallestFittingSetup(MISTRAL_7B, OVERHEAD, GPUS, defaults), {
    type: "V100-32GB",
    count: 1,
  });
  // 1 × V100 no longer holds batch 16: 1 × A100 40GB (40 GiB) beats 2 × V100 (64 GiB)
  assert.deepEqual(smallestFittingSetup(MISTRAL_7B, OVERHEAD, GPUS, { ...defaults, batchSize: 16 }), {
    type: "A100-40GB",
    count: 1,
  });
});

test("no setup at all when none of up to the most GPUs holds the model", () => {
  assert.equal(
    smallestFittingSetup(LLAMA_70B, OVERHEAD, GPUS, { maxCount: 1, batchSize: 4, rank: 16 }),
    null,
  );
  assert.equal(smallestFittingSetup(LLAMA_70B, OVERHEAD, [], { maxCount: 8, batchSize: 4, rank: 16 }), null);
});

test("prices given as strings (as JSON decimals may be) compare as money", () => {
  const asText = GPUS.map((gpu) => ({ ...gpu, price_per_gpu_hour: String(gpu.price_per_gpu_hour) }));
  assert.deepEqual(
    smallestFittingSetup(LLAMA_70B, OVERHEAD, asText, { maxCount: 8, batchSize: 4, rank: 16 }),
    {
      type: "A100-80GB",
      count: 2,
    },
  );
});
