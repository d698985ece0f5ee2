// Paired benchmark of one training step of the scene network: tfjs-mtl (built library, real training loop)
// against the same network in PyTorch (bench/scenes_step_torch.py), each in its own process. Both warm
// up, then run in alternating bursts of a few steps (the other side paused, idle), so that both sides'
// steps are timed under the same conditions of the machine, whose speed drifts ~1.5× within minutes.
// Ends with 'scenes-step ratio R' (median tfjs-mtl ms/step over all timed steps / PyTorch's).
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
if (!Number.isInteger(burst) || burst < 1 || burst > steps)
  fail(`--burst must be an integer from 1 to --steps, got ${values.burst}`);
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

const times = new Map([
  [libSide, []],
  [torchSide, []],
]);
const results = new Map();
/** Lets `s` run its next burst; its step times. */
async function runBurst(s) {
  s.resume();
  const msg = await s.next();
  if (msg.paused !== undefined) {
    times.get(s).push(...msg.paused);
    return msg.paused;
  }
  results.set(s, msg); // the last burst ends with its summary
  const burstTimes = msg.times.slice(times.get(s).length);
  times.get(s).push(...burstTimes);
  return burstTimes;
}
const bursts = Math.ceil(steps / burst);
for (let i = 0; i < bursts; i++) {
  // alternate which goes first
  const order = i % 2 === 0 ? [libSide, torchSide] : [torchSide, libSide];
  const burstMs = new Map();
  for (const s of order) burstMs.set(s, median(await runBurst(s)));
  const l = burstMs.get(libSide);
  const t = burstMs.get(torchSide);
  console.log(
    `burst ${i + 1}/${bursts}: tfjs-mtl ${l.toFixed(1)} ms/step | PyTorch ${t.toFixed(1)} ms/step ` +
      `(ratio ${(l / t).toFixed(2)})`,
  );
}
const l0 = results.get(libSide);
const t0 = results.get(torchSide);
// each side's own summary is the median of all its timed steps
const libMs = l0.msPerStep;
const torchMs = t0.msPerStep;
console.log(
  `\nmedian of ${steps} steps a side in ${bursts} alternating burst(s), after ${values.warmup} warm-up (batch ${l0.batch}):`,
);
console.log(
  `  tfjs-mtl ${libMs.toFixed(1)} ms/step (${l0.impl}, ${l0.threads ?? '?'} thread(s)), ` +
    `PyTorch ${torchMs.toFixed(1)} ms/step (${t0.impl}, ${t0.threads} thread(s))`,
);
const paramsNote = l0.params === t0.params ? 'match' : 'DIFFER';
console.log(`  trainable parameters: tfjs-mtl ${l0.params}, PyTorch ${t0.params} (${paramsNote})`);
console.log(`scenes-step ratio ${(libMs / torchMs).toFixed(2)}`);
