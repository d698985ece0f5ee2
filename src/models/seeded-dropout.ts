/**
 * Dropout whose masks come from a seeded stream that moves on with every call: reproducible runs, a
 * state a checkpoint can save (exact resume), and fresh masks per Monte Carlo pass. (TF.js's own
 * dropout layer with a seed draws the same mask at every call; without one, from Math.random.)
 * Browser-safe.
 */
import * as tf from '@tensorflow/tfjs';

export interface SeededDropoutArgs {
  /** Fraction of units zeroed, in [0, 1). */
  rate: number;
  /** Seed of the mask stream. */
  seed: number;
  name?: string;
}

type Kwargs = Record<string, unknown>;

/** Inverted dropout (kept units scaled by 1/(1 − rate)) when called with `training: true`; identity otherwise. */
export class SeededDropout extends tf.layers.Layer {
  static readonly className = 'SeededDropout';
  readonly rate: number;
  readonly seed: number;
  /** Masks drawn so far: the stream's position. */
  private calls = 0;

  constructor(args: SeededDropoutArgs) {
    super(args.name !== undefined ? { name: args.name } : {});
    if (!(args.rate >= 0 && args.rate < 1))
      throw new Error(`SeededDropout: rate must be in [0, 1), got ${args.rate}`);
    if (!Number.isInteger(args.seed))
      throw new Error(`SeededDropout: seed must be an integer, got ${args.seed}`);
    this.rate = args.rate;
    this.seed = args.seed;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    if (kwargs['training'] !== true || this.rate === 0) return x;
    const draw = this.calls++;
    return tf.tidy(() => {
      const keep = tf.greaterEqual(
        tf.randomUniform(x.shape, 0, 1, 'float32', `${this.seed}/${draw}`),
        this.rate,
      );
      return tf.mul(x, tf.mul(tf.cast(keep, 'float32'), 1 / (1 - this.rate)));
    });
  }

  /** The mask stream's position, for checkpoints. */
  randomState(): number {
    return this.calls;
  }

  setRandomState(calls: number): void {
    if (!Number.isInteger(calls) || calls < 0) throw new Error(`SeededDropout: bad stream position ${calls}`);
    this.calls = calls;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), rate: this.rate, seed: this.seed };
  }
}
tf.serialization.registerClass(SeededDropout);

/** The SeededDropout layers of a model, in order. */
export function seededDropoutLayers(model: tf.LayersModel): SeededDropout[] {
  return model.layers.filter((l): l is SeededDropout => l instanceof SeededDropout);
}

/**
 * Runs `fn` with every SeededDropout of `model` drawing from a separate stream starting at `at` (e.g.
 * for Monte Carlo predictions that are the same on every call), then puts the training streams back.
 */
export function withDropoutStream<T>(model: tf.LayersModel, at: number, fn: () => T): T {
  const layers = seededDropoutLayers(model);
  const saved = layers.map((l) => l.randomState());
  layers.forEach((l) => l.setRandomState(at));
  try {
    return fn();
  } finally {
    layers.forEach((l, i) => l.setRandomState(saved[i]!));
  }
}
