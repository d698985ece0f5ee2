import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { asFloat32, asInt32 } from './as-dtype.js';

describe('asFloat32, asInt32', () => {
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

  it('asInt32 returns an int32 tensor itself and casts float32', () => {
    const i = tf.tensor([3, -4], [2], 'int32');
    expect(asInt32(i)).toBe(i);
    const f = tf.tensor([2.7, -1.5]);
    const fi = asInt32(f);
    expect(fi.dtype).toBe('int32');
    expect(Array.from(fi.dataSync())).toEqual([2, -1]);
    tf.dispose([i, f, fi]);
  });
});
