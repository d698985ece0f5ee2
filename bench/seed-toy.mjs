// Paired benchmark of the seed experiment: tfjs-mtl (public API) against the PyTorch reference program,
// alternating runs on the same machine. Ends with 'seed-toy ratio R' (median library training wall /
// median PyTorch training wall). Usage: npm run bench -- [--runs 3] [--backend wasm] [--epochs 2000]
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    backend: { type: 'string', default: 'wasm' },
    epochs: { type: 'string', default: '2000' },
    // the seed's towers are tiny: threads cost more than they give (see docs/performance.md)
    threads: { type: 'string', default: '1' },
    python: { type: 'string', default: '/usr/bin/python3' },
    reference: {
      type: 'string',
      default: fileURLToPath(new URL('../../shared/reference/seed_torch.py', import.meta.url)),
    },
  },
});
const runs = Number(values.runs);

function fail(message) {
  console.error(`bench: ${message}`);
  process.exit(1);
}
if (!existsSync(values.reference))
  fail(`PyTorch reference not found at ${values.reference} (--reference PATH)`);
const probe = spawnSync(values.python, ['-c', 'import torch'], { encoding: 'utf8' });
if (probe.status !== 0) fail(`${values.python} cannot import torch: run 'apt-get install -y python3-torch'`);

function runJson(cmd, args) {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 26 });
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0) fail(`${cmd} ${args.join(' ')} failed:\n${r.stderr}`);
  const line = r.stdout.trim().split('\n').at(-1);
  return { ...JSON.parse(line), wall };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const runner = fileURLToPath(new URL('./seed-toy-run.mjs', import.meta.url));
const lib = [];
const torch = [];
for (let i = 0; i < runs; i++) {
  // alternate which goes first so that drift on the machine hits both alike
  const pair =
    i % 2 === 0
      ? [
          () => torch.push(runJson(values.python, [values.reference, '--quiet', '--epochs', values.epochs])),
          () =>
            lib.push(runJson(process.execPath, [runner, values.backend, values.epochs, '0', values.threads])),
        ]
      : [
          () =>
            lib.push(runJson(process.execPath, [runner, values.backend, values.epochs, '0', values.threads])),
          () => torch.push(runJson(values.python, [values.reference, '--quiet', '--epochs', values.epochs])),
        ];
  pair.forEach((f) => f());
  const l = lib.at(-1);
  const t = torch.at(-1);
  console.log(
    `run ${i + 1}/${runs}: tfjs-mtl ${l.train_s.toFixed(2)} s (σ ${l.stds.map((s) => s.toFixed(4)).join(', ')}) | ` +
      `PyTorch ${t.train_s.toFixed(2)} s (σ ${t.stds_final.map((s) => s.toFixed(4)).join(', ')})`,
  );
}
const libTrain = median(lib.map((r) => r.train_s));
const torchTrain = median(torch.map((r) => r.train_s));
const libWall = median(lib.map((r) => r.wall));
const torchWall = median(torch.map((r) => r.wall));
console.log(
  `\nmedian over ${runs} paired runs (${values.epochs} epochs, ${lib[0].steps} steps, backend ${values.backend}):`,
);
console.log(
  `  training wall: tfjs-mtl ${libTrain.toFixed(2)} s (${lib[0].threads} thread(s)), PyTorch ${torchTrain.toFixed(2)} s (${torch[0].threads} thread(s), torch ${torch[0].torch})`,
);
console.log(
  `  process wall:  tfjs-mtl ${libWall.toFixed(2)} s, PyTorch ${torchWall.toFixed(2)} s (ratio ${(libWall / torchWall).toFixed(2)})`,
);
console.log(`seed-toy ratio ${(libTrain / torchTrain).toFixed(2)}`);
