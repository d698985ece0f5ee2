import * as tf from '@tensorflow/tfjs';
import { denseForward, denseFusible } from '../backend/dense-kernels.js';

/** TF.js exports the initialiser factories but not their class type. */
export type Initializer = ReturnType<typeof tf.initializers.zeros>;

export interface ParallelDenseArgs {
  /** Number of independent towers computed side by side. */
  towers: number;
  units: number;
  activation?: 'linear' | 'relu' | 'tanh' | 'sigmoid' | 'elu';
  kernelInitializer?: Initializer | string;
  biasInitializer?: Initializer | string;
  name?: string;
  trainable?: boolean;
}

type Kwargs = Record<string, unknown>;

/**
 * T independent dense layers evaluated as one batched op: the separate-towers architecture without
 * paying per-kernel overhead T times. Input [B, in] (shared by every tower) or [B, T, in] (one slice
 * per tower); output [B, T, units]. Weights: kernel [T, in, units], bias [T, units]; tower t's slice is
 * exactly an ordinary dense layer's weights.
 */
export class ParallelDense extends tf.layers.Layer {
  static readonly className = 'ParallelDense';
  readonly towers: number;
  readonly units: number;
  readonly activation: NonNullable<ParallelDenseArgs['activation']>;
  private readonly kernelInit: Initializer;
  private readonly biasInit: Initializer;
  private kernel?: tf.LayerVariable;
  private bias?: tf.LayerVariable;

  constructor(args: ParallelDenseArgs) {
    super({ ...(args.name !== undefined ? { name: args.name } : {}), trainable: args.trainable ?? true });
    if (!Number.isInteger(args.towers) || args.towers < 1)
      throw new Error(`ParallelDense: towers must be ≥ 1, got ${args.towers}`);
    if (!Number.isInteger(args.units) || args.units < 1)
      throw new Error(`ParallelDense: units must be ≥ 1, got ${args.units}`);
    this.towers = args.towers;
    this.units = args.units;
    this.activation = args.activation ?? 'linear';
    this.kernelInit = resolveInitializer(args.kernelInitializer ?? 'glorotUniform');
    this.biasInit = resolveInitializer(args.biasInitializer ?? 'zeros');
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    if (shape.length === 3 && shape[1] !== this.towers) {
      throw new Error(`ParallelDense: input has ${shape[1]} towers, the layer ${this.towers}`);
    }
    if (shape.length !== 2 && shape.length !== 3) {
      throw new Error(
        `ParallelDense: input must be [B, in] or [B, ${this.towers}, in], got [${shape.join(', ')}]`,
      );
    }
    const inDim = shape[shape.length - 1]!;
    this.kernel = this.addWeight('kernel', [this.towers, inDim, this.units], 'float32', this.kernelInit);
    this.bias = this.addWeight('bias', [this.towers, this.units], 'float32', this.biasInit);
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    return [shape[0] ?? null, this.towers, this.units];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      const kernel = this.kernel!.read();
      const bias = this.bias!.read();
      // small towers on cpu/wasm: one kernel forward, one backward (dense-kernels.ts)
      if (denseFusible(x, kernel, this.activation)) return denseForward(x, kernel, bias, this.activation);
      const [T, inDim, U] = [this.towers, kernel.shape[1]!, this.units];
      const batch = x.shape[0];
      let y: tf.Tensor;
      if (x.rank === 2) {
        // shared input: one [B, in] × [in, T·U] product for all towers
        const wide =
          inDim === 1
            ? tf.reshape(kernel, [1, T * U])
            : tf.reshape(tf.transpose(kernel, [1, 0, 2]), [inDim, T * U]);
        // one input feature: the product is an outer product, a broadcast multiply is far cheaper
        const product = inDim === 1 ? tf.mul(x, wide) : tf.matMul(x, wide);
        y = tf.reshape(tf.add(product, tf.reshape(bias, [T * U])), [batch, T, U]);
      } else if (U === 1) {
        // one output per tower: a multiply and a last-axis sum beat a batched matMul
        y = tf.add(tf.sum(tf.mul(x, tf.reshape(kernel, [T, inDim])), 2, true), tf.reshape(bias, [T, 1]));
      } else {
        const perTower = tf.matMul(tf.transpose(x, [1, 0, 2]), kernel);
        y = tf.add(tf.transpose(perTower, [1, 0, 2]), bias);
      }
      switch (this.activation) {
        case 'linear':
          return y;
        case 'relu':
          return tf.relu(y);
        case 'tanh':
          return tf.tanh(y);
        case 'sigmoid':
          return tf.sigmoid(y);
        case 'elu':
          return tf.elu(y);
      }
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      towers: this.towers,
      units: this.units,
      activation: this.activation,
      kernelInitializer: serializeInitializer(this.kernelInit),
      biasInitializer: serializeInitializer(this.biasInit),
    };
  }

  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    const c = config as unknown as ParallelDenseArgs & {
      kernelInitializer: unknown;
      biasInitializer: unknown;
    };
    return new cls({
      ...c,
      kernelInitializer: deserializeInitializer(c.kernelInitializer),
      biasInitializer: deserializeInitializer(c.biasInitializer),
    });
  }
}

/**
 * The outputs of a multi-output layer's call, made once per input and engine scope. TF.js's executor
 * applies a layer once per output it fetches: within one model call (one engine scope) the same input
 * must get the outputs already made, not a second computation on the tape. In inference the executor
 * disposes an output once its consumers have run, before it applies the layer again for the next one:
 * the outputs made are returned while any of them is alive (the executor reads only those it has not
 * fed on yet).
 */
export class OutputsPerScope {
  private last?: { input: tf.Tensor; scope: unknown; outputs: tf.Tensor[] };

  get(input: tf.Tensor, compute: () => tf.Tensor[]): tf.Tensor[] {
    const scope = (tf.engine() as unknown as { state: { activeScope: unknown } }).state.activeScope;
    const last = this.last;
    if (last && last.input === input && last.scope === scope && last.outputs.some((t) => !t.isDisposed))
      return last.outputs;
    const outputs = compute();
    this.last = { input, scope, outputs };
    return outputs;
  }
}

/** Splits [B, T, U] into T outputs [B, U]: one model output per task. */
export class UnstackTowers extends tf.layers.Layer {
  static readonly className = 'UnstackTowers';
  private readonly made = new OutputsPerScope();

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape[] {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    return Array.from({ length: shape[1]! }, () => [shape[0] ?? null, shape[2]!]);
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor[] {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    // tf.unstack's gradient breaks on a single output (it stacks a bare tensor)
    return this.made.get(x, () =>
      x.shape[1] === 1 ? [tf.reshape(x, [x.shape[0], x.shape[2]!])] : tf.unstack(x, 1),
    );
  }
}

export function resolveInitializer(init: Initializer | string): Initializer {
  if (typeof init !== 'string') return init;
  return deserializeInitializer({ className: init[0]!.toUpperCase() + init.slice(1), config: {} });
}

export function serializeInitializer(init: Initializer): tf.serialization.ConfigDict {
  return { className: init.getClassName(), config: init.getConfig() };
}

export function deserializeInitializer(value: unknown): Initializer {
  const { className, config } = value as { className: string; config: tf.serialization.ConfigDict };
  const entry = tf.serialization.SerializationMap.getMap().classNameMap[className];
  if (entry === undefined) throw new Error(`unknown initializer '${className}'`);
  const [cls, fromConfig] = entry;
  return fromConfig(cls, config) as unknown as Initializer;
}

tf.serialization.registerClass(ParallelDense);
tf.serialization.registerClass(UnstackTowers);
