/**
 * The three dense losses of the scene system, each a mean over the pixels that carry its label.
 * Browser-safe.
 */
import * as tf from '@tensorflow/tfjs';
import { asInt32 } from '../backend/as-dtype.js';
import { fusedMaskedL1, maskedL1Fusible } from '../backend/simd/masked-l1.js';
import { fusedSoftmaxCrossEntropy, softmaxCrossEntropyFusible } from '../backend/simd/softmax-ce.js';

/**
 * Softmax cross-entropy over the labelled pixels: mean over pixels with mask 1 of
 * log Σ_c e^{z_c} − z_y. `oneHot` is [..., C] (all-zero rows where unlabelled; any distribution over the
 * classes works), `mask` [...] or [..., 1] with 1 on labelled pixels. The gradient is written out,
 * (softmax − onehot)·mask/n: one Exp instead of tf.losses.softmaxCrossEntropy's three. With integer
 * labels, `maskedSparseSoftmaxCrossEntropy` (one kernel on wasm).
 */
export function maskedSoftmaxCrossEntropy(logits: tf.Tensor, oneHot: tf.Tensor, mask: tf.Tensor): tf.Scalar {
  const c = logits.shape[logits.rank - 1]!;
  const m = mask.rank === logits.rank ? mask : tf.expandDims(mask, -1);
  if (oneHot.shape[oneHot.rank - 1] !== c) {
    throw new Error(`maskedSoftmaxCrossEntropy: ${c} logits but one-hot of ${String(oneHot.shape.at(-1))}`);
  }
  const op = tf.customGrad((z, save) => {
    const zt = z as tf.Tensor;
    const count = tf.maximum(tf.sum(m), 1);
    const shift = tf.max(zt, -1, true);
    const e = tf.exp(tf.sub(zt, shift));
    const se = tf.sum(e, -1, true);
    const lse = tf.add(tf.log(se), shift);
    const picked = tf.sum(tf.mul(zt, oneHot), -1, true);
    const loss = tf.div<tf.Scalar>(tf.sum(tf.mul(tf.sub(lse, picked), m)), count);
    // the labels and mask are saved too: made inside a gradient scope they would be gone by the backward pass
    (save as tf.GradSaveFunc)([e, se, count, oneHot, m]);
    return {
      value: loss,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [ee, s, n, hot, mm] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
        const scale = tf.div(tf.mul(mm, dy), n);
        return tf.mul(tf.sub(tf.div(ee, s), hot), scale);
      },
    };
  });
  return op(logits);
}

/**
 * `maskedSoftmaxCrossEntropy` with integer labels [...] (one a pixel; outside [0, C) no class: mask such
 * pixels 0) instead of a one-hot, `mask` [...] or [..., 1]. On wasm one kernel forward and a multiply
 * backward, from the labels (backend/simd/softmax-ce.ts); elsewhere through the one-hot.
 */
export function maskedSparseSoftmaxCrossEntropy(
  logits: tf.Tensor,
  labels: tf.Tensor,
  mask: tf.Tensor,
): tf.Scalar {
  const c = logits.shape[logits.rank - 1]!;
  const pixels = logits.size / c;
  if (labels.size !== pixels || mask.size !== pixels) {
    throw new Error(
      `maskedSparseSoftmaxCrossEntropy: logits [${logits.shape.join(', ')}] need one label and one mask value a pixel, got labels [${labels.shape.join(', ')}] and mask [${mask.shape.join(', ')}]`,
    );
  }
  if (softmaxCrossEntropyFusible(logits)) return fusedSoftmaxCrossEntropy(logits, labels, mask);
  // no tidy: the gradient reads the one-hot in the backward pass (the caller's scope frees it)
  const hot = tf.cast(tf.oneHot(tf.reshape(asInt32(labels), logits.shape.slice(0, -1)), c), 'float32');
  return maskedSoftmaxCrossEntropy(logits, hot, tf.reshape(mask, logits.shape.slice(0, -1)));
}

/**
 * Mean absolute error over the labelled pixels and channels: Σ mask·|p − t| / (channels · Σ mask). `mask`
 * is [..., 1] and broadcasts over the channels.
 */
export function maskedL1(prediction: tf.Tensor, target: tf.Tensor, mask: tf.Tensor): tf.Scalar {
  // on wasm one kernel each way (backend/simd/masked-l1.ts)
  if (maskedL1Fusible(prediction) && mask.size * prediction.shape[prediction.rank - 1]! === prediction.size)
    return fusedMaskedL1(prediction, target, mask);
  return tf.tidy(() => {
    const channels = prediction.shape[prediction.rank - 1]!;
    const count = tf.maximum(tf.mul(tf.sum(mask), channels), 1);
    return tf.div<tf.Scalar>(tf.sum(tf.mul(tf.abs(tf.sub(prediction, target)), mask)), count);
  });
}
