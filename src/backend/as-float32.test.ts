import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { asFloat32 } from './as-float32.js';

describe('asFloat32', () => {
  it('returns a float32 tensor itself, running no kernel', () => {
    const t = tf.tensor([1.5, 2]);
    const before = tf.memory().numTensors;
    expect(asFloat32(t)).toBe(t);
    expect(tf.memory().numTensors).toBe(before);
    t.dispose();
  });

  it('casts int32 and bool', () => {
    const i = tf.tensor([1, -2], [2], 'int32');
    const b = tf.tensor([1, 0], [2], 'bool');
    const [fi, fb] = [asFloat32(i), asFloat32(b)];
    expect(fi.dtype).toBe('float32');
    expect(Array.from(fi.dataSync())).toEqual([1, -2]);
    expect(fb.dtype).toBe('float32');
    expect(Array.from(fb.dataSync())).toEqual([1, 0]);
    tf.dispose([i, b, fi, fb]);
  });
});
