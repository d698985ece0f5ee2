import * as tf from '@tensorflow/tfjs';
import {
  deserializeInitializer,
  OutputsPerScope,
  resolveInitializer,
  serializeInitializer,
  type Initializer,
} from '../models/parallel-dense.js';

export interface SceneConv2DArgs {
  filters: number;
  kernelSize: number;
  /** Default 1. A stride > 1 requires dilationRate 1. */
  strides?: number;
  /** Default 1. */
  dilationRate?: number;
  /** Default false (the conv feeds a batch norm). */
  useBias?: boolean;
  kernelInitializer?: Initializer | string;
  name?: string;
  trainable?: boolean;
}

/**
 * A 'same'-padded 2-D convolution (channels last) that runs the plain `conv2d` op.
 *
 * tf.layers.conv2d runs through tf.fused.conv2d, whose hand-written gradient rejects dilations > 1
 * and computes the input gradient even for the first layer, where nothing needs it (a fifth of the
 * backward pass of a small encoder). The plain op's gradient is lazy per input, and
 * registerConvGradient (src/backend/conv-gradient.ts) gives it dilations and a matmul path for 1×1.
 */
export class SceneConv2D extends tf.layers.Layer {
  static readonly className = 'SceneConv2D';
  readonly filters: number;
  readonly kernelSize: number;
  readonly strides: number;
  readonly dilationRate: number;
  readonly useBias: boolean;
  private readonly kernelInit: Initializer;
  private kernel?: tf.LayerVariable;
  private bias?: tf.LayerVariable;

  constructor(args: SceneConv2DArgs) {
    super({ ...(args.name !== undefined ? { name: args.name } : {}), trainable: args.trainable ?? true });
    this.filters = args.filters;
    this.kernelSize = args.kernelSize;
    this.strides = args.strides ?? 1;
    this.dilationRate = args.dilationRate ?? 1;
    this.useBias = args.useBias ?? false;
    for (const key of ['filters', 'kernelSize', 'strides', 'dilationRate'] as const) {
      if (!Number.isInteger(this[key]) || this[key] < 1) {
        throw new Error(`SceneConv2D: ${key} must be an integer ≥ 1, got ${this[key]}`);
      }
    }
    if (this.strides > 1 && this.dilationRate > 1) {
      throw new Error('SceneConv2D: strides > 1 and dilationRate > 1 cannot be combined');
    }
    this.kernelInit = resolveInitializer(args.kernelInitializer ?? 'glorotUniform');
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const channels = shape[shape.length - 1];
    if (shape.length !== 4 || channels == null) {
      throw new Error(`SceneConv2D: input must be [B, H, W, C], got [${shape.join(', ')}]`);
    }
    const k = this.kernelSize;
    this.kernel = this.addWeight('kernel', [k, k, channels, this.filters], 'float32', this.kernelInit);
    if (this.useBias) {
      this.bias = this.addWeight('bias', [this.filters], 'float32', tf.initializers.zeros());
    }
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const out = (n: number | null | undefined): number | null =>
      n == null ? null : Math.ceil(n / this.strides);
    return [shape[0] ?? null, out(shape[1]), out(shape[2]), this.filters];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = (Array.isArray(inputs) ? inputs[0]! : inputs) as tf.Tensor4D;
    if (this.bias !== undefined && this.kernelSize === 1 && this.strides === 1) {
      // a 1×1 conv with bias is a matMul over the positions, the bias fused into it: a separate add of a
      // [filters] bias over [B, H, W, filters] costs wasm more than the conv when filters is small
      // (XNNPACK broadcasts row by row: 1.5 ms for the instance head's 2 channels)
      const [b, h, w, c] = x.shape;
      return tf.tidy(() => {
        const y = tf.fused.matMul({
          a: tf.reshape(x, [b * h * w, c]),
          b: tf.reshape(this.kernel!.read(), [c, this.filters]),
          bias: this.bias!.read(),
        });
        return tf.reshape(y, [b, h, w, this.filters]);
      });
    }
    const d = this.dilationRate;
    const y = tf.conv2d(x, this.kernel!.read() as tf.Tensor4D, this.strides, 'same', 'NHWC', [d, d]);
    return this.bias === undefined ? y : tf.add(y, this.bias.read());
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      filters: this.filters,
      kernelSize: this.kernelSize,
      strides: this.strides,
      dilationRate: this.dilationRate,
      useBias: this.useBias,
      kernelInitializer: serializeInitializer(this.kernelInit),
    };
  }

  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    const c = config as unknown as SceneConv2DArgs & { kernelInitializer: unknown };
    return new cls({ ...c, kernelInitializer: deserializeInitializer(c.kernelInitializer) });
  }
}

tf.serialization.registerClass(SceneConv2D);

export interface SceneBranchProjectionArgs {
  filters: number;
  /** One per branch (input), in order; each branch's kernel [1, 1, C_i, filters] is drawn from its own. */
  kernelInitializers: (Initializer | string)[];
  name?: string;
  trainable?: boolean;
}

/**
 * The sum of per-branch 1×1 convolutions (no bias), Σ_i conv1×1(branch_i, kernel_i) for branches
 * [B, H, W, C_i] → [B, H, W, filters]: the ASPP's projection of its branches' concatenation, each branch
 * with its own kernel and initialiser. Run as one 1×1 convolution of the channel concatenation with the
 * kernels stacked — one matrix product each way instead of one per branch plus the adds (on wasm the
 * branches' filter gradients all packed the same output gradient anew: 12 → ~6 ms a scene step).
 */
export class SceneBranchProjection extends tf.layers.Layer {
  static readonly className = 'SceneBranchProjection';
  readonly filters: number;
  private readonly kernelInits: Initializer[];
  private kernels: tf.LayerVariable[] = [];

  constructor(args: SceneBranchProjectionArgs) {
    super({ ...(args.name !== undefined ? { name: args.name } : {}), trainable: args.trainable ?? true });
    this.filters = args.filters;
    if (!Number.isInteger(this.filters) || this.filters < 1)
      throw new Error(`SceneBranchProjection: filters must be an integer ≥ 1, got ${this.filters}`);
    if (args.kernelInitializers.length < 1)
      throw new Error('SceneBranchProjection: needs one kernel initializer per branch');
    this.kernelInits = args.kernelInitializers.map(resolveInitializer);
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shapes = (Array.isArray(inputShape[0]) ? inputShape : [inputShape]) as tf.Shape[];
    if (shapes.length !== this.kernelInits.length)
      throw new Error(
        `SceneBranchProjection: ${shapes.length} branches for ${this.kernelInits.length} kernel initializers`,
      );
    this.kernels = shapes.map((shape, i) => {
      const channels = shape[shape.length - 1];
      if (shape.length !== 4 || channels == null)
        throw new Error(`SceneBranchProjection: branch ${i} must be [B, H, W, C], got [${shape.join(', ')}]`);
      return this.addWeight(`kernel_${i}`, [1, 1, channels, this.filters], 'float32', this.kernelInits[i]);
    });
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shapes = (Array.isArray(inputShape[0]) ? inputShape : [inputShape]) as tf.Shape[];
    return [...shapes[0]!.slice(0, 3), this.filters];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const branches = (Array.isArray(inputs) ? inputs : [inputs]) as tf.Tensor4D[];
    return tf.tidy(() => {
      const x = branches.length === 1 ? branches[0]! : tf.concat(branches, 3);
      const kernels = this.kernels.map((k) => k.read() as tf.Tensor4D);
      const w = kernels.length === 1 ? kernels[0]! : tf.concat(kernels, 2);
      return tf.conv2d(x, w, 1, 'same');
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      filters: this.filters,
      kernelInitializers: this.kernelInits.map(serializeInitializer),
    };
  }

  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    const c = config as unknown as SceneBranchProjectionArgs & { kernelInitializers: unknown[] };
    return new cls({ ...c, kernelInitializers: c.kernelInitializers.map(deserializeInitializer) });
  }
}

tf.serialization.registerClass(SceneBranchProjection);

export interface SceneSharedConv2DArgs {
  /** Channels of each output. */
  filters: number;
  kernelSize: number;
  /** One per output, in order; each output's kernel [k, k, C, filters] is drawn from its own. */
  kernelInitializers: (Initializer | string)[];
  name?: string;
  trainable?: boolean;
}

/**
 * Several 'same'-padded stride-1 convolutions (no bias) of one input, each with its own kernel: outputs
 * [B, H, W, filters], one per kernel — the task decoders' first convolutions of the shared features.
 * Run as one convolution with the kernels side by side along the output channels, then split: the input
 * is read (and, for the filter gradient, gathered into patches) once, and the matrix products are wider
 * (on wasm, three decoders forward and backward 42–46 → 37–41 ms in one bench).
 */
export class SceneSharedConv2D extends tf.layers.Layer {
  static readonly className = 'SceneSharedConv2D';
  readonly filters: number;
  readonly kernelSize: number;
  private readonly kernelInits: Initializer[];
  private kernels: tf.LayerVariable[] = [];
  private readonly made = new OutputsPerScope();

  constructor(args: SceneSharedConv2DArgs) {
    super({ ...(args.name !== undefined ? { name: args.name } : {}), trainable: args.trainable ?? true });
    this.filters = args.filters;
    this.kernelSize = args.kernelSize;
    for (const key of ['filters', 'kernelSize'] as const) {
      if (!Number.isInteger(this[key]) || this[key] < 1)
        throw new Error(`SceneSharedConv2D: ${key} must be an integer ≥ 1, got ${this[key]}`);
    }
    if (args.kernelInitializers.length < 1)
      throw new Error('SceneSharedConv2D: needs one kernel initializer per output');
    this.kernelInits = args.kernelInitializers.map(resolveInitializer);
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const channels = shape[shape.length - 1];
    if (shape.length !== 4 || channels == null)
      throw new Error(`SceneSharedConv2D: input must be [B, H, W, C], got [${shape.join(', ')}]`);
    const k = this.kernelSize;
    this.kernels = this.kernelInits.map((init, i) =>
      this.addWeight(`kernel_${i}`, [k, k, channels, this.filters], 'float32', init),
    );
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape[] {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    return this.kernelInits.map(() => [...shape.slice(0, 3), this.filters]);
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor[] {
    const x = (Array.isArray(inputs) ? inputs[0]! : inputs) as tf.Tensor4D;
    return this.made.get(x, () =>
      tf.tidy(() => {
        const kernels = this.kernels.map((k) => k.read() as tf.Tensor4D);
        if (kernels.length === 1) return [tf.conv2d(x, kernels[0]!, 1, 'same')];
        const y = tf.conv2d(x, tf.concat(kernels, 3), 1, 'same');
        return tf.split(y, kernels.length, 3);
      }),
    );
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      filters: this.filters,
      kernelSize: this.kernelSize,
      kernelInitializers: this.kernelInits.map(serializeInitializer),
    };
  }

  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    const c = config as unknown as SceneSharedConv2DArgs & { kernelInitializers: unknown[] };
    return new cls({ ...c, kernelInitializers: c.kernelInitializers.map(deserializeInitializer) });
  }
}

tf.serialization.registerClass(SceneSharedConv2D);
