import * as tf from '@tensorflow/tfjs';

/** Mean of `values` ([B]) over the entries where `mask` is 1; 0 when no entry is labelled. */
export function maskedMean(values: tf.Tensor1D, mask?: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    if (mask === undefined) return tf.mean(values);
    const m = tf.reshape(tf.cast(mask, 'float32'), [-1]);
    if (m.shape[0] !== values.shape[0]) {
      throw new Error(`mask has ${m.shape[0]} entries but the batch has ${values.shape[0]} samples`);
    }
    // max(count, 1): an all-missing batch contributes 0 rather than NaN
    return tf.div(tf.sum(tf.mul(values, m)), tf.maximum(tf.sum(m), 1));
  });
}

/** Per-sample values [B] of an elementwise loss [B, ...]: the mean over the non-batch axes. */
export function perSample(values: tf.Tensor): tf.Tensor1D {
  if (values.rank === 1) return values as tf.Tensor1D;
  const batch = values.shape[0];
  return tf.mean(tf.reshape(values, [batch, -1]), 1);
}
