/**
 * The seed experiment, trained live in the browser: two noisy regressions, one tower each, and a
 * weighting strategy; plots of the fit, the losses, the learned σ̂ and the effective task weights. The
 * noise can grow with x, and the towers can be heteroscedastic (a mean and a σ̂(x) per sample).
 * Loads nothing but its own files (the wasm binaries are bundled by vite).
 */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import {
  Trainer,
  equalWeighting,
  fixedWeighting,
  generateSeedToyData,
  outputUnits,
  registerLeanGradients,
  registerWasmTrainingKernels,
  regressionTask,
  seedToyNoiseFactor,
  towersModel,
  uncertaintyWeighting,
  type EpochEvent,
  type SeedToyNoise,
  type Task,
  type WeightingStrategy,
} from '../src/index.js';
import { LOG_VARIANCE_LIMIT, heteroscedasticRegressionTask } from '../src/tasks/heteroscedastic.js';
import { Chart } from './chart.js';
import { setupCsvTab } from './csv.js';

/** 'error': the chosen backend could not be set up (the reason follows in #status); pick another. */
type Status = 'idle' | 'training' | 'paused' | 'done' | 'error';
type WeightingKind = 'uncertainty' | 'equal' | 'fixed';
type BackendName = 'wasm' | 'webgl' | 'webgpu' | 'cpu';
type ModelKind = 'homoscedastic' | 'heteroscedastic';

interface Config {
  trueSigma: [number, number];
  noise: SeedToyNoise;
  model: ModelKind;
  n: number;
  seed: number;
  hidden: number;
  batchSize: number;
  learningRate: number;
  sigmaLearningRate: number | undefined;
  weighting: WeightingKind;
  fixedWeights: [number, number];
  backend: BackendName;
}

interface Series {
  epoch: number[];
  total: number[];
  loss: [number[], number[]];
  sigma: [number[], number[]];
  rmse: [number[], number[]];
  weight: [number[], number[]];
}

interface Session {
  config: Config;
  x: Float64Array;
  y: [Float64Array, Float64Array];
  xT: tf.Tensor2D;
  targets: tf.Tensor2D[];
  grid: Float64Array;
  gridT: tf.Tensor2D;
  /** The indices of the data's smallest and largest x in the grid. */
  gridEnds: [number, number];
  /** The true noise σ(x) on the grid, per task. */
  trueSigmaGrid: [Float64Array, Float64Array];
  /** The root mean square of the true σ(x) over the data, per task (σ itself for constant noise). */
  trueSigmaRms: [number, number];
  model: tf.LayersModel;
  weighting: WeightingStrategy;
  trainer: Trainer;
  series: Series;
  epochsDone: number;
  /** Latest predicted means on the grid, per task. */
  curve: [Float32Array, Float32Array] | null;
  /** Latest predicted σ̂(x) on the grid, per task (heteroscedastic model only). */
  curveSigma: [Float32Array, Float32Array] | null;
  /** σ used for the bands: learned σ̂, or the residual RMSE when the strategy learns none. */
  bandSigma: [number, number];
}

const TASKS = ['y1', 'y2'] as const;
const COLORS = ['#d9480f', '#1c7ed6'] as const;
const BAND_COLORS = ['rgba(217,72,15,0.14)', 'rgba(28,126,214,0.18)'] as const;
const POINT_COLORS = ['rgba(217,72,15,0.55)', 'rgba(28,126,214,0.65)'] as const;
const GRID_POINTS = 120;
/** Grid steps drawn beyond the data's x range on either side. */
const GRID_PAD = 5;
const MAX_DRAWN_POINTS = 2000;
const PREDICT_EVERY_MS = 150;

// ---------------------------------------------------------------- DOM

function el<T extends HTMLElement = HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (!e) throw new Error(`#${id} is missing`);
  return e as T;
}

const ui = {
  settings: el<HTMLFieldSetElement>('settings'),
  sigma1True: el<HTMLInputElement>('sigma1-true'),
  sigma2True: el<HTMLInputElement>('sigma2-true'),
  noise: el<HTMLSelectElement>('noise'),
  model: el<HTMLSelectElement>('model'),
  n: el<HTMLInputElement>('n'),
  seed: el<HTMLInputElement>('seed'),
  hidden: el<HTMLInputElement>('hidden'),
  batch: el<HTMLInputElement>('batch'),
  lr: el<HTMLInputElement>('lr'),
  sigmaLr: el<HTMLInputElement>('sigma-lr'),
  weighting: el<HTMLSelectElement>('weighting'),
  w1: el<HTMLInputElement>('w1'),
  w2: el<HTMLInputElement>('w2'),
  backend: el<HTMLSelectElement>('backend'),
  epochs: el<HTMLInputElement>('epochs'),
  start: el<HTMLButtonElement>('start'),
  pause: el<HTMLButtonElement>('pause'),
  reset: el<HTMLButtonElement>('reset'),
  hint: el('hint'),
  status: el('status'),
  backendName: el('backend-name'),
  epoch: el('epoch'),
  epochTotal: el('epoch-total'),
  steps: el('steps'),
  speed: el('speed'),
  sigma: [el('sigma-1'), el('sigma-2')] as const,
  truth: [el('truth-1'), el('truth-2')] as const,
  message: el('message'),
  taskLossCaption: el('task-loss-caption'),
};

const charts = {
  data: new Chart(el<HTMLCanvasElement>('plot-data')),
  sigma: new Chart(el<HTMLCanvasElement>('plot-sigma')),
  weights: new Chart(el<HTMLCanvasElement>('plot-weights')),
  taskLoss: new Chart(el<HTMLCanvasElement>('plot-task-loss')),
  totalLoss: new Chart(el<HTMLCanvasElement>('plot-total-loss')),
};

// ---------------------------------------------------------------- settings

class InputError extends Error {}

function num(input: HTMLInputElement, name: string, check: (v: number) => boolean, rule: string): number {
  const v = Number(input.value);
  if (input.value.trim() === '' || !Number.isFinite(v) || !check(v)) {
    throw new InputError(`${name} must be ${rule}, got '${input.value}'`);
  }
  return v;
}

const positiveInt = (v: number) => Number.isInteger(v) && v >= 1;

function readConfig(): Config {
  const nonNegative = (v: number) => v >= 0;
  const positive = (v: number) => v > 0;
  const model = ui.model.value as ModelKind;
  // a heteroscedastic head's NLL can be negative and already weighs each sample: the tasks are summed
  const weighting = model === 'heteroscedastic' ? 'equal' : (ui.weighting.value as WeightingKind);
  return {
    trueSigma: [
      num(ui.sigma1True, 'true σ1', nonNegative, '≥ 0'),
      num(ui.sigma2True, 'true σ2', nonNegative, '≥ 0'),
    ],
    noise: ui.noise.value as SeedToyNoise,
    model,
    n: num(ui.n, 'N', (v) => Number.isInteger(v) && v >= 2 && v <= 1e6, 'an integer in [2, 10⁶]'),
    seed: num(ui.seed, 'data seed', (v) => Number.isInteger(v) && v >= 0 && v < 2 ** 32, 'an integer ≥ 0'),
    hidden: num(ui.hidden, 'hidden units', positiveInt, 'a positive integer'),
    batchSize: num(ui.batch, 'batch size', positiveInt, 'a positive integer'),
    learningRate: num(ui.lr, 'learning rate', positive, '> 0'),
    sigmaLearningRate:
      ui.sigmaLr.value.trim() === ''
        ? undefined
        : num(ui.sigmaLr, 'σ learning rate', positive, '> 0 or empty'),
    weighting,
    fixedWeights:
      weighting === 'fixed'
        ? [num(ui.w1, 'w1', nonNegative, '≥ 0'), num(ui.w2, 'w2', nonNegative, '≥ 0')]
        : [1, 1],
    backend: ui.backend.value as BackendName,
  };
}

function readEpochs(): number {
  return num(ui.epochs, 'epochs', positiveInt, 'a positive integer');
}

// ---------------------------------------------------------------- backends

/** Setting up a backend failed: shown in #status, the settings stay open to pick another. */
class BackendError extends Error {}

/** A backend that did not come up within this long counts as failed (a stuck GPU process never answers). */
const BACKEND_TIMEOUT_MS = 30_000;

let wasmReady = false;
/** Why a backend failed to initialise (TF.js drops a failed backend from its registry: keep the reason). */
const backendFailures = new Map<BackendName, string>();

/** The part of WebGPU used here (TypeScript's DOM library has no WebGPU types). */
interface GpuAdapterLike {
  readonly info?: { vendor?: string; architecture?: string; description?: string };
}
interface GpuLike {
  requestAdapter(options?: {
    powerPreference?: 'low-power' | 'high-performance';
  }): Promise<GpuAdapterLike | null>;
}

function navigatorGpu(): GpuLike | undefined {
  return (navigator as Navigator & { gpu?: GpuLike }).gpu;
}

const WEBGPU_HINT =
  'headless Chromium offers one with --enable-unsafe-webgpu --enable-features=Vulkan --use-webgpu-adapter=swiftshader';

function noNavigatorGpu(): string {
  return window.isSecureContext
    ? 'this browser exposes no navigator.gpu (WebGPU is off or unsupported)'
    : 'navigator.gpu needs a secure context (https or localhost); this page is not one';
}

/**
 * Why WebGPU cannot run here, or the adapter it would use. Asks for the adapter the way TF.js's
 * WebGPU backend does (high-performance).
 */
async function webgpuProblem(): Promise<{ problem: string } | { adapter: GpuAdapterLike }> {
  const gpu = navigatorGpu();
  if (!gpu) return { problem: noNavigatorGpu() };
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter)
    return { problem: `navigator.gpu.requestAdapter() returned null: no WebGPU adapter (${WEBGPU_HINT})` };
  return { adapter };
}

function webglAvailable(): boolean {
  try {
    const canvas = document.createElement('canvas');
    return (canvas.getContext('webgl2') ?? canvas.getContext('webgl')) !== null;
  } catch {
    return false;
  }
}

/** Greys out a backend the browser cannot run; its tooltip says why. */
function markUnavailable(name: BackendName, reason: string): void {
  const option = Array.from(ui.backend.options).find((o) => o.value === name);
  if (!option) return;
  option.disabled = true;
  option.textContent = `${name} (unavailable)`;
  option.title = reason;
}

/**
 * What can be told without trying: WebAssembly, a WebGL context, navigator.gpu. Whether a WebGPU adapter
 * exists is only asked when webgpu is chosen (Chromium warns "No available adapters." on the console
 * otherwise); a backend that fails then is greyed out with its reason.
 */
function markUnavailableBackends(): void {
  if (typeof WebAssembly !== 'object') markUnavailable('wasm', 'this browser has no WebAssembly');
  if (!webglAvailable()) markUnavailable('webgl', 'this browser gives no WebGL or WebGL2 context');
  if (!navigatorGpu()) markUnavailable('webgpu', noNavigatorGpu());
  if (ui.backend.selectedOptions[0]?.disabled) ui.backend.value = 'cpu';
}

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new BackendError(`${what} did not finish within ${BACKEND_TIMEOUT_MS / 1000} s`)),
      BACKEND_TIMEOUT_MS,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** What runs the backend: the WebGL renderer or the WebGPU adapter (shown as the readout's tooltip). */
let backendDevice = '';

async function prepareBackend(name: BackendName): Promise<void> {
  if (name === 'wasm' && !wasmReady) {
    // the binaries are served by this page; the threaded one is only picked when cross-origin isolated
    setWasmPaths({
      'tfjs-backend-wasm.wasm': wasmUrl,
      'tfjs-backend-wasm-simd.wasm': wasmSimdUrl,
      'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedUrl,
    });
    registerWasmTrainingKernels();
    wasmReady = true;
  }
  if (name === 'webgl' && !webglAvailable()) {
    throw new BackendError('this browser gives no WebGL or WebGL2 context');
  }
  if (name === 'webgpu') {
    const r = await withTimeout(webgpuProblem(), 'navigator.gpu.requestAdapter()');
    if ('problem' in r) throw new BackendError(r.problem);
    const info = r.adapter.info;
    backendDevice = info
      ? [info.vendor, info.architecture, info.description].filter((v) => v).join(' ') || 'WebGPU adapter'
      : 'WebGPU adapter';
    // loaded only when chosen (a chunk of its own); registers the 'webgpu' backend with TF.js
    await import('@tensorflow/tfjs-backend-webgpu');
  }
}

function describeDevice(name: string): string {
  if (name === 'webgl') {
    const gl = document.createElement('canvas').getContext('webgl2');
    const info = gl?.getExtension('WEBGL_debug_renderer_info');
    const renderer = gl && info ? String(gl.getParameter(info.UNMASKED_RENDERER_WEBGL)) : 'WebGL';
    return `WebGL ${tf.env().getNumber('WEBGL_VERSION')}, ${renderer}`;
  }
  if (name === 'webgpu') return backendDevice;
  return name === 'wasm' ? 'WebAssembly' : 'JavaScript';
}

/**
 * Training reads values synchronously (dataSync: batches, losses, σ̂) every step: check once that such a
 * read returns what was computed. tfjs-backend-webgpu 4.22 reads synchronously by drawing a WebGPU canvas
 * into a 2D canvas; headless Chromium 156 on SwiftShader returns blank pixels for that (zeros) and then
 * destroys the device, so every later step fails ("createBuffer failed ... mappedAtCreation").
 */
function checkSyncRead(name: BackendName): void {
  // 4096 values: large enough that a GPU backend computes them itself (small ones may run on the CPU)
  const size = 4096;
  const sum = tf.tidy(() => tf.add(tf.range(0, size), tf.scalar(1)));
  let got: number[];
  try {
    got = Array.from(sum.dataSync());
  } finally {
    sum.dispose();
  }
  const wrong = got.findIndex((v, i) => v !== i + 1);
  if (got.length !== size || wrong >= 0) {
    throw new BackendError(
      `a synchronous read (dataSync, which training does every step) of 1, 2, …, ${size} computed here ` +
        `returned ${got[wrong] ?? 'nothing'} at position ${wrong + 1}` +
        (name === 'webgpu'
          ? ': tfjs-backend-webgpu reads by drawing a WebGPU canvas into a 2D canvas, and this browser ' +
            'gives blank pixels for it (headless Chromium on SwiftShader does)'
          : ''),
    );
  }
}

async function useBackend(name: BackendName): Promise<void> {
  if (tf.getBackend() === name) return;
  const failed = backendFailures.get(name);
  if (failed) throw new BackendError(failed);
  try {
    await prepareBackend(name);
    if (!tf.findBackendFactory(name)) throw new BackendError(`TF.js has no '${name}' backend registered`);
    const ok = await withTimeout(tf.setBackend(name), `tf.setBackend('${name}')`);
    if (!ok)
      throw new BackendError(`tf.setBackend('${name}') returned false (the console has TF.js's reason)`);
    await tf.ready();
    checkSyncRead(name);
  } catch (err) {
    const reason = `the ${name} backend failed to initialise: ${err instanceof Error ? err.message : String(err)}`;
    backendFailures.set(name, reason);
    markUnavailable(name, reason);
    // a backend that came up but cannot train is dropped (TF.js then has none active until the next choice)
    if (tf.getBackend() === name) {
      try {
        tf.removeBackend(name);
      } catch {
        // its device may be gone already; the next backend chosen replaces it as TF.js's active one
      }
    }
    throw new BackendError(reason);
  }
}

// ---------------------------------------------------------------- sessions

function makeWeighting(config: Config, tasks: Task[]): WeightingStrategy {
  switch (config.weighting) {
    case 'uncertainty':
      return uncertaintyWeighting(tasks, {
        form: 'seed',
        ...(config.sigmaLearningRate !== undefined ? { learningRate: config.sigmaLearningRate } : {}),
      });
    case 'equal':
      return equalWeighting(tasks);
    case 'fixed':
      return fixedWeighting(tasks, { weights: config.fixedWeights });
  }
}

function createSession(config: Config): Session {
  // the seed's gen_data: X, then the Y1 noise, then the Y2 noise, as numpy draws them
  const data = generateSeedToyData({
    n: config.n,
    seed: config.seed,
    sigma: config.trueSigma,
    noise: config.noise,
  });
  const x = data.x;
  const y: [Float64Array, Float64Array] = [data.y[0], data.y[1]];
  const n = x.length;
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of x) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  // the data's range and GRID_PAD steps beyond it on either side: grid[GRID_PAD] is the smallest x
  const inner = GRID_POINTS - 1 - 2 * GRID_PAD;
  const grid = Float64Array.from(
    { length: GRID_POINTS },
    (_, i) => lo + ((hi - lo || 1) * (i - GRID_PAD)) / inner,
  );
  const trueSigmaAt = (t: number) =>
    grid.map((g) => config.trueSigma[t]! * seedToyNoiseFactor(config.noise, g, lo, hi));
  const trueSigmaRms = (t: number) => {
    if (config.noise === 'constant') return config.trueSigma[t]!;
    let sum = 0;
    for (const v of x) sum += (config.trueSigma[t]! * seedToyNoiseFactor(config.noise, v, lo, hi)) ** 2;
    return Math.sqrt(sum / n);
  };
  const tasks: Task[] = TASKS.map((name) =>
    config.model === 'heteroscedastic' ? heteroscedasticRegressionTask({ name }) : regressionTask({ name }),
  );
  const model = towersModel({
    inputDim: 1,
    outputs: tasks.map(outputUnits),
    hidden: [config.hidden],
    init: 'pytorch',
    seed: config.seed,
  });
  const weighting = makeWeighting(config, tasks);
  const trainer = new Trainer({
    model,
    tasks,
    weighting,
    optimizer: { learningRate: config.learningRate, epsilon: 1e-7 },
  });
  const session: Session = {
    config,
    x,
    y,
    xT: tf.tensor2d(Float32Array.from(x), [n, 1]),
    targets: y.map((t) => tf.tensor2d(Float32Array.from(t), [n, 1])),
    grid,
    gridT: tf.tensor2d(Float32Array.from(grid), [GRID_POINTS, 1]),
    gridEnds: [GRID_PAD, GRID_POINTS - 1 - GRID_PAD],
    trueSigmaGrid: [trueSigmaAt(0), trueSigmaAt(1)],
    trueSigmaRms: [trueSigmaRms(0), trueSigmaRms(1)],
    model,
    weighting,
    trainer,
    series: { epoch: [], total: [], loss: [[], []], sigma: [[], []], rmse: [[], []], weight: [[], []] },
    epochsDone: 0,
    curve: null,
    curveSigma: null,
    bandSigma: sigmasOf(weighting) ?? [NaN, NaN],
  };
  predictCurve(session);
  // before training: the residual RMSE of the initial fit, for strategies without a σ̂
  if (!weighting.sigmas) session.bandSigma = residualRmse(session);
  return session;
}

function disposeSession(s: Session): void {
  s.trainer.dispose();
  s.weighting.dispose();
  s.model.dispose();
  s.xT.dispose();
  s.targets.forEach((t) => t.dispose());
  s.gridT.dispose();
}

function sigmasOf(w: WeightingStrategy): [number, number] | null {
  const s = w.sigmas?.();
  return s ? [s[0]!, s[1]!] : null;
}

/**
 * A tower's output rows as means and, for the heteroscedastic head ([mean, log σ²] per row), σ̂ =
 * e^(s/2) with s clipped as the loss clips it.
 */
function meanAndSigma(
  out: tf.Tensor,
  heteroscedastic: boolean,
): { mean: Float32Array; sigma: Float32Array | null } {
  const v = out.dataSync() as Float32Array;
  if (!heteroscedastic) return { mean: v, sigma: null };
  const rows = out.shape[0];
  const mean = new Float32Array(rows);
  const sigma = new Float32Array(rows);
  for (let i = 0; i < rows; i++) {
    mean[i] = v[2 * i]!;
    const logVariance = Math.min(LOG_VARIANCE_LIMIT, Math.max(-LOG_VARIANCE_LIMIT, v[2 * i + 1]!));
    sigma[i] = Math.exp(logVariance / 2);
  }
  return { mean, sigma };
}

function predictCurve(s: Session): void {
  const outs = s.trainer.predict(s.gridT);
  const hetero = s.config.model === 'heteroscedastic';
  const [a, b] = outs.map((o) => meanAndSigma(o, hetero));
  outs.forEach((o) => o.dispose());
  s.curve = [a!.mean, b!.mean];
  s.curveSigma = a!.sigma && b!.sigma ? [a!.sigma, b!.sigma] : null;
}

function residualRmse(s: Session): [number, number] {
  const outs = s.trainer.predict(s.xT);
  const r = outs.map((o, t) => {
    const p = meanAndSigma(o, s.config.model === 'heteroscedastic').mean;
    const y = s.y[t]!;
    let sum = 0;
    for (let i = 0; i < y.length; i++) sum += (y[i]! - p[i]!) ** 2;
    return Math.sqrt(sum / y.length);
  });
  outs.forEach((o) => o.dispose());
  return [r[0]!, r[1]!];
}

// ---------------------------------------------------------------- state machine

let status: Status = 'idle';
let session: Session | null = null;
let controller: AbortController | null = null;
let running: Promise<void> | null = null;
/** Set-up work (backend switches, rebuilds) runs one job at a time, in order. */
let queue: Promise<void> = Promise.resolve();

function enqueue(job: () => Promise<void> | void): Promise<void> {
  queue = queue.then(job).catch((err: unknown) => showError(err));
  return queue;
}

function showError(err: unknown): void {
  const text = err instanceof Error ? err.message : String(err);
  ui.message.textContent = text;
  if (err instanceof BackendError) {
    setStatus('error');
    ui.status.textContent = `error: ${text}`;
    ui.backendName.textContent = '—';
    ui.backendName.title = '';
    // an expected condition of this browser, reported on the page: not a console error
    console.info(text);
  } else if (!(err instanceof InputError)) console.error(err);
}

function setStatus(next: Status): void {
  status = next;
  ui.status.textContent = next;
  ui.status.dataset['status'] = next;
  ui.start.disabled = next === 'training';
  ui.start.textContent = next === 'paused' || next === 'done' ? 'Continue' : 'Start';
  ui.pause.disabled = next !== 'training';
  ui.settings.disabled = next !== 'idle' && next !== 'error';
  ui.hint.textContent =
    next === 'idle' || next === 'error'
      ? 'Settings above apply at once; epochs can change any time.'
      : 'Reset to change the settings above.';
}

async function rebuild(): Promise<void> {
  settingsDirty = false;
  const config = readConfig();
  if (session) {
    disposeSession(session);
    session = null;
  }
  await useBackend(config.backend);
  const active = tf.getBackend();
  ui.backendName.textContent = active;
  ui.backendName.title = describeDevice(active);
  session = createSession(config);
  ui.message.textContent = '';
  if (status === 'error') setStatus('idle');
  requestDraw();
}

function start(): void {
  if (status === 'training') return;
  // settings changed a moment ago: apply them before training
  clearTimeout(rebuildTimer);
  if (settingsDirty && status === 'idle') void enqueue(rebuild);
  void enqueue(async () => {
    if (status === 'training') return;
    const epochs = readEpochs();
    if (!session) await rebuild();
    const s = session!;
    if (s.epochsDone >= epochs) {
      setStatus('done');
      return;
    }
    ui.message.textContent = '';
    running = train(s, epochs);
  });
}

async function train(s: Session, epochs: number): Promise<void> {
  const ctrl = new AbortController();
  controller = ctrl;
  setStatus('training');
  const started = performance.now();
  const stepsBefore = s.trainer.steps;
  let lastPredict = 0;
  let stepsAtLastEvent = stepsBefore;
  try {
    await s.trainer.fit(
      { x: s.xT, targets: s.targets },
      {
        epochs: epochs - s.epochsDone,
        batchSize: s.config.batchSize,
        // a different shuffling stream for each resumed run, reproducible from the data seed
        seed: (s.config.seed + s.epochsDone) % 2 ** 32,
        signal: ctrl.signal,
        yieldEveryMs: 16,
        onEpochEnd: (e) => {
          record(s, e, s.trainer.steps - stepsAtLastEvent);
          stepsAtLastEvent = s.trainer.steps;
          const now = performance.now();
          if (now - lastPredict >= PREDICT_EVERY_MS) {
            predictCurve(s);
            lastPredict = now;
          }
          const elapsed = (now - started) / 1000;
          ui.speed.textContent = `${Math.round((s.trainer.steps - stepsBefore) / Math.max(elapsed, 1e-3))} steps/s`;
          requestDraw();
        },
      },
    );
    if (session !== s) return;
    predictCurve(s);
    setStatus(ctrl.signal.aborted ? 'paused' : 'done');
  } catch (err) {
    showError(err);
    if (session === s) setStatus('paused');
  } finally {
    if (controller === ctrl) controller = null;
    running = null;
    requestDraw();
  }
}

/** Records an epoch's event; a Pause mid-epoch ends a partial epoch, plotted at its fraction. */
function record(s: Session, e: EpochEvent, steps: number): void {
  const perEpoch = Math.ceil(s.x.length / s.config.batchSize);
  const sr = s.series;
  if (steps >= perEpoch) {
    s.epochsDone++;
    sr.epoch.push(s.epochsDone);
  } else {
    sr.epoch.push(s.epochsDone + steps / perEpoch);
  }
  sr.total.push(e.loss);
  const learned = e.sigmas;
  TASKS.forEach((name, t) => {
    sr.loss[t]!.push(e.taskLosses[name] ?? NaN);
    sr.weight[t]!.push(e.weights[name] ?? NaN);
    sr.sigma[t]!.push(learned?.[name] ?? NaN);
    sr.rmse[t]!.push(e.metrics?.train[name]?.['rmse'] ?? NaN);
  });
  const last = (a: number[]) => a[a.length - 1]!;
  s.bandSigma = learned
    ? [learned[TASKS[0]]!, learned[TASKS[1]]!]
    : ([last(sr.rmse[0]), last(sr.rmse[1])].map((v, t) => (Number.isFinite(v) ? v : s.bandSigma[t]!)) as [
        number,
        number,
      ]);
}

function pause(): void {
  controller?.abort();
}

function reset(): void {
  controller?.abort();
  void enqueue(async () => {
    await running;
    await rebuild();
    setStatus('idle');
  });
}

// ---------------------------------------------------------------- drawing

let drawPending = false;

function requestDraw(): void {
  if (drawPending) return;
  drawPending = true;
  requestAnimationFrame(() => {
    drawPending = false;
    draw();
  });
}

function fmt(v: number): string {
  if (!Number.isFinite(v)) return '—';
  return v >= 100 ? v.toFixed(1) : v >= 10 ? v.toFixed(2) : v.toFixed(3);
}

function draw(): void {
  const s = session;
  let epochsTarget = NaN;
  try {
    epochsTarget = readEpochs();
  } catch {
    // shown when Start is pressed
  }
  ui.epochTotal.textContent = Number.isFinite(epochsTarget) ? String(epochsTarget) : '?';
  if (!s) return;
  const cfg = s.config;
  ui.epoch.textContent = String(s.epochsDone);
  ui.steps.textContent = String(s.trainer.steps);
  const learned = sigmasOf(s.weighting);
  const curve = s.curve;
  const curveSigma = s.curveSigma;
  const [left, right] = s.gridEnds;
  // the band's half-width on the grid: σ̂(x) for the heteroscedastic model, one σ̂ (or RMSE) otherwise
  const halfWidth = (t: number): ArrayLike<number> =>
    curveSigma ? curveSigma[t]! : new Float64Array(s.grid.length).fill(s.bandSigma[t]!);
  TASKS.forEach((_, t) => {
    const sd = halfWidth(t);
    ui.sigma[t]!.textContent = curveSigma
      ? `${fmt(sd[left]!)} → ${fmt(sd[right]!)}`
      : learned
        ? fmt(learned[t]!)
        : `— (RMSE ${fmt(s.bandSigma[t]!)})`;
    // the band's half-width at the data's smallest and largest x, as drawn (read by the tests)
    ui.sigma[t]!.dataset['bandLeft'] = String(sd[left]);
    ui.sigma[t]!.dataset['bandRight'] = String(sd[right]);
    const truth = s.trueSigmaGrid[t]!;
    ui.truth[t]!.textContent =
      cfg.noise === 'constant'
        ? String(cfg.trueSigma[t])
        : `${fmt(truth[left]!)} → ${fmt(truth[right]!)} at x_min → x_max`;
  });
  ui.taskLossCaption.textContent =
    cfg.model === 'heteroscedastic'
      ? 'Per-task losses (Gaussian negative log-likelihood, σ̂(x) per sample; may go negative)'
      : 'Per-task losses (mean squared error)';

  // data, fits and ±σ̂ bands
  const stride = Math.max(1, Math.ceil(s.x.length / MAX_DRAWN_POINTS));
  const pick = (a: Float64Array) => (stride === 1 ? a : a.filter((_, i) => i % stride === 0));
  const xs = pick(s.x);
  const bandName = curveSigma ? 'σ̂(x)' : learned ? 'σ̂' : 'RMSE';
  const truthMean = (t: number, x: number) => (t === 0 ? 2 * x + 8 : 3 * x + 3);
  charts.data.draw({
    xLabel: 'x',
    yLabel: 'y',
    xDomain: [s.grid[0]!, s.grid[s.grid.length - 1]!],
    points: TASKS.map((_, t) => ({
      color: POINT_COLORS[t]!,
      xs,
      ys: pick(s.y[t]!),
      radius: s.x.length > 500 ? 1.5 : 2.5,
    })),
    bands: curve
      ? TASKS.map((_, t) => {
          const sd = halfWidth(t);
          const mean = curve[t]!;
          return {
            color: BAND_COLORS[t]!,
            xs: s.grid,
            lower: mean.map((m, i) => m - sd[i]!),
            upper: mean.map((m, i) => m + sd[i]!),
          };
        })
      : [],
    lines: [
      ...(curve
        ? TASKS.map((name, t) => ({
            label: `${name} fit ± ${bandName}` + (curveSigma ? '' : ` (${fmt(s.bandSigma[t]!)})`),
            color: COLORS[t]!,
            xs: s.grid,
            ys: curve[t]!,
            width: 2.5,
          }))
        : []),
      ...TASKS.map((name, t) => ({
        label: `${name} truth`,
        color: COLORS[t]!,
        xs: [s.grid[0]!, s.grid[s.grid.length - 1]!],
        ys: [s.grid[0]!, s.grid[s.grid.length - 1]!].map((x) => truthMean(t, x)),
        width: 1.2,
        dash: [4, 4],
      })),
      // the true noise: truth ± σ(x), thin and dashed
      ...TASKS.flatMap((_, t) =>
        [-1, 1].map((sign) => ({
          color: COLORS[t]!,
          xs: s.grid,
          ys: s.grid.map((x, i) => truthMean(t, x) + sign * s.trueSigmaGrid[t]![i]!),
          width: 1,
          dash: [2, 3],
        })),
      ),
    ],
  });

  const sr = s.series;
  const empty = 'press Start';
  charts.sigma.draw({
    xLabel: 'epoch',
    yLabel: 'σ',
    empty: learned ? empty : 'this weighting learns no σ',
    lines: [
      ...(learned
        ? TASKS.map((name, t) => ({ label: `σ̂ ${name}`, color: COLORS[t]!, xs: sr.epoch, ys: sr.sigma[t]! }))
        : []),
      ...TASKS.map((name, t) => ({
        label: `RMSE ${name}`,
        color: COLORS[t]!,
        xs: sr.epoch,
        ys: sr.rmse[t]!,
        width: 1,
        dash: [1, 3],
      })),
    ],
    // growing noise: one σ̂ for all x converges to the root mean square of σ(x) over the data
    refLines: sr.epoch.length
      ? TASKS.map((name, t) => ({
          label: cfg.noise === 'constant' ? `true σ ${name}` : `true RMS σ(x) ${name}`,
          color: COLORS[t]!,
          y: s.trueSigmaRms[t]!,
        }))
      : [],
    logY: true,
  });
  charts.weights.draw({
    xLabel: 'epoch',
    yLabel: 'weight',
    empty,
    logY: true,
    lines: TASKS.map((name, t) => ({
      label: `w ${name}`,
      color: COLORS[t]!,
      xs: sr.epoch,
      ys: sr.weight[t]!,
    })),
  });
  charts.taskLoss.draw({
    xLabel: 'epoch',
    yLabel: cfg.model === 'heteroscedastic' ? 'NLL' : 'MSE',
    empty,
    logY: cfg.model !== 'heteroscedastic',
    lines: TASKS.map((name, t) => ({ label: `L ${name}`, color: COLORS[t]!, xs: sr.epoch, ys: sr.loss[t]! })),
  });
  charts.totalLoss.draw({
    xLabel: 'epoch',
    yLabel: 'loss',
    empty,
    lines: [{ label: `total (${s.weighting.name})`, color: '#444', xs: sr.epoch, ys: sr.total }],
  });
}

// ---------------------------------------------------------------- wiring

/** The user's weighting choice, kept while the heteroscedastic model forces 'equal'. */
let chosenWeighting: string | null = null;

function syncFixedInputs(): void {
  const hetero = ui.model.value === 'heteroscedastic';
  if (hetero && chosenWeighting === null) {
    chosenWeighting = ui.weighting.value;
    ui.weighting.value = 'equal';
  } else if (!hetero && chosenWeighting !== null) {
    ui.weighting.value = chosenWeighting;
    chosenWeighting = null;
  }
  ui.weighting.disabled = hetero;
  ui.weighting.title = hetero
    ? 'the heteroscedastic model sums the tasks: its per-sample σ̂(x) already weighs each error'
    : '';
  const fixed = ui.weighting.value === 'fixed';
  for (const e of Array.from(document.querySelectorAll<HTMLElement>('.fixed-only'))) e.hidden = !fixed;
}

let rebuildTimer: ReturnType<typeof setTimeout> | undefined;
let settingsDirty = false;

function settingsChanged(): void {
  syncFixedInputs();
  if (status !== 'idle' && status !== 'error') return;
  settingsDirty = true;
  clearTimeout(rebuildTimer);
  rebuildTimer = setTimeout(
    () => void enqueue(() => (status === 'idle' || status === 'error' ? rebuild() : undefined)),
    150,
  );
}

ui.settings.addEventListener('change', settingsChanged);
ui.epochs.addEventListener('input', requestDraw);
ui.start.addEventListener('click', start);
ui.pause.addEventListener('click', pause);
ui.reset.addEventListener('click', reset);
window.addEventListener('resize', requestDraw);

const redrawCsv = setupCsvTab();
function showTab(name: 'seed' | 'csv'): void {
  for (const tab of ['seed', 'csv'] as const) {
    el(`tab-${tab}`).hidden = tab !== name;
    el(`tab-button-${tab}`).setAttribute('aria-selected', String(tab === name));
  }
  if (name === 'seed') requestDraw();
  else redrawCsv();
}
el('tab-button-seed').addEventListener('click', () => showTab('seed'));
el('tab-button-csv').addEventListener('click', () => showTab('csv'));

tf.enableProdMode();
registerLeanGradients();
markUnavailableBackends();
syncFixedInputs();
setStatus('idle');
void enqueue(rebuild);
