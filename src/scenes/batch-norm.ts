import * as tf from '@tensorflow/tfjs';
import { batchNormFusible, fusedBatchNorm } from '../backend/simd/batch-norm-kernels.js';

export interface FastBatchNormArgs {
  momentum?: number;
  epsilon?: number;
  /** Applied to the normalised output: 'relu' fuses the ReLU that follows most batch norms. Default 'linear'. */
  activation?: 'linear' | 'relu';
  name?: string;
  trainable?: boolean;
}

type Kwargs = Record<string, unknown>;

/**
 * Training-mode batch norm over every axis but the last, with its closed-form gradient:
 * y = γ·x̂ + β, x̂ = (x − μ)/√(σ² + ε), and
 * dx = γ/√(σ² + ε) · (dy − mean(dy) − x̂·mean(dy·x̂)), dγ = Σ dy·x̂, dβ = Σ dy.
 * Numerically the same as tf.layers.batchNormalization, but its backward pass is ~8 kernels where
 * tfjs-core's (FusedBatchNorm's gradient tiles μ and σ² to x's shape, then differentiates tf.moments)
 * launches dozens — on wasm the tiles alone took a fifth of a scene training step.
 */
export function batchNormTraining(
  x: tf.Tensor,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  mean: tf.Tensor,
  variance: tf.Tensor,
  epsilon: number,
): tf.Tensor {
  const axes = x.shape.slice(0, -1).map((_, i) => i);
  const count = x.size / x.shape[x.rank - 1]!;
  const op = tf.customGrad((xIn, g, b, save) => {
    const xv = xIn as tf.Tensor;
    const invStd = tf.rsqrt(tf.add(variance, epsilon));
    const xHat = tf.mul(tf.sub(xv, mean), invStd);
    (save as tf.GradSaveFunc)([xHat, invStd, g as tf.Tensor]);
    return {
      value: tf.add(tf.mul(xHat, g as tf.Tensor), b as tf.Tensor),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xh, inv, gam] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
        const dBeta = tf.sum(dy, axes);
        const dGamma = tf.sum(tf.mul(dy, xh), axes);
        const centred = tf.sub(dy, tf.div(dBeta, count));
        const dx = tf.mul(tf.sub(centred, tf.mul(xh, tf.div(dGamma, count))), tf.mul(gam, inv));
        return [dx, dGamma, dBeta];
      },
    };
  });
  return op(x, gamma, beta);
}

/** A batch-norm layer (channels last) using `batchNormTraining` when training. */
export class FastBatchNorm extends tf.layers.Layer {
  static readonly className = 'FastBatchNorm';
  readonly momentum: number;
  readonly epsilon: number;
  readonly activation: 'linear' | 'relu';
  private gamma?: tf.LayerVariable;
  private beta?: tf.LayerVariable;
  private movingMean?: tf.LayerVariable;
  private movingVariance?: tf.LayerVariable;

  constructor(args: FastBatchNormArgs = {}) {
    super({ ...(args.name !== undefined ? { name: args.name } : {}), trainable: args.trainable ?? true });
    this.momentum = args.momentum ?? 0.9;
    this.epsilon = args.epsilon ?? 1e-5;
    if (!(this.momentum >= 0 && this.momentum < 1)) {
      throw new Error(`FastBatchNorm: momentum must be in [0, 1), got ${this.momentum}`);
    }
    if (!(this.epsilon > 0)) throw new Error(`FastBatchNorm: epsilon must be > 0, got ${this.epsilon}`);
    this.activation = args.activation ?? 'linear';
    if (this.activation !== 'linear' && this.activation !== 'relu') {
      throw new Error(
        `FastBatchNorm: activation must be 'linear' or 'relu', got '${String(args.activation)}'`,
      );
    }
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const channels = shape[shape.length - 1];
    if (channels == null) throw new Error('FastBatchNorm: the channel axis must be known');
    this.gamma = this.addWeight('gamma', [channels], 'float32', tf.initializers.ones());
    this.beta = this.addWeight('beta', [channels], 'float32', tf.initializers.zeros());
    this.movingMean = this.addWeight(
      'moving_mean',
      [channels],
      'float32',
      tf.initializers.zeros(),
      undefined,
      false,
    );
    this.movingVariance = this.addWeight(
      'moving_variance',
      [channels],
      'float32',
      tf.initializers.ones(),
      undefined,
      false,
    );
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    const gamma = this.gamma!.read() as tf.Tensor1D;
    const beta = this.beta!.read() as tf.Tensor1D;
    const relu = this.activation === 'relu';
    if (kwargs['training'] !== true) {
      return tf.tidy(() => {
        const inv = tf.rsqrt(tf.add(this.movingVariance!.read(), this.epsilon));
        const y = tf.add(tf.mul(tf.sub(x, this.movingMean!.read()), tf.mul(inv, gamma)), beta);
        return relu ? tf.relu(y) : y;
      });
    }
    if (batchNormFusible(x)) {
      const out = fusedBatchNorm(x, gamma, beta, this.movingMean!.read(), this.movingVariance!.read(), {
        epsilon: this.epsilon,
        momentum: this.momentum,
        relu,
      });
      this.movingMean!.write(out.movingMean);
      this.movingVariance!.write(out.movingVariance);
      out.movingMean.dispose(); // (the variables hold their own reference)
      out.movingVariance.dispose();
      return out.y;
    }
    const axes = x.shape.slice(0, -1).map((_, i) => i);
    const { mean, variance } = tf.moments(x, axes);
    const normalised = batchNormTraining(x, gamma, beta, mean, variance, this.epsilon);
    const y = relu ? tf.relu(normalised) : normalised;
    tf.tidy(() => {
      const m = this.momentum;
      // Moving variance is the unbiased batch variance, as Keras and PyTorch keep it.
      const n = x.size / x.shape[x.rank - 1]!;
      const unbiased = n > 1 ? tf.mul(variance, n / (n - 1)) : variance;
      this.movingMean!.write(tf.add(tf.mul(this.movingMean!.read(), m), tf.mul(mean, 1 - m)));
      this.movingVariance!.write(tf.add(tf.mul(this.movingVariance!.read(), m), tf.mul(unbiased, 1 - m)));
    });
    return y;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      momentum: this.momentum,
      epsilon: this.epsilon,
      activation: this.activation,
    };
  }
}

tf.serialization.registerClass(FastBatchNorm);
