import * as tf from '@tensorflow/tfjs';
import { jsKernelsUsable, registerJsKernel, runJsKernel } from '../backend/js-kernels.js';
import { LIKELIHOODS, type Likelihood, type TaskSpec } from '../tasks/task.js';
import {
  checkLossCount,
  checkStateFor,
  perTaskNumbers,
  checkTasks,
  type WeightingState,
  type WeightingStrategy,
} from './strategy.js';

/**
 * - `kendall`: the paper's negative log-likelihoods — Gaussian ½e^(−s)L + ½s, Laplace (s = log b)
 *   e^(−s)L + s, softmax and Bernoulli (temperature σ² = e^s) e^(−s)L + ½s.
 * - `seed`: the seed document's and the authors' Keras notebook's e^(−s)L + s for every task (the same
 *   minimiser in s as `kendall` for Gaussian tasks, twice the gradient scale).
 */
export type UncertaintyForm = 'kendall' | 'seed';
/** `log`: the likelihood's own regulariser (r·s); `log1p`: log(1 + e^s) = log(1 + σ²) (Liebel & Körner). */
export type UncertaintyRegularizer = 'log' | 'log1p';

export interface UncertaintyWeightingOptions {
  /** Default 'kendall'. */
  form?: UncertaintyForm;
  /** Default 'log'. */
  regularizer?: UncertaintyRegularizer;
  /** Initial s = log σ² per task (one number for all); default 0, i.e. σ = 1. */
  initialLogVariance?: number | readonly number[];
  /**
   * Keep each s within [min, max] (projected after every step). Guards tasks whose loss can reach 0,
   * which would otherwise drive s → −∞.
   */
  clamp?: readonly [number, number];
  /** Whether the log-variances are trained; default true. */
  trainable?: boolean;
  /** Learning rate of the log-variances; default: the model's. */
  learningRate?: number;
}

/** Uncertainty weighting with its log-variances exposed. */
export interface UncertaintyWeighting extends WeightingStrategy {
  readonly form: UncertaintyForm;
  readonly regularizer: UncertaintyRegularizer;
  /** The log-variances s_t, one scalar variable per task. */
  readonly variables: readonly tf.Variable<tf.Rank.R0>[];
  logVariances(): number[];
  sigmas(): number[];
}

interface Coefficients {
  /** Multiplier of e^(−s)·L. */
  readonly data: number;
  /** Multiplier of s in the `log` regulariser. */
  readonly reg: number;
}

function coefficients(form: UncertaintyForm, likelihood: Likelihood): Coefficients {
  if (form === 'seed') return { data: 1, reg: 1 };
  switch (likelihood) {
    case 'gaussian':
      return { data: 0.5, reg: 0.5 };
    case 'laplace':
      return { data: 1, reg: 1 };
    case 'softmax':
    case 'bernoulli':
      return { data: 1, reg: 0.5 };
  }
}

const COMBINE_KERNEL = 'TfjsMtlUncertaintyCombine';
const COMBINE_GRAD_KERNEL = 'TfjsMtlUncertaintyCombineGrad';

/** log(1 + e^s) without overflow. */
function softplus(s: number): number {
  return s > 0 ? s + Math.log1p(Math.exp(-s)) : Math.log1p(Math.exp(s));
}

/**
 * `combineTerms` as JS kernels on cpu/wasm: inputs L_1 … L_T, s_1 … s_T (scalars), attributes the
 * coefficients and the regulariser; the gradient kernel gives ∂/∂L_t = c_t·e^(−s_t)·dy and
 * ∂/∂s_t = (reg′(s_t) − c_t·e^(−s_t)·L_t)·dy.
 */
function registerCombineKernels(): void {
  type Attrs = { dataCoeffs: number[]; regCoeffs: number[]; regularizer: string };
  registerJsKernel(COMBINE_KERNEL, (xs, attrs) => {
    const { dataCoeffs, regCoeffs, regularizer } = attrs as unknown as Attrs;
    const T = xs.length / 2;
    let total = 0;
    for (let t = 0; t < T; t++) {
      const L = xs[t]![0]!;
      const s = xs[T + t]![0]!;
      total +=
        dataCoeffs[t]! * Math.exp(-s) * L + (regularizer === 'log1p' ? softplus(s) : regCoeffs[t]! * s);
    }
    return [{ shape: [], values: [total] }];
  });
  registerJsKernel(COMBINE_GRAD_KERNEL, (xs, attrs) => {
    const { dataCoeffs, regCoeffs, regularizer } = attrs as unknown as Attrs;
    const dy = xs[0]![0]!;
    const T = (xs.length - 1) / 2;
    const dL: number[] = [];
    const dS: number[] = [];
    for (let t = 0; t < T; t++) {
      const L = xs[1 + t]![0]!;
      const s = xs[1 + T + t]![0]!;
      const cP = dataCoeffs[t]! * Math.exp(-s);
      const dReg = regularizer === 'log1p' ? 1 / (1 + Math.exp(-s)) : regCoeffs[t]!;
      dL.push(cP * dy);
      dS.push((dReg - cP * L) * dy);
    }
    return [...dL, ...dS].map((v) => ({ shape: [], values: [v] }));
  });
  if (!tf.getGradient(COMBINE_KERNEL)) {
    tf.registerGradient({
      kernelName: COMBINE_KERNEL,
      saveAllInputs: true,
      gradFunc: (dy, saved, attrs) => {
        const grads = runJsKernel(COMBINE_GRAD_KERNEL, [dy as tf.Tensor, ...saved], attrs);
        return Object.fromEntries(grads.map((g, i) => [String(i), () => g]));
      },
    });
  }
}

/** The likelihood's standard deviation for a log-variance s, in the loss's units. */
function sigmaOf(likelihood: Likelihood, s: number): number {
  // Laplace: s = log b and its standard deviation is √2·b
  return likelihood === 'laplace' ? Math.SQRT2 * Math.exp(s) : Math.exp(s / 2);
}

function oneOf<T extends string>(path: string, value: T | undefined, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value)) {
    throw new Error(
      `uncertainty weighting: ${path} must be one of ${allowed.join(', ')}; got '${String(value)}'`,
    );
  }
  return value;
}

/**
 * Kendall, Gal & Cipolla (CVPR 2018): one learned homoscedastic noise parameter s_t = log σ_t² per task,
 * minimising the tasks' joint negative log-likelihood. Note that the total can be negative: a Gaussian
 * term at its optimum is ½(1 + log L), below 0 whenever L < 1/e.
 */
export function uncertaintyWeighting(
  tasks: readonly TaskSpec[],
  options: UncertaintyWeightingOptions = {},
): UncertaintyWeighting {
  checkTasks('uncertainty', tasks);
  tasks.forEach((t, i) => oneOf(`tasks[${i}].likelihood`, t.likelihood, LIKELIHOODS, 'gaussian'));
  const form = oneOf('form', options.form, ['kendall', 'seed'] as const, 'kendall');
  const regularizer = oneOf('regularizer', options.regularizer, ['log', 'log1p'] as const, 'log');
  const init = options.initialLogVariance ?? 0;
  const initial = typeof init === 'number' ? tasks.map(() => init) : [...init];
  if (initial.length !== tasks.length) {
    throw new Error(
      `uncertainty weighting: initialLogVariance has ${initial.length} values for ${tasks.length} tasks`,
    );
  }
  initial.forEach((v, i) => {
    if (!Number.isFinite(v))
      throw new Error(`uncertainty weighting: initialLogVariance[${i}] must be finite, got ${v}`);
  });
  const clamp = options.clamp;
  if (clamp !== undefined && !(clamp.length === 2 && clamp[0] < clamp[1])) {
    throw new Error(
      `uncertainty weighting: clamp must be [min, max] with min < max, got [${clamp.join(', ')}]`,
    );
  }
  const lr = options.learningRate;
  if (lr !== undefined && !(Number.isFinite(lr) && lr > 0)) {
    throw new Error(`uncertainty weighting: learningRate must be a positive number, got ${lr}`);
  }
  const trainable = options.trainable ?? true;
  registerCombineKernels();
  const coeffs = tasks.map((t) => coefficients(form, t.likelihood));
  const variables = initial.map((s) => {
    const start = clamp ? Math.min(Math.max(s, clamp[0]), clamp[1]) : s;
    // in a tidy: the initial scalar is freed, the variable kept
    return tf.tidy(() => tf.variable(tf.scalar(start), trainable));
  });
  const read = (): number[] => variables.map((v) => v.dataSync()[0]!);

  const dataCoeffs = coeffs.map((c) => c.data);
  const regCoeffs = coeffs.map((c) => c.reg);
  const T = tasks.length;
  /**
   * Σ_t c_t·e^(−s_t)·L_t + reg(s_t), vectorised over tasks with a hand-written gradient: ~15 kernels
   * for any number of tasks instead of ~15 per task through autodiff — small models are bound by
   * per-kernel overhead. Checked against the golden vectors like the op-by-op form.
   */
  const combineTerms = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[2 * T] as tf.GradSaveFunc;
    const L = tf.stack(args.slice(0, T) as tf.Tensor[]);
    const S = tf.stack(args.slice(T, 2 * T) as tf.Tensor[]);
    const cP = tf.mul(tf.exp(tf.neg(S)), tf.tensor1d(dataCoeffs));
    const reg = regularizer === 'log1p' ? tf.softplus(S) : tf.mul(S, tf.tensor1d(regCoeffs));
    save([cP, L, S]);
    return {
      value: tf.sum(tf.add(tf.mul(cP, L), reg)),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [cPs, Ls, Ss] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
        const dReg = regularizer === 'log1p' ? tf.sigmoid(Ss) : tf.tensor1d(regCoeffs);
        const dL = tf.mul(cPs, dy);
        const dS = tf.mul(tf.sub(dReg, tf.mul(cPs, Ls)), dy);
        return [...tf.unstack(dL), ...tf.unstack(dS)];
      },
    };
  }) as unknown as (...inputs: tf.Tensor[]) => tf.Scalar;
  const attrs = { dataCoeffs, regCoeffs, regularizer };
  const combineAll = (losses: readonly tf.Scalar[]): tf.Scalar =>
    // cpu/wasm: the same sum and gradient as one JS kernel each (the values are 2T scalars)
    jsKernelsUsable()
      ? (runJsKernel(COMBINE_KERNEL, [...losses, ...variables], attrs)[0] as tf.Scalar)
      : combineTerms(...losses, ...variables);

  return {
    name: 'uncertainty',
    tasks,
    form,
    regularizer,
    variables,
    ...(lr !== undefined ? { learningRate: lr } : {}),
    combine(losses) {
      checkLossCount('uncertainty', tasks, losses);
      return combineAll(losses);
    },
    weights: () => read().map((s, i) => coeffs[i]!.data * Math.exp(-s)),
    logVariances: read,
    sigmas: () => read().map((s, i) => sigmaOf(tasks[i]!.likelihood, s)),
    ...(clamp
      ? {
          afterStep() {
            tf.tidy(() => {
              for (const v of variables) v.assign(tf.clipByValue(v, clamp[0], clamp[1]));
            });
          },
        }
      : {}),
    getState: () => ({ strategy: 'uncertainty', form, regularizer, logVariance: read() }),
    setState(state: WeightingState) {
      checkStateFor('uncertainty', state);
      const s = perTaskNumbers('uncertainty', state, 'logVariance', tasks);
      tf.tidy(() => variables.forEach((v, i) => v.assign(tf.scalar(s[i]!))));
    },
    dispose() {
      for (const v of variables) v.dispose();
    },
  };
}
