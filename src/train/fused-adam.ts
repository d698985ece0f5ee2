import * as tf from '@tensorflow/tfjs';
import { hasAdamStepKernel, registerAdamStepKernel, runAdamStep } from './adam-kernel.js';

export interface FusedAdamOptions {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** Use the single-kernel step where the backend has it; default true (false forces the op-by-op path). */
  kernel?: boolean;
}

/**
 * Adam over a fixed list of variables, updated as one flat vector: the same update as `tf.train.adam`
 * (and PyTorch's: p −= lr/(1−β1^t) · m / (√(v/(1−β2^t)) + ε)), but one kernel per step on `cpu` and
 * `wasm` (see adam-kernel.ts) and ~15 on other backends, instead of ~14 per variable — per-kernel
 * overhead, not arithmetic, bounds small models. A variable with no gradient in a step is treated as
 * having gradient 0.
 */
export class FusedAdam {
  readonly variables: readonly tf.Variable[];
  readonly options: FusedAdamOptions;
  private readonly sizes: number[];
  private readonly m: tf.Variable;
  private readonly v: tf.Variable;
  private t = 0;

  constructor(variables: readonly tf.Variable[], options: FusedAdamOptions) {
    if (variables.length === 0) throw new Error('FusedAdam: no variables to optimise');
    const { learningRate, beta1, beta2, epsilon } = options;
    if (!(learningRate > 0)) throw new RangeError(`learningRate must be > 0, got ${learningRate}`);
    if (!(beta1 >= 0 && beta1 < 1)) throw new RangeError(`beta1 must be in [0, 1), got ${beta1}`);
    if (!(beta2 >= 0 && beta2 < 1)) throw new RangeError(`beta2 must be in [0, 1), got ${beta2}`);
    if (!(epsilon > 0)) throw new RangeError(`epsilon must be > 0, got ${epsilon}`);
    this.variables = variables;
    this.options = { ...options };
    this.sizes = variables.map((v) => v.size);
    const total = this.sizes.reduce((a, b) => a + b, 0);
    // tidy frees the zeros the variables were made from (a variable holds its own reference)
    this.m = tf.tidy(() => tf.variable(tf.zeros([total]), false));
    this.v = tf.tidy(() => tf.variable(tf.zeros([total]), false));
    registerAdamStepKernel();
  }

  /** Changes the learning rate from the next step on (learning-rate schedules). */
  setLearningRate(learningRate: number): void {
    if (!(learningRate > 0)) throw new RangeError(`learningRate must be > 0, got ${learningRate}`);
    this.options.learningRate = learningRate;
  }

  /** Steps taken. */
  get iterations(): number {
    return this.t;
  }

  /** One Adam step from gradients keyed by variable name. */
  applyGradients(grads: tf.NamedTensorMap): void {
    const { learningRate, beta1, beta2, epsilon } = this.options;
    this.t++;
    const bc1 = 1 - beta1 ** this.t;
    const bc2 = 1 - beta2 ** this.t;
    tf.tidy(() => {
      if (this.options.kernel !== false && hasAdamStepKernel()) {
        const g = this.variables.map((w) => grads[w.name] ?? tf.zeros(w.shape));
        const out = runAdamStep(this.variables, g, this.m, this.v, {
          learningRate,
          beta1,
          beta2,
          epsilon,
          bc1,
          bc2,
        });
        this.variables.forEach((w, i) => w.assign(out[i]!));
        this.m.assign(out[this.variables.length]!);
        this.v.assign(out[this.variables.length + 1]!);
        return;
      }
      const flat = this.variables.map((w) => {
        const g = grads[w.name];
        return g ? tf.reshape(g, [-1]) : tf.zeros([w.size]);
      });
      const g = flat.length === 1 ? flat[0]! : tf.concat(flat);
      const m = tf.add(tf.mul(this.m, beta1), tf.mul(g, 1 - beta1));
      const v = tf.add(tf.mul(this.v, beta2), tf.mul(tf.square(g), 1 - beta2));
      this.m.assign(m);
      this.v.assign(v);
      const update = tf.div(tf.mul(m, -learningRate / bc1), tf.add(tf.sqrt(tf.mul(v, 1 / bc2)), epsilon));
      const parts = this.variables.length === 1 ? [update] : tf.split(update, this.sizes);
      this.variables.forEach((w, i) => w.assign(tf.add(w, tf.reshape(parts[i]!, w.shape))));
    });
  }

  /** State for checkpoints: step count and the moment vectors. */
  getState(): { iterations: number; m: Float32Array; v: Float32Array } {
    return { iterations: this.t, m: this.m.dataSync() as Float32Array, v: this.v.dataSync() as Float32Array };
  }

  setState(state: { iterations: number; m: ArrayLike<number>; v: ArrayLike<number> }): void {
    if (state.m.length !== this.m.size || state.v.length !== this.v.size) {
      throw new Error(`FusedAdam state has ${state.m.length} moments for ${this.m.size} parameters`);
    }
    this.t = state.iterations;
    tf.tidy(() => {
      this.m.assign(tf.tensor1d(Array.from(state.m)));
      this.v.assign(tf.tensor1d(Array.from(state.v)));
    });
  }

  dispose(): void {
    this.m.dispose();
    this.v.dispose();
  }
}
