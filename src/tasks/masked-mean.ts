import * as tf from '@tensorflow/tfjs';

/** Mean of `values` ([B]) over the entries where `mask` is 1; 0 when no entry is labelled. */
export function maskedMean(values: tf.Tensor1D, mask?: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    if (mask === undefined) return tf.mean(values);
    const m = maskVector(mask, values.shape[0]);
    // max(count, 1): an all-missing batch contributes 0 rather than NaN
    return tf.div(tf.sum(tf.mul(values, m)), tf.maximum(tf.sum(m), 1));
  });
}

/** The mask as float32 [B], checked against the batch's B samples. */
function maskVector(mask: tf.Tensor, batch: number): tf.Tensor1D {
  const m = tf.reshape<tf.Rank.R1>(tf.cast(mask, 'float32'), [-1]);
  if (m.shape[0] !== batch)
    throw new Error(`mask has ${m.shape[0]} entries but the batch has ${batch} samples`);
  return m;
}

/** Per-sample values [B] of an elementwise loss [B, ...]: the mean over the non-batch axes. */
export function perSample(values: tf.Tensor): tf.Tensor1D {
  if (values.rank === 1) return values as tf.Tensor1D;
  const batch = values.shape[0];
  return tf.mean(tf.reshape(values, [batch, -1]), 1);
}

/** A row-separable loss: each row's loss and what its gradient needs. */
export interface RowLoss {
  /** Loss per row [B]. */
  rows: tf.Tensor1D;
  /** Tensors `gradient` needs (kept for the backward pass). */
  saved: tf.Tensor[];
}

/**
 * `maskedMean` of a row-separable loss as one node with a hand-written gradient: `forward(f)` gives
 * the rows' losses, `gradient(saved)` each row's loss differentiated w.r.t. its own predictions (the
 * prediction's shape); the mean's weights (1/B, or the mask over the labelled count) are applied here.
 * Autodiff would record every op of the loss and the mask, ~15–30 kernels more per task and step.
 */
export function rowMeanLoss(
  prediction: tf.Tensor,
  mask: tf.Tensor | undefined,
  forward: (f: tf.Tensor) => RowLoss,
  gradient: (saved: tf.Tensor[]) => tf.Tensor,
): tf.Scalar {
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [f, save] = args as [tf.Tensor, tf.GradSaveFunc];
    const { rows, saved } = forward(f);
    const batch = rows.shape[0];
    // per-row weights [B, 1, …] broadcasting over the prediction; none: the plain mean
    let weights: tf.Tensor | undefined;
    let value: tf.Scalar;
    if (mask === undefined) {
      value = tf.mean(rows);
    } else {
      const m = maskVector(mask, batch);
      // max(count, 1): an all-missing batch contributes 0 rather than NaN
      const w = tf.div(m, tf.maximum(tf.sum(m), 1));
      value = tf.sum(tf.mul(rows, w));
      weights = tf.reshape(w, [batch, ...prediction.shape.slice(1).map(() => 1)]);
    }
    save(weights ? [...saved, weights] : saved);
    return {
      value,
      gradFunc: (dy: tf.Tensor, kept: tf.Tensor[]) => {
        const g = gradient(weights ? kept.slice(0, -1) : kept);
        return weights ? tf.mul(g, tf.mul(kept.at(-1)!, dy)) : tf.mul(g, tf.div(dy, batch));
      },
    };
  })(prediction);
}
