/** Table 1's metrics for a trained scene network, streamed chunk by chunk from a source. Browser-safe. */
import * as tf from '@tensorflow/tfjs';
import type { SceneBatch } from '../data/synthetic/scenes.js';
import { framesToSceneBatch, loadFrames, memorySceneSource, type SceneSource } from './data.js';
import { clusterInstanceVotes, InstanceMaskScore } from './instances.js';
import { InstanceVectorError, InverseDepthError, SemanticConfusion } from './metrics.js';
import { heteroscedasticHeads, orderedTasks, type SceneTask } from './model.js';
import { laplaceSigma, softmaxEntropy } from './uncertainty.js';

export interface SceneMetrics {
  semantic?: { meanIoU: number; pixelAccuracy: number; classIoU: number[] };
  instance?: {
    /** Mean Euclidean error of the centroid vectors on instance pixels, px (Table 1's column). */
    vectorError: number;
    /** Mean per-component absolute error, px (the training loss's units). */
    vectorAbsError: number;
    /** Instances from clustering the votes, matched to the truth at IoU ≥ 0.5. */
    ap50: number;
    meanMatchedIoU: number;
    /** Whether the instance masks used the predicted (true) or ground-truth (false) thing pixels. */
    predictedThings: boolean;
  };
  depth?: { meanAbsError: number; rmse: number };
}

/**
 * Per-image predictions, flat: [H·W] classes, [H·W·2] offsets, [H·W] inverse depth (the means, for a
 * heteroscedastic head); with `uncertainty`, the per-pixel maps (see predictScenes).
 */
export interface ScenePrediction {
  semantic?: Int32Array;
  instance?: Float32Array;
  depth?: Float32Array;
  /** [H·W] entropy of the semantic softmax, nats (0 … log C). */
  semanticEntropy?: Float32Array;
  /** [H·W] σ of the instance vector, √(σ_dy² + σ_dx²), px (heteroscedastic heads only). */
  instanceSigma?: Float32Array;
  /** [H·W] σ = √2·b of inverse depth, the target's units (heteroscedastic heads only). */
  depthSigma?: Float32Array;
}

export interface PredictScenesOptions {
  /** Also return the uncertainty maps: the semantic entropy and heteroscedastic heads' σ. Default false. */
  uncertainty?: boolean;
}

/** The images of scenes `indices` only, [B, H, W, 3]. */
function sceneImages(data: SceneBatch, indices: readonly number[]): tf.Tensor4D {
  const P = data.height * data.width * 3;
  const image = new Float32Array(indices.length * P);
  indices.forEach((s, b) => image.set(data.images.subarray(s * P, (s + 1) * P), b * P));
  return tf.tensor4d(image, [indices.length, data.height, data.width, 3]);
}

/**
 * Runs the network in inference mode on scenes `indices` and returns per-image predictions. A
 * heteroscedastic head (read off the model's output channels) gives its mean channels as the prediction
 * and, with `options.uncertainty`, its σ map; the semantic head gives its softmax entropy.
 */
export function predictScenes(
  model: tf.LayersModel,
  tasks: readonly SceneTask[],
  data: SceneBatch,
  indices: readonly number[],
  options: PredictScenesOptions = {},
): ScenePrediction[] {
  const ordered = orderedTasks(tasks);
  const hetero = heteroscedasticHeads(model, ordered);
  const maps = options.uncertainty ?? false;
  const P = data.height * data.width;
  const keys: (keyof ScenePrediction)[] = [];
  const raw = tf.tidy(() => {
    const out = model.apply(sceneImages(data, indices), { training: false }) as tf.Tensor | tf.Tensor[];
    const outs = Array.isArray(out) ? out : [out];
    const tensors: tf.Tensor[] = [];
    ordered.forEach((task, i) => {
      const o = outs[i]!;
      if (task === 'semantic') {
        keys.push('semantic');
        tensors.push(tf.argMax(o, -1));
        if (maps) {
          keys.push('semanticEntropy');
          tensors.push(softmaxEntropy(o));
        }
        return;
      }
      const [mean, logScale] = hetero[i] ? tf.split(o, 2, -1) : [o, undefined];
      keys.push(task);
      tensors.push(mean);
      if (maps && logScale) {
        keys.push(task === 'instance' ? 'instanceSigma' : 'depthSigma');
        tensors.push(laplaceSigma(logScale));
      }
    });
    return tensors;
  });
  const arrays = raw.map((t) => t.dataSync());
  tf.dispose(raw);
  return indices.map((_, b) => {
    const p: ScenePrediction = {};
    keys.forEach((key, i) => {
      const a = arrays[i]!;
      if (key === 'semantic') p.semantic = Int32Array.from(a.subarray(b * P, (b + 1) * P));
      else if (key === 'instance') p.instance = Float32Array.from(a.subarray(b * P * 2, (b + 1) * P * 2));
      else p[key] = Float32Array.from(a.subarray(b * P, (b + 1) * P));
    });
    return p;
  });
}

export interface SceneEvaluationOptions {
  /** Frames per forward pass (and per loaded chunk); default 16. */
  batchSize?: number;
  /** Cluster the votes into instance masks and score them (default true). */
  instanceMasks?: boolean;
  /** Evaluate only the first this many frames. */
  limit?: number;
}

/**
 * Evaluates on every frame of `data` (a SceneSource — a dataset split, read chunk by chunk while the
 * previous chunk is scored — or scenes in memory), at the source's resolution, without augmentation.
 */
export async function evaluateSceneModel(
  model: tf.LayersModel,
  tasks: readonly SceneTask[],
  data: SceneSource | SceneBatch,
  options: SceneEvaluationOptions = {},
): Promise<SceneMetrics> {
  const source = 'frame' in data ? data : memorySceneSource(data);
  const ordered = orderedTasks(tasks);
  const batchSize = options.batchSize ?? 16;
  const count = Math.min(source.size, options.limit ?? Infinity);
  if (count < 1) throw new RangeError('evaluateSceneModel: there are no frames to evaluate');
  const P = source.height * source.width;
  const thingClasses = source.thingClasses;
  const confusion = new SemanticConfusion(source.classes.length);
  const vectors = new InstanceVectorError();
  const depth = new InverseDepthError();
  const masks = new InstanceMaskScore();
  const clusterMasks = options.instanceMasks ?? true;
  const hasSemantic = ordered.includes('semantic');
  const things = new Set(thingClasses);
  const chunk = (start: number) =>
    loadFrames(
      source,
      Array.from({ length: Math.min(batchSize, count - start) }, (_, k) => start + k),
    );

  let next = chunk(0);
  for (let start = 0; start < count; start += batchSize) {
    const batch = framesToSceneBatch(await next);
    if (start + batchSize < count) next = chunk(start + batchSize);
    const indices = Array.from({ length: batch.count }, (_, k) => k);
    const predictions = predictScenes(model, ordered, batch, indices);
    predictions.forEach((p, s) => {
      const labels = batch.semantic.subarray(s * P, (s + 1) * P);
      const ids = batch.instance.subarray(s * P, (s + 1) * P);
      if (p.semantic) confusion.add(p.semantic, labels);
      if (p.instance) {
        vectors.add(p.instance, batch.instanceOffset.subarray(s * P * 2, (s + 1) * P * 2), ids);
        if (clusterMasks) {
          // Without a semantic head, the true thing pixels (and classes) choose who votes.
          const classes = p.semantic ?? Int32Array.from(labels, (c) => (things.has(c) ? c : -1));
          const predIds = clusterInstanceVotes(classes, p.instance, batch.height, batch.width, {
            thingClasses,
          });
          masks.add(predIds, ids);
        }
      }
      if (p.depth) {
        depth.add(
          p.depth,
          batch.inverseDepth.subarray(s * P, (s + 1) * P),
          batch.depthMask.subarray(s * P, (s + 1) * P),
        );
      }
    });
  }

  const metrics: SceneMetrics = {};
  if (hasSemantic) {
    metrics.semantic = {
      meanIoU: confusion.meanIoU(),
      pixelAccuracy: confusion.pixelAccuracy(),
      classIoU: confusion.iou(),
    };
  }
  if (ordered.includes('instance')) {
    metrics.instance = {
      vectorError: vectors.meanError(),
      vectorAbsError: vectors.meanAbsError(),
      ap50: clusterMasks ? masks.ap50() : NaN,
      meanMatchedIoU: clusterMasks ? masks.meanMatchedIoU() : NaN,
      predictedThings: hasSemantic,
    };
  }
  if (ordered.includes('depth')) {
    metrics.depth = { meanAbsError: depth.meanAbsError(), rmse: depth.rmse() };
  }
  return metrics;
}
