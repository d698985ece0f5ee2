/**
 * The scene network: a small DeepLab-style shared encoder (strided convolutions with batch norm, then an
 * ASPP block of a 1×1 conv, dilated 3×3 convs and global pooling) and one decoder per task, as in the
 * appendix of Kendall, Gal & Cipolla (CVPR 2018): conv → batch norm → ReLU → conv → bilinear upsampling
 * to the input size. Built from stock tf.layers only, so it saves and loads like any LayersModel.
 */
import * as tf from '@tensorflow/tfjs';
import type { Initializer } from '../models/parallel-dense.js';
import { SceneBranchProjection, SceneConv2D, SceneSharedConv2D } from './conv.js';
import { FastBatchNorm } from './batch-norm.js';

/** The paper's three dense tasks, in the order the model's outputs follow. */
export const SCENE_TASKS = Object.freeze(['semantic', 'instance', 'depth'] as const);
export type SceneTask = (typeof SCENE_TASKS)[number];

export interface SceneModelOptions {
  height: number;
  width: number;
  /** Semantic classes (semantic head's channels). */
  numClasses: number;
  /** Heads to build, a non-empty subset of SCENE_TASKS; outputs follow SCENE_TASKS' order. */
  tasks: readonly SceneTask[];
  /** Channels of the encoder stages (stride 2, 4, 4); default [16, 32, 64]. */
  encoderChannels?: readonly [number, number, number];
  /** Channels of each ASPP branch and of its projection; default 32. */
  asppChannels?: number;
  /** Dilations of the ASPP's 3×3 branches; default [2, 4, 6]. */
  asppDilations?: readonly number[];
  /** Channels of each decoder's hidden conv; default 32. */
  decoderChannels?: number;
  /** Seed of the weight initialisers. */
  seed?: number;
  /**
   * The instance and depth heads also predict a per-pixel log-scale s = log b (Laplace): depth gets 2
   * channels (inverse depth, s), instance 4 (dy, dx, s_y, s_x). Default false.
   */
  heteroscedastic?: boolean;
}

/**
 * Channels each head outputs: the classes' logits; 2 (dy, dx) or, heteroscedastic, 4 (dy, dx, log b_y,
 * log b_x); 1 (inverse depth) or, heteroscedastic, 2 (inverse depth, log b).
 */
export function headChannels(task: SceneTask, numClasses: number, heteroscedastic = false): number {
  const base = task === 'semantic' ? numClasses : task === 'instance' ? 2 : 1;
  return heteroscedastic && task !== 'semantic' ? 2 * base : base;
}

/**
 * Whether each head of `model` (built for `tasks`) is heteroscedastic, read off its output channels;
 * throws when a head has neither the plain nor the heteroscedastic channel count.
 */
export function heteroscedasticHeads(model: tf.LayersModel, tasks: readonly SceneTask[]): boolean[] {
  const ordered = orderedTasks(tasks);
  if (model.outputs.length !== ordered.length)
    throw new Error(`scene model: ${model.outputs.length} outputs for the tasks ${ordered.join(', ')}`);
  return ordered.map((task, i) => {
    const channels = model.outputs[i]!.shape.at(-1);
    if (task === 'semantic') return false;
    if (channels === headChannels(task, 2, false)) return false;
    if (channels === headChannels(task, 2, true)) return true;
    throw new Error(`scene model: the ${task} head has ${String(channels)} channels`);
  });
}

/** Output stride of the encoder. */
export const SCENE_OUTPUT_STRIDE = 4;

export function checkSceneModelOptions(o: SceneModelOptions): void {
  for (const [key, v] of [
    ['height', o.height],
    ['width', o.width],
  ] as const) {
    if (!Number.isInteger(v) || v < SCENE_OUTPUT_STRIDE || v % SCENE_OUTPUT_STRIDE !== 0) {
      throw new RangeError(
        `scene model: ${key} must be a positive multiple of ${SCENE_OUTPUT_STRIDE}, got ${v}`,
      );
    }
  }
  if (!Number.isInteger(o.numClasses) || o.numClasses < 2) {
    throw new RangeError(`scene model: numClasses must be an integer ≥ 2, got ${o.numClasses}`);
  }
  if (o.tasks.length === 0) throw new RangeError('scene model: tasks must name at least one head');
  for (const t of o.tasks) {
    if (!(SCENE_TASKS as readonly string[]).includes(t)) {
      throw new RangeError(`scene model: unknown task '${t}'; choose from ${SCENE_TASKS.join(', ')}`);
    }
  }
  if (new Set(o.tasks).size !== o.tasks.length) throw new RangeError('scene model: a task is listed twice');
}

/** The tasks of `tasks` in the model's output order. */
export function orderedTasks(tasks: readonly SceneTask[]): SceneTask[] {
  return SCENE_TASKS.filter((t) => tasks.includes(t));
}

/** Builds the network; outputs are the requested heads in SCENE_TASKS' order, each [B, H, W, channels]. */
export function buildSceneModel(options: SceneModelOptions): tf.LayersModel {
  checkSceneModelOptions(options);
  const { height, width, numClasses } = options;
  const [c1, c2, c3] = options.encoderChannels ?? [16, 32, 64];
  const asppChannels = options.asppChannels ?? 32;
  const dilations = options.asppDilations ?? [2, 4, 6];
  const decoderChannels = options.decoderChannels ?? 32;
  // Initialiser seeds start at 1: tfjs treats seed 0 as "none" and draws that layer from Math.random
  // (its random generators test `seed ? seed : Math.random()`), which made seed-0 models irreproducible.
  let seed = (options.seed ?? 0) * 1000 + 1;
  const init = (): Initializer => tf.initializers.heNormal({ seed: seed++ });

  const convBnRelu = (
    x: tf.SymbolicTensor,
    name: string,
    filters: number,
    kernelSize: number,
    strides = 1,
    dilationRate = 1,
  ): tf.SymbolicTensor => {
    const conv = new SceneConv2D({
      name: `${name}_conv`,
      filters,
      kernelSize,
      strides,
      dilationRate,
      kernelInitializer: init(),
    });
    // the ReLU fused into the batch norm (one kernel each way on wasm)
    const bn = new FastBatchNorm({ name: `${name}_bn`, momentum: 0.9, epsilon: 1e-5, activation: 'relu' });
    return bn.apply(conv.apply(x)) as tf.SymbolicTensor;
  };

  const input = tf.input({ shape: [height, width, 3], name: 'image' });
  // Encoder: output stride 4.
  let x = convBnRelu(input, 'enc1', c1, 3, 2);
  x = convBnRelu(x, 'enc2', c2, 3, 2);
  x = convBnRelu(x, 'enc3', c2, 3);
  x = convBnRelu(x, 'enc4', c3, 3);

  // ASPP: 1×1, dilated 3×3 branches and image-level pooling, projected to 2·asppChannels: the projection
  // of their concatenation, as the sum of per-branch 1×1 projections (each branch its own kernel). The
  // full-size branches' projections run as one (SceneBranchProjection); the pooled branch's [B, 1, 1, ·]
  // projection is broadcast over the map by the add.
  const projChannels = asppChannels * 2;
  const branches: tf.SymbolicTensor[] = [];
  const projectionInits: Initializer[] = [];
  // initialisers drawn in the order the per-branch layers drew them (branch conv, then its projection)
  const branch = (b: () => tf.SymbolicTensor): void => {
    branches.push(b());
    projectionInits.push(init());
  };
  branch(() => convBnRelu(x, 'aspp_1x1', asppChannels, 1));
  dilations.forEach((d, i) => branch(() => convBnRelu(x, `aspp_d${d}_${i}`, asppChannels, 3, 1, d)));
  const projected = new SceneBranchProjection({
    name: 'aspp_proj',
    filters: projChannels,
    kernelInitializers: projectionInits,
  }).apply(branches) as tf.SymbolicTensor;
  let pooled = tf.layers.globalAveragePooling2d({ name: 'aspp_pool' }).apply(x) as tf.SymbolicTensor;
  pooled = tf.layers
    .reshape({ name: 'aspp_pool_reshape', targetShape: [1, 1, c3] })
    .apply(pooled) as tf.SymbolicTensor;
  const pooledBranch = convBnRelu(pooled, 'aspp_pool', asppChannels, 1);
  const pooledProjection = new SceneConv2D({
    name: 'aspp_pool_proj',
    filters: projChannels,
    kernelSize: 1,
    kernelInitializer: init(),
  }).apply(pooledBranch) as tf.SymbolicTensor;
  const projections = [projected, pooledProjection];
  const summed = tf.layers.add({ name: 'aspp_sum' }).apply(projections) as tf.SymbolicTensor;
  const features = new FastBatchNorm({
    name: 'aspp_bn',
    momentum: 0.9,
    epsilon: 1e-5,
    activation: 'relu',
  }).apply(summed) as tf.SymbolicTensor;

  // Decoders: conv → batch norm → ReLU → 1×1 conv → ×4 bilinear upsampling, one per task; their first
  // convolutions (all of the shared features) run as one (SceneSharedConv2D). Initialisers are drawn in
  // the order separate per-task layers drew them (hidden conv, then output conv, task by task).
  const tasks = orderedTasks(options.tasks);
  const inits = tasks.map(() => ({
    hidden: init(),
    out: tf.initializers.glorotUniform({ seed: seed++ }),
  }));
  const hidden = new SceneSharedConv2D({
    name: 'dec_conv',
    filters: decoderChannels,
    kernelSize: 3,
    kernelInitializers: inits.map((i) => i.hidden),
  }).apply(features) as tf.SymbolicTensor[];
  const outputs = tasks.map((task, t) => {
    const h = new FastBatchNorm({
      name: `${task}_dec_bn`,
      momentum: 0.9,
      epsilon: 1e-5,
      activation: 'relu',
    }).apply(hidden[t]!) as tf.SymbolicTensor;
    const out = new SceneConv2D({
      name: `${task}_out`,
      filters: headChannels(task, numClasses, options.heteroscedastic ?? false),
      kernelSize: 1,
      useBias: true,
      kernelInitializer: inits[t]!.out,
    }).apply(h) as tf.SymbolicTensor;
    return tf.layers
      .upSampling2d({
        name: task,
        size: [SCENE_OUTPUT_STRIDE, SCENE_OUTPUT_STRIDE],
        interpolation: 'bilinear',
      })
      .apply(out) as tf.SymbolicTensor;
  });
  return tf.model({ inputs: input, outputs, name: 'scene_mtl' });
}
