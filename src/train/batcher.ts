import * as tf from '@tensorflow/tfjs';

/** Builds the tensors of one batch from row indices. */
export interface Batcher {
  /** The batch's rows of every source tensor, in source order (caller disposes). */
  batch(rows: Int32Array): tf.Tensor[];
  dispose(): void;
}

/** Backends whose tensors live in host memory: copying rows in JS beats a gather kernel per tensor. */
const HOST_BACKENDS = new Set(['cpu', 'wasm']);

/**
 * Gathers rows on the device (GPU backends), or — where tensors live in host memory — copies rows from a
 * one-off host copy, which costs no kernel launch per tensor per step.
 */
export function createBatcher(sources: readonly tf.Tensor[]): Batcher {
  return HOST_BACKENDS.has(tf.getBackend()) ? hostBatcher(sources) : deviceBatcher(sources);
}

function deviceBatcher(sources: readonly tf.Tensor[]): Batcher {
  return {
    batch(rows) {
      return tf.tidy(() => {
        const idx = tf.tensor1d(rows, 'int32');
        return sources.map((s) => tf.gather(s, idx));
      });
    },
    dispose() {},
  };
}

function hostBatcher(sources: readonly tf.Tensor[]): Batcher {
  const copies = sources.map((s) => {
    if (s.dtype !== 'float32' && s.dtype !== 'int32') return null;
    return {
      data: s.dataSync() as Float32Array | Int32Array,
      rowSize: s.size / s.shape[0],
      rest: s.shape.slice(1),
      dtype: s.dtype,
    };
  });
  const fallback = deviceBatcher(sources);
  return {
    batch(rows) {
      const n = rows.length;
      const gathered = copies.some((c) => c === null) ? fallback.batch(rows) : null;
      return copies.map((c, i) => {
        if (c === null) return gathered![i]!;
        const { data, rowSize } = c;
        const out = c.dtype === 'int32' ? new Int32Array(n * rowSize) : new Float32Array(n * rowSize);
        if (rowSize === 1) {
          for (let k = 0; k < n; k++) out[k] = data[rows[k]!]!;
        } else {
          for (let k = 0; k < n; k++)
            out.set(data.subarray(rows[k]! * rowSize, (rows[k]! + 1) * rowSize), k * rowSize);
        }
        // tensors the caller doesn't keep (e.g. gathered bool masks) are disposed with the batch
        if (gathered) gathered[i]!.dispose();
        return tf.tensor(out, [n, ...c.rest], c.dtype);
      });
    },
    dispose() {},
  };
}
