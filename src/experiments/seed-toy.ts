import * as tf from '@tensorflow/tfjs';
import { generateSeedToyData, type SeedToyData } from '../data/synthetic/seed-toy.js';
import { towersModel } from '../models/towers.js';
import { regressionTask } from '../tasks/regression.js';
import type { EpochEvent, StepEvent } from '../train/events.js';
import type { History } from '../train/history.js';
import { Trainer } from '../train/trainer.js';
import { uncertaintyWeighting, type UncertaintyForm } from '../weighting/uncertainty.js';

export interface SeedToyExperimentOptions {
  /** Samples; the seed's N = 100. */
  n?: number;
  /** Default 2000 (10,000 steps at N = 100). */
  epochs?: number;
  /** Data seed (`np.random.seed`); also seeds the initialisation and shuffling. Default 0. */
  seed?: number;
  /** Default 20. */
  batchSize?: number;
  /** Hidden width of each tower; default 1024. */
  hidden?: number;
  /** Default 1e-3. */
  learningRate?: number;
  /** Default 'seed' (the seed document's unscaled form). */
  form?: UncertaintyForm;
  /** Compute RMSE/MAE over the data every this many epochs (0 = never); default 0. */
  metricsEvery?: number;
  onEpochEnd?: (event: EpochEvent) => void | Promise<void>;
  onStep?: (event: StepEvent) => void;
  signal?: AbortSignal;
  yieldEveryMs?: number;
}

export interface SeedToyTaskResult {
  name: string;
  sigma: number;
  trueSigma: number;
  logVariance: number;
}

export interface SeedToyResult {
  data: SeedToyData;
  history: History;
  tasks: SeedToyTaskResult[];
  steps: number;
  trainSeconds: number;
  backend: string;
}

/**
 * The seed document's experiment: two regressions with noise σ = 10 and 1, two towers 1→1024→1 (ReLU)
 * initialised as PyTorch's nn.Linear, Adam 1e-3 (ε 1e-7), batch 20 reshuffled every epoch, learned
 * log-variances in the seed's form. Runs on whatever TF.js backend is active.
 */
export async function runSeedToyExperiment(options: SeedToyExperimentOptions = {}): Promise<SeedToyResult> {
  const seed = options.seed ?? 0;
  const data = generateSeedToyData({ n: options.n ?? 100, seed });
  const names = ['y1', 'y2'];
  const tasks = names.map((name) => regressionTask({ name }));
  const model = towersModel({
    inputDim: 1,
    outputs: [1, 1],
    hidden: [options.hidden ?? 1024],
    init: 'pytorch',
    seed,
  });
  const weighting = uncertaintyWeighting(tasks, { form: options.form ?? 'seed' });
  const trainer = new Trainer({
    model,
    tasks,
    weighting,
    optimizer: { learningRate: options.learningRate ?? 1e-3, epsilon: 1e-7 },
  });
  const n = data.x.length;
  const x = tf.tensor2d(Float32Array.from(data.x), [n, 1]);
  const targets = data.y.map((y) => tf.tensor2d(Float32Array.from(y), [n, 1]));
  try {
    const started = performance.now();
    const history = await trainer.fit(
      { x, targets },
      {
        epochs: options.epochs ?? 2000,
        batchSize: options.batchSize ?? 20,
        seed,
        metricsEvery: options.metricsEvery ?? 0,
        ...(options.onEpochEnd ? { onEpochEnd: options.onEpochEnd } : {}),
        ...(options.onStep ? { onStep: options.onStep } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.yieldEveryMs !== undefined ? { yieldEveryMs: options.yieldEveryMs } : {}),
      },
    );
    const trainSeconds = (performance.now() - started) / 1000;
    const sigmas = weighting.sigmas();
    const logVariances = weighting.logVariances();
    return {
      data,
      history,
      tasks: names.map((name, i) => ({
        name,
        sigma: sigmas[i]!,
        trueSigma: data.trueSigma[i]!,
        logVariance: logVariances[i]!,
      })),
      steps: trainer.steps,
      trainSeconds,
      backend: tf.getBackend(),
    };
  } finally {
    x.dispose();
    targets.forEach((t) => t.dispose());
    trainer.dispose();
    weighting.dispose();
    model.dispose();
  }
}
