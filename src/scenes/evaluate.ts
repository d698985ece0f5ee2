/** Table 1's metrics for a trained scene network, batch by batch. Browser-safe. */
import * as tf from '@tensorflow/tfjs';
import { THING_CLASSES, type SceneBatch } from '../data/synthetic/scenes.js';
import { sceneImages } from './batches.js';
import { clusterInstanceVotes, InstanceMaskScore } from './instances.js';
import { InstanceVectorError, InverseDepthError, SemanticConfusion } from './metrics.js';
import { orderedTasks, type SceneTask } from './model.js';

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

/** Per-image predictions, flat: [H·W] classes, [H·W·2] offsets, [H·W] inverse depth. */
export interface ScenePrediction {
  semantic?: Int32Array;
  instance?: Float32Array;
  depth?: Float32Array;
}

/** Runs the network in inference mode on scenes `indices` and returns per-image predictions. */
export function predictScenes(
  model: tf.LayersModel,
  tasks: readonly SceneTask[],
  data: SceneBatch,
  indices: readonly number[],
): ScenePrediction[] {
  const ordered = orderedTasks(tasks);
  const P = data.height * data.width;
  const raw = tf.tidy(() => {
    const out = model.apply(sceneImages(data, indices), { training: false }) as tf.Tensor | tf.Tensor[];
    const outs = Array.isArray(out) ? out : [out];
    return ordered.map((task, i) => (task === 'semantic' ? tf.argMax(outs[i]!, -1) : outs[i]!));
  });
  const arrays = raw.map((t) => t.dataSync());
  tf.dispose(raw);
  return indices.map((_, b) => {
    const p: ScenePrediction = {};
    ordered.forEach((task, i) => {
      const a = arrays[i]!;
      if (task === 'semantic') p.semantic = Int32Array.from(a.subarray(b * P, (b + 1) * P));
      else if (task === 'instance') p.instance = Float32Array.from(a.subarray(b * P * 2, (b + 1) * P * 2));
      else p.depth = Float32Array.from(a.subarray(b * P, (b + 1) * P));
    });
    return p;
  });
}

export interface SceneEvaluationOptions {
  batchSize?: number;
  /** Cluster the votes into instance masks and score them (default true). */
  instanceMasks?: boolean;
}

/** Evaluates on every scene of `data`. */
export function evaluateSceneModel(
  model: tf.LayersModel,
  tasks: readonly SceneTask[],
  data: SceneBatch,
  numClasses: number,
  options: SceneEvaluationOptions = {},
): SceneMetrics {
  const ordered = orderedTasks(tasks);
  const batchSize = options.batchSize ?? 16;
  const P = data.height * data.width;
  const confusion = new SemanticConfusion(numClasses);
  const vectors = new InstanceVectorError();
  const depth = new InverseDepthError();
  const masks = new InstanceMaskScore();
  const clusterMasks = options.instanceMasks ?? true;
  const hasSemantic = ordered.includes('semantic');
  const things = new Set(THING_CLASSES);

  for (let start = 0; start < data.count; start += batchSize) {
    const indices = Array.from({ length: Math.min(batchSize, data.count - start) }, (_, k) => start + k);
    const predictions = predictScenes(model, ordered, data, indices);
    predictions.forEach((p, b) => {
      const s = indices[b]!;
      const labels = data.semantic.subarray(s * P, (s + 1) * P);
      const ids = data.instance.subarray(s * P, (s + 1) * P);
      if (p.semantic) confusion.add(p.semantic, labels);
      if (p.instance) {
        vectors.add(p.instance, data.instanceOffset.subarray(s * P * 2, (s + 1) * P * 2), ids);
        if (clusterMasks) {
          // Without a semantic head, the true thing pixels (and classes) choose who votes.
          const classes = p.semantic ?? Int32Array.from(labels, (c) => (things.has(c) ? c : -1));
          const predIds = clusterInstanceVotes(classes, p.instance, data.height, data.width, {
            thingClasses: THING_CLASSES,
          });
          masks.add(predIds, ids);
        }
      }
      if (p.depth) {
        depth.add(
          p.depth,
          data.inverseDepth.subarray(s * P, (s + 1) * P),
          data.depthMask.subarray(s * P, (s + 1) * P),
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
