/**
 * `tf.cast` without the copy when the tensor already has the dtype: a same-dtype Cast still runs the
 * backend's kernel, which on wasm copies every value in JavaScript (~0.15 ms for a 459K-value one-hot).
 * These return the tensor itself then (not a new tensor: callers must not dispose it on its owner's
 * behalf). Browser-safe.
 */
import * as tf from '@tensorflow/tfjs';

/** `t` as float32: `t` itself when it is, else a cast. */
export function asFloat32<T extends tf.Tensor>(t: T): T {
  return t.dtype === 'float32' ? t : tf.cast(t, 'float32');
}

/** `t` as int32: `t` itself when it is, else a cast (truncating toward zero). */
export function asInt32<T extends tf.Tensor>(t: T): T {
  return t.dtype === 'int32' ? t : tf.cast(t, 'int32');
}
