// @ts-check
// Which GPU setups can train a base model with LoRA at a batch size and rank: the catalog's memory rule
// (shared/pipeline/catalog/memory_fit.py, docs/base-models.md), in whole bytes. Pure: no DOM, no fetch.
// A test holds every figure equal to the server's, which refuses a setup this says does not fit.
//
// Per GPU of `count` GPUs (weights and LoRA states sharded across them, the batch split across them):
//   needed = ceil((weights + rank × LoRA bytes per rank) / count)
//          + ceil(batch / count) × activation bytes per sequence + overhead

/**
 * @typedef {{weight_bytes: number, lora_bytes_per_rank: number, activation_bytes_per_sequence: number}} ModelMemory
 *   a base model's memory terms (catalog base_models[].memory)
 * @typedef {{id: string, memory_bytes: number, price_per_gpu_hour: number | string}} GpuType
 *   a GPU type as the catalog lists it (gpu_types[])
 * @typedef {{gpuCount: number, batchSize: number, rank: number}} Setting
 * @typedef {{maxCount: number, batchSize: number, rank: number}} Search
 * @typedef {{type: string, count: number}} GpuSetup
 */

/**
 * ceil(numerator / denominator) for whole numbers below 2^53, exactly (a float quotient alone can
 * round across a whole number).
 * @param {number} numerator
 * @param {number} denominator
 */
function ceilDiv(numerator, denominator) {
  let quotient = Math.ceil(numerator / denominator);
  while (quotient * denominator < numerator) quotient += 1;
  while ((quotient - 1) * denominator >= numerator) quotient -= 1;
  return quotient;
}

/**
 * The bytes each GPU needs.
 * @param {ModelMemory} memory
 * @param {number} overheadBytes the catalog's memory_rule.overhead_bytes
 * @param {Setting} setting
 * @returns {number}
 */
export function bytesPerGpu(memory, overheadBytes, { gpuCount, batchSize, rank }) {
  const sharded = memory.weight_bytes + rank * memory.lora_bytes_per_rank;
  const microBatch = ceilDiv(batchSize, gpuCount);
  return ceilDiv(sharded, gpuCount) + microBatch * memory.activation_bytes_per_sequence + overheadBytes;
}

/**
 * Whether `gpuCount` GPUs of `gpuMemoryBytes` each hold the model at this batch size and rank.
 * @param {ModelMemory} memory
 * @param {number} overheadBytes
 * @param {number} gpuMemoryBytes
 * @param {Setting} setting
 */
export function fits(memory, overheadBytes, gpuMemoryBytes, setting) {
  return bytesPerGpu(memory, overheadBytes, setting) <= gpuMemoryBytes;
}

/**
 * The fewest GPUs of one type that hold the model (more never hold less), or null when even
 * `maxCount` do not.
 * @param {ModelMemory} memory
 * @param {number} overheadBytes
 * @param {number} gpuMemoryBytes
 * @param {Search} search
 * @returns {number | null}
 */
export function fewestGpus(memory, overheadBytes, gpuMemoryBytes, { maxCount, batchSize, rank }) {
  for (let gpuCount = 1; gpuCount <= maxCount; gpuCount += 1) {
    if (fits(memory, overheadBytes, gpuMemoryBytes, { gpuCount, batchSize, rank })) return gpuCount;
  }
  return null;
}

/**
 * The setup with the least GPU memory in all that fits, the cheaper per hour on a tie (the first
 * listed on a tie of both), or null when no setup of up to `maxCount` GPUs fits.
 * @param {ModelMemory} memory
 * @param {number} overheadBytes
 * @param {GpuType[]} gpuTypes
 * @param {Search} search
 * @returns {GpuSetup | null}
 */
export function smallestFittingSetup(memory, overheadBytes, gpuTypes, { maxCount, batchSize, rank }) {
  /** @type {{setup: GpuSetup, memoryBytes: number, cents: number} | null} */
  let best = null;
  for (const gpu of gpuTypes) {
    const centsPerGpu = Math.round(Number(gpu.price_per_gpu_hour) * 100); // whole cents: exact sums
    for (let count = 1; count <= maxCount; count += 1) {
      if (!fits(memory, overheadBytes, gpu.memory_bytes, { gpuCount: count, batchSize, rank })) continue;
      const candidate = {
        setup: { type: gpu.id, count },
        memoryBytes: count * gpu.memory_bytes,
        cents: count * centsPerGpu,
      };
      if (
        best === null ||
        candidate.memoryBytes < best.memoryBytes ||
        (candidate.memoryBytes === best.memoryBytes && candidate.cents < best.cents)
      ) {
        best = candidate;
      }
    }
  }
  return best === null ? null : best.setup;
}
