// Paired benchmark of one training step of the scene network: tfjs-mtl (built library, real training loop)
// against the same network in PyTorch (bench/scenes_step_torch.py), alternating runs in their own
// processes. Ends with 'scenes-step ratio R' (median tfjs-mtl ms/step / median PyTorch ms/step).
// Usage: npm run bench:scenes -- [--runs 3] [--steps 30] [--warmup 5] [--threads 2] [--backend wasm]
// (--threads: both sides, tfjs-mtl's wasm kernels and PyTorch's intra-op pool)
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    steps: { type: 'string', default: '30' },
    warmup: { type: 'string', default: '5' },
    threads: { type: 'string', default: '2' },
    backend: { type: 'string', default: 'wasm' },
    python: { type: 'string', default: '/usr/bin/python3' },
  },
});
const runs = Number(values.runs);

function fail(message) {
  console.error(`bench: ${message}`);
  process.exit(1);
}
if (!Number.isInteger(runs) || runs < 1) fail(`--runs must be an integer ≥ 1, got ${values.runs}`);
const runner = fileURLToPath(new URL('./scenes-step-run.mjs', import.meta.url));
const reference = fileURLToPath(new URL('./scenes_step_torch.py', import.meta.url));
if (!existsSync(fileURLToPath(new URL('../dist/scenes/train.js', import.meta.url))))
  fail("the library is not built: run 'npm run build' (or 'npm run bench:scenes')");
const probe = spawnSync(values.python, ['-c', 'import torch'], { encoding: 'utf8' });
if (probe.status !== 0) fail(`${values.python} cannot import torch: run 'apt-get install -y python3-torch'`);

function runJson(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) fail(`${cmd} ${args.join(' ')} failed:\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1));
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const common = ['--steps', values.steps, '--warmup', values.warmup];
const runLib = () =>
  runJson(process.execPath, [runner, ...common, '--backend', values.backend, '--threads', values.threads]);
const runTorch = () => runJson(values.python, [reference, ...common, '--threads', values.threads]);
const lib = [];
const torch = [];
for (let i = 0; i < runs; i++) {
  // alternate which goes first so that drift on the machine hits both alike
  if (i % 2 === 0) {
    lib.push(runLib());
    torch.push(runTorch());
  } else {
    torch.push(runTorch());
    lib.push(runLib());
  }
  const l = lib.at(-1);
  const t = torch.at(-1);
  console.log(
    `run ${i + 1}/${runs}: tfjs-mtl ${l.msPerStep.toFixed(1)} ms/step | PyTorch ${t.msPerStep.toFixed(1)} ms/step ` +
      `(ratio ${(l.msPerStep / t.msPerStep).toFixed(2)})`,
  );
}
const libMs = median(lib.map((r) => r.msPerStep));
const torchMs = median(torch.map((r) => r.msPerStep));
const [l0, t0] = [lib[0], torch[0]];
console.log(
  `\nmedian over ${runs} paired run(s) (batch ${l0.batch}, median of ${values.steps} steps after ${values.warmup} warm-up):`,
);
console.log(
  `  tfjs-mtl ${libMs.toFixed(1)} ms/step (${l0.impl}, ${l0.threads ?? '?'} thread(s)), ` +
    `PyTorch ${torchMs.toFixed(1)} ms/step (${t0.impl}, ${t0.threads} thread(s))`,
);
const paramsNote = l0.params === t0.params ? 'match' : 'DIFFER';
console.log(`  trainable parameters: tfjs-mtl ${l0.params}, PyTorch ${t0.params} (${paramsNote})`);
console.log(`scenes-step ratio ${(libMs / torchMs).toFixed(2)}`);
