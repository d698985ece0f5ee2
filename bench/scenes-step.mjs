// Paired benchmark of one training step of the scene network: tfjs-mtl (built library, real training loop)
// against the same network in PyTorch (bench/scenes_step_torch.py), each in its own process. Both warm
// up, then run in alternating bursts of a few steps (the other side paused, idle), so that both sides'
// steps are timed under the same conditions of the machine, whose speed drifts ~1.5× within minutes.
// tfjs-mtl logs once a burst (as a run logging every few steps; every step would add a read-back of
// all weights to each). Ends with 'scenes-step ratio R': the median over bursts of tfjs-mtl's mean
// ms/step over PyTorch's.
// Usage: npm run bench:scenes -- [--steps 40] [--burst 5] [--warmup 5] [--threads 2] [--backend wasm]
// (--threads: both sides, tfjs-mtl's wasm kernels and PyTorch's intra-op pool)
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '40' },
    burst: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '5' },
    threads: { type: 'string', default: '2' },
    backend: { type: 'string', default: 'wasm' },
    python: { type: 'string', default: '/usr/bin/python3' },
  },
});
const steps = Number(values.steps);
const burst = Number(values.burst);

function fail(message) {
  console.error(`bench: ${message}`);
  process.exit(1);
}
if (!Number.isInteger(steps) || steps < 1) fail(`--steps must be an integer ≥ 1, got ${values.steps}`);
if (!Number.isInteger(burst) || burst < 1 || steps % burst !== 0)
  fail(`--burst must be an integer ≥ 1 dividing --steps (${steps}), got ${values.burst}`);
if (Number(values.warmup) % burst !== 0)
  fail(`--warmup must be a multiple of --burst (${burst}), got ${values.warmup}`);
const runner = fileURLToPath(new URL('./scenes-step-run.mjs', import.meta.url));
const reference = fileURLToPath(new URL('./scenes_step_torch.py', import.meta.url));
if (!existsSync(fileURLToPath(new URL('../dist/scenes/train.js', import.meta.url))))
  fail("the library is not built: run 'npm run build' (or 'npm run bench:scenes')");
const probe = spawnSync(values.python, ['-c', 'import torch'], { encoding: 'utf8' });
if (probe.status !== 0) fail(`${values.python} cannot import torch: run 'apt-get install -y python3-torch'`);

/** A side's process: JSON lines from its stdout, one at a time; `resume()` ends its pause. */
function side(name, cmd, args) {
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise((resolve) => child.on('close', resolve));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return {
    name,
    /** The next JSON line it prints (other lines are skipped). */
    async next() {
      for (;;) {
        const { value, done } = await lines.next();
        if (done) {
          const code = await exited;
          fail(`${cmd} ${args.join(' ')} exited (${code}) before it finished:\n${stderr}`);
        }
        if (value.startsWith('{')) return JSON.parse(value);
      }
    },
    resume: () => child.stdin.write('\n'),
  };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const common = ['--steps', values.steps, '--warmup', values.warmup, '--burst', values.burst];
const libSide = side('tfjs-mtl', process.execPath, [
  runner,
  ...common,
  '--backend',
  values.backend,
  '--threads',
  values.threads,
]);
const torchSide = side('PyTorch', values.python, [reference, ...common, '--threads', values.threads]);
// both warm up (untimed) and pause
await libSide.next();
await torchSide.next();

const mean = (xs) => xs.reduce((t, x) => t + x, 0) / xs.length;
const counted = new Map([
  [libSide, 0],
  [torchSide, 0],
]);
const results = new Map();
/** Lets `s` run its next burst; its mean ms/step (tfjs-mtl reports it, PyTorch each step's time). */
async function runBurst(s) {
  s.resume();
  const msg = await s.next();
  // the last burst ends with the side's summary, which holds every burst's (or step's) times
  const got = msg.paused ?? msg.times.slice(counted.get(s));
  if (msg.paused === undefined) results.set(s, msg);
  counted.set(s, counted.get(s) + got.length);
  return mean(got);
}
const bursts = steps / burst;
const burstMs = new Map([
  [libSide, []],
  [torchSide, []],
]);
for (let i = 0; i < bursts; i++) {
  // alternate which goes first
  const order = i % 2 === 0 ? [libSide, torchSide] : [torchSide, libSide];
  for (const s of order) burstMs.get(s).push(await runBurst(s));
  const l = burstMs.get(libSide).at(-1);
  const t = burstMs.get(torchSide).at(-1);
  console.log(
    `burst ${i + 1}/${bursts}: tfjs-mtl ${l.toFixed(1)} ms/step | PyTorch ${t.toFixed(1)} ms/step ` +
      `(ratio ${(l / t).toFixed(2)})`,
  );
}
const l0 = results.get(libSide);
const t0 = results.get(torchSide);
const libMs = median(burstMs.get(libSide));
const torchMs = median(burstMs.get(torchSide));
console.log(
  `\nmedian of ${bursts} alternating bursts of ${burst} steps (mean ms/step each), after ${values.warmup} ` +
    `warm-up steps (batch ${l0.batch}):`,
);
console.log(
  `  tfjs-mtl ${libMs.toFixed(1)} ms/step (${l0.impl}, ${l0.threads ?? '?'} thread(s)), ` +
    `PyTorch ${torchMs.toFixed(1)} ms/step (${t0.impl}, ${t0.threads} thread(s))`,
);
const paramsNote = l0.params === t0.params ? 'match' : 'DIFFER';
console.log(`  trainable parameters: tfjs-mtl ${l0.params}, PyTorch ${t0.params} (${paramsNote})`);
console.log(`scenes-step ratio ${(libMs / torchMs).toFixed(2)}`);
