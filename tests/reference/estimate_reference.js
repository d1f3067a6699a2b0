// Generates estimate_cases.json: inputs and the reference implementation's outputs.
// The formula below is copied from the spec (POST /api/jobs/estimate) unchanged.
// Run: node tests/reference/estimate_reference.js > tests/reference/estimate_cases.json
const GPU_PRICING = { 'A100-80GB': 3.50, 'A100-40GB': 2.80, 'H100': 4.20, 'V100-32GB': 2.10 };
const GPU_THROUGHPUT = { 'A100-80GB': 1800, 'A100-40GB': 1500, 'H100': 2200, 'V100-32GB': 1200 };

function reference(dataset, gpu_config, hyperparameters) {
  const pricePerGpu = GPU_PRICING[gpu_config.type];
  const throughputPerGpu = GPU_THROUGHPUT[gpu_config.type];
  const hourlyRate = pricePerGpu * gpu_config.count;
  const totalThroughput = throughputPerGpu * gpu_config.count;
  const trainingPairs = dataset.total_training_pairs || 1000;
  const totalTokens = dataset.total_tokens || trainingPairs * 200;
  const stepsPerEpoch = Math.ceil(trainingPairs / hyperparameters.batch_size);
  const totalSteps = stepsPerEpoch * hyperparameters.epochs;
  const avgTokensPerStep = (totalTokens / trainingPairs) * hyperparameters.batch_size;
  const secondsPerStep = avgTokensPerStep / totalThroughput;
  const totalTrainingSeconds = totalSteps * secondsPerStep;
  const overheadSeconds = (10 * 60) + (hyperparameters.epochs * 5 * 60) + (5 * 60);
  const totalSeconds = totalTrainingSeconds + overheadSeconds;
  const estimatedHours = totalSeconds / 3600;
  const computeCost = hourlyRate * estimatedHours;
  const storageCost = 0.50;
  const totalCost = computeCost + storageCost;
  return {
    estimated_cost: parseFloat(totalCost.toFixed(2)),
    cost_breakdown: { compute: parseFloat(computeCost.toFixed(2)), storage: storageCost },
    estimated_duration_hours: parseFloat(estimatedHours.toFixed(2)),
    hourly_rate: parseFloat(hourlyRate.toFixed(2)),
    training_details: {
      total_steps: totalSteps,
      steps_per_epoch: stepsPerEpoch,
      estimated_throughput_tokens_per_sec: totalThroughput,
    },
  };
}

// Deterministic pseudo-random inputs (LCG), plus hand-picked edges.
let seed = 20251225;
const rand = (n) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
const types = Object.keys(GPU_PRICING);
const cases = [];
const add = (name, dataset, gpu, hp) => cases.push({ name, dataset, gpu_config: gpu, hyperparameters: hp, expected: reference(dataset, gpu, hp) });

add('spec example: A100-80GB x2, balanced-ish', { total_training_pairs: 5000, total_tokens: 1200000 }, { type: 'A100-80GB', count: 2 }, { batch_size: 4, epochs: 3, learning_rate: 0.0001, rank: 16 });
add('fallback: pairs and tokens missing', { total_training_pairs: null, total_tokens: null }, { type: 'H100', count: 1 }, { batch_size: 8, epochs: 1, learning_rate: 0.0001, rank: 8 });
add('fallback: pairs and tokens zero', { total_training_pairs: 0, total_tokens: 0 }, { type: 'V100-32GB', count: 3 }, { batch_size: 4, epochs: 3, learning_rate: 0.00005, rank: 16 });
add('fallback: tokens missing only', { total_training_pairs: 2500, total_tokens: null }, { type: 'A100-40GB', count: 2 }, { batch_size: 2, epochs: 5, learning_rate: 0.00003, rank: 32 });
add('fallback: pairs missing, tokens given', { total_training_pairs: null, total_tokens: 333333 }, { type: 'A100-80GB', count: 1 }, { batch_size: 3, epochs: 2, learning_rate: 0.0001, rank: 4 });
add('minimums', { total_training_pairs: 1, total_tokens: 1 }, { type: 'V100-32GB', count: 1 }, { batch_size: 1, epochs: 1, learning_rate: 0.00001, rank: 4 });
add('maximums', { total_training_pairs: 10000000, total_tokens: 4000000000 }, { type: 'H100', count: 8 }, { batch_size: 64, epochs: 20, learning_rate: 0.001, rank: 128 });
add('batch larger than dataset', { total_training_pairs: 10, total_tokens: 5000 }, { type: 'A100-40GB', count: 8 }, { batch_size: 64, epochs: 20, learning_rate: 0.001, rank: 128 });
// Exact binary ties (x.xx5 exactly): toFixed rounds up, Python's round() would round to even.
add('tie: compute 2.625 and total 3.125 round up', { total_training_pairs: 9000, total_tokens: 2700000 }, { type: 'A100-80GB', count: 1 }, { batch_size: 1, epochs: 1, learning_rate: 0.0001, rank: 8 });
add('tie: duration 0.625 rounds up', { total_training_pairs: 9000, total_tokens: 675000 }, { type: 'A100-80GB', count: 1 }, { batch_size: 1, epochs: 2, learning_rate: 0.0001, rank: 8 });
// Doubles printed as x.xx5 but slightly below it: toFixed rounds down; half-up on the text would not.
add('near-tie: compute 1.295 and total 1.795 round down', { total_training_pairs: 7200, total_tokens: 237600 }, { type: 'A100-80GB', count: 1 }, { batch_size: 1, epochs: 1, learning_rate: 0.0001, rank: 8 });
add('near-tie: duration 0.425 rounds down', { total_training_pairs: 360, total_tokens: 27000 }, { type: 'A100-80GB', count: 1 }, { batch_size: 1, epochs: 2, learning_rate: 0.0001, rank: 8 });
for (const type of types) {
  for (const count of [1, 8]) {
    add(`each gpu: ${type} x${count}`, { total_training_pairs: 1234, total_tokens: 456789 }, { type, count }, { batch_size: 7, epochs: 4, learning_rate: 0.0002, rank: 64 });
  }
}
let i = 0;
while (cases.length < 400) {
  i += 1;
  const pairs = rand(5) === 0 ? (rand(2) === 0 ? null : 0) : 1 + rand(200000);
  const tokens = rand(5) === 0 ? (rand(2) === 0 ? null : 0) : 1 + rand(80000000);
  add(`random ${i}`, { total_training_pairs: pairs, total_tokens: tokens },
      { type: types[rand(4)], count: 1 + rand(8) },
      { batch_size: 1 + rand(64), epochs: 1 + rand(20), learning_rate: 0.0001, rank: 4 + rand(125) });
}
process.stdout.write(JSON.stringify(cases, null, 1) + '\n');
