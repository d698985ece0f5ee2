/** Scene minibatches: host-side copies of chosen scenes, then one upload per tensor. Browser-safe. */
import * as tf from '@tensorflow/tfjs';
import type { SceneBatch } from '../data/synthetic/scenes.js';

/** One minibatch on the device, everything [B, H, W, ·]. */
export interface SceneTensors {
  image: tf.Tensor4D;
  /** [B, H, W, C] one-hot semantic labels, all zero on unlabelled pixels. */
  semanticOneHot: tf.Tensor4D;
  /** [B, H, W, 1] 1 where the semantic label is known. */
  semanticMask: tf.Tensor4D;
  /** [B, H, W, 2] vector to the instance centroid (dy, dx), px. */
  instanceOffset: tf.Tensor4D;
  /** [B, H, W, 1] 1 on instance pixels. */
  instanceMask: tf.Tensor4D;
  /** [B, H, W, 1] inverse depth, 1/m. */
  inverseDepth: tf.Tensor4D;
  /** [B, H, W, 1] 1 where inverse depth is labelled. */
  depthMask: tf.Tensor4D;
}

/** Copies scenes `indices` of `data` into device tensors. The caller disposes them (`disposeSceneTensors`). */
export function sceneTensors(data: SceneBatch, indices: readonly number[], numClasses: number): SceneTensors {
  const { height: H, width: W } = data;
  const P = H * W;
  const B = indices.length;
  const image = new Float32Array(B * P * 3);
  const labels = new Int32Array(B * P);
  const semanticMask = new Float32Array(B * P);
  const offsets = new Float32Array(B * P * 2);
  const instanceMask = new Float32Array(B * P);
  const depth = new Float32Array(B * P);
  const depthMask = new Float32Array(B * P);
  indices.forEach((s, b) => {
    if (!Number.isInteger(s) || s < 0 || s >= data.count) {
      throw new RangeError(`scene index ${s} is outside the ${data.count} scenes`);
    }
    image.set(data.images.subarray(s * P * 3, (s + 1) * P * 3), b * P * 3);
    offsets.set(data.instanceOffset.subarray(s * P * 2, (s + 1) * P * 2), b * P * 2);
    depth.set(data.inverseDepth.subarray(s * P, (s + 1) * P), b * P);
    for (let p = 0; p < P; p++) {
      const label = data.semantic[s * P + p]!;
      labels[b * P + p] = label;
      semanticMask[b * P + p] = label >= 0 ? 1 : 0;
      instanceMask[b * P + p] = data.instance[s * P + p]! > 0 ? 1 : 0;
      depthMask[b * P + p] = data.depthMask[s * P + p]!;
    }
  });
  return tf.tidy(() => ({
    image: tf.tensor4d(image, [B, H, W, 3]),
    // tf.oneHot maps the ignore label −1 to an all-zero row.
    semanticOneHot: tf.oneHot(tf.tensor3d(labels, [B, H, W], 'int32'), numClasses).toFloat() as tf.Tensor4D,
    semanticMask: tf.tensor4d(semanticMask, [B, H, W, 1]),
    instanceOffset: tf.tensor4d(offsets, [B, H, W, 2]),
    instanceMask: tf.tensor4d(instanceMask, [B, H, W, 1]),
    inverseDepth: tf.tensor4d(depth, [B, H, W, 1]),
    depthMask: tf.tensor4d(depthMask, [B, H, W, 1]),
  }));
}

export function disposeSceneTensors(t: SceneTensors): void {
  tf.dispose(Object.values(t));
}

/** The images of scenes `indices` only, [B, H, W, 3] (for prediction). */
export function sceneImages(data: SceneBatch, indices: readonly number[]): tf.Tensor4D {
  const P = data.height * data.width * 3;
  const image = new Float32Array(indices.length * P);
  indices.forEach((s, b) => image.set(data.images.subarray(s * P, (s + 1) * P), b * P));
  return tf.tensor4d(image, [indices.length, data.height, data.width, 3]);
}
