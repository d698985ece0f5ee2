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

interface StackedKernelsArgs {
  /** Output channels (of the sum, or of each output). */
  filters: number;
  /** One per part (branch or output), in order; each part's kernel is drawn from its own. */
  kernelInitializers: (Initializer | string)[];
  name?: string;
  trainable?: boolean;
}

/**
 * What SceneBranchProjection and SceneSharedConv2D share: one kernel per part (a branch, an output), each
 * its own weight `kernel_i` drawn from its own initialiser — so the initial weights are those separate
 * layers would draw — run stacked as one operation; the checks, the stacking and the serialisation.
 */
abstract class StackedKernelsLayer extends tf.layers.Layer {
  readonly filters: number;
  protected readonly kernelInits: Initializer[];
  protected kernels: tf.LayerVariable[] = [];

  constructor(args: StackedKernelsArgs, part: string) {
    super({ ...(args.name !== undefined ? { name: args.name } : {}), trainable: args.trainable ?? true });
    this.filters = args.filters;
    if (!Number.isInteger(this.filters) || this.filters < 1)
      throw new Error(`${this.getClassName()}: filters must be an integer ≥ 1, got ${this.filters}`);
    if (args.kernelInitializers.length < 1)
      throw new Error(`${this.getClassName()}: needs one kernel initializer per ${part}`);
    this.kernelInits = args.kernelInitializers.map(resolveInitializer);
  }

  /** Adds `kernel_i` of `shape(i)` for every initialiser. */
  protected addKernels(shape: (i: number) => number[]): void {
    this.kernels = this.kernelInits.map((init, i) =>
      this.addWeight(`kernel_${i}`, shape(i), 'float32', init),
    );
  }

  /** The kernels side by side along `axis` (inside the caller's tidy). */
  protected stackedKernel(axis: number): tf.Tensor4D {
    const kernels = this.kernels.map((k) => k.read() as tf.Tensor4D);
    return kernels.length === 1 ? kernels[0]! : tf.concat(kernels, axis);
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
    const c = config as unknown as StackedKernelsArgs & { kernelInitializers: unknown[] };
    return new cls({ ...c, kernelInitializers: c.kernelInitializers.map(deserializeInitializer) });
  }
}

export type SceneBranchProjectionArgs = StackedKernelsArgs;

/**
 * The sum of per-branch 1×1 convolutions (no bias), Σ_i conv1×1(branch_i, kernel_i) for branches
 * [B, H, W, C_i] → [B, H, W, filters]: the ASPP's projection of its branches' concatenation, each branch
 * with its own kernel and initialiser. Run as one 1×1 convolution of the channel concatenation with the
 * kernels stacked — one matrix product each way instead of one per branch plus the adds (on wasm the
 * branches' filter gradients all packed the same output gradient anew: 12 → ~6 ms a scene step).
 */
export class SceneBranchProjection extends StackedKernelsLayer {
  static readonly className = 'SceneBranchProjection';

  constructor(args: SceneBranchProjectionArgs) {
    super(args, 'branch');
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shapes = (Array.isArray(inputShape[0]) ? inputShape : [inputShape]) as tf.Shape[];
    if (shapes.length !== this.kernelInits.length)
      throw new Error(
        `SceneBranchProjection: ${shapes.length} branches for ${this.kernelInits.length} kernel initializers`,
      );
    const channels = shapes.map((shape, i) => {
      const c = shape[shape.length - 1];
      if (shape.length !== 4 || c == null)
        throw new Error(`SceneBranchProjection: branch ${i} must be [B, H, W, C], got [${shape.join(', ')}]`);
      return c;
    });
    this.addKernels((i) => [1, 1, channels[i]!, this.filters]);
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
      return tf.conv2d(x, this.stackedKernel(2), 1, 'same');
    });
  }
}

tf.serialization.registerClass(SceneBranchProjection);

export interface SceneSharedConv2DArgs extends StackedKernelsArgs {
  kernelSize: number;
}

/**
 * Several 'same'-padded stride-1 convolutions (no bias) of one input, each with its own kernel: outputs
 * [B, H, W, filters], one per kernel — the task decoders' first convolutions of the shared features.
 * Run as one convolution with the kernels side by side along the output channels, then split: the input
 * is read (and, for the filter gradient, gathered into patches) once, and the matrix products are wider
 * (on wasm, three decoders forward and backward 42–46 → 37–41 ms in one bench).
 */
export class SceneSharedConv2D extends StackedKernelsLayer {
  static readonly className = 'SceneSharedConv2D';
  readonly kernelSize: number;
  private readonly made = new OutputsPerScope();

  constructor(args: SceneSharedConv2DArgs) {
    super(args, 'output');
    this.kernelSize = args.kernelSize;
    if (!Number.isInteger(this.kernelSize) || this.kernelSize < 1)
      throw new Error(`SceneSharedConv2D: kernelSize must be an integer ≥ 1, got ${this.kernelSize}`);
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const channels = shape[shape.length - 1];
    if (shape.length !== 4 || channels == null)
      throw new Error(`SceneSharedConv2D: input must be [B, H, W, C], got [${shape.join(', ')}]`);
    const k = this.kernelSize;
    this.addKernels(() => [k, k, channels, this.filters]);
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
        const y = tf.conv2d(x, this.stackedKernel(3), 1, 'same');
        return this.kernels.length === 1 ? [y] : tf.split(y, this.kernels.length, 3);
      }),
    );
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), kernelSize: this.kernelSize };
  }
}

tf.serialization.registerClass(SceneSharedConv2D);
