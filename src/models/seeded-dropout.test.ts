import * as tf from '@tensorflow/tfjs';
import { savedArtifacts } from '../../test/model-artifacts.js';
import { describe, expect, it } from 'vitest';
import { SeededDropout, withDropoutStream } from './seeded-dropout.js';
import { sharedTrunkModel } from './sharing.js';

describe('SeededDropout', () => {
  it('draws a new mask every training call, the same stream for the same seed and position', () => {
    const x = tf.ones([4, 50]);
    const a = new SeededDropout({ rate: 0.3, seed: 7 });
    const b = new SeededDropout({ rate: 0.3, seed: 7 });
    const m1 = a.apply(x, { training: true }) as tf.Tensor;
    const m2 = a.apply(x, { training: true }) as tf.Tensor;
    expect(Array.from(m1.dataSync())).not.toEqual(Array.from(m2.dataSync()));
    // kept units are scaled by 1/(1 − rate); about 30 % are dropped
    const v = Array.from(m1.dataSync());
    expect(new Set(v.map((e) => e.toFixed(5)))).toEqual(new Set(['0.00000', (1 / 0.7).toFixed(5)]));
    const dropped = v.filter((e) => e === 0).length / v.length;
    expect(dropped).toBeGreaterThan(0.2);
    expect(dropped).toBeLessThan(0.4);
    // the same seed replays the stream; a saved position replays from there
    expect(Array.from((b.apply(x, { training: true }) as tf.Tensor).dataSync())).toEqual(v);
    b.setRandomState(1);
    expect(Array.from((b.apply(x, { training: true }) as tf.Tensor).dataSync())).toEqual(
      Array.from(m2.dataSync()),
    );
    expect(b.randomState()).toBe(2);
    // inference: identity, and the stream does not move
    expect(Array.from((b.apply(x) as tf.Tensor).dataSync())).toEqual(Array.from(x.dataSync()));
    expect(b.randomState()).toBe(2);
    expect(() => new SeededDropout({ rate: 1, seed: 0 })).toThrow(/rate must be in \[0, 1\)/);
  });

  it('survives a save/load round trip in a model, and Monte Carlo streams leave training’s alone', async () => {
    const model = sharedTrunkModel({ inputDim: 3, outputs: [1], trunk: [8], dropout: 0.2, seed: 1 });
    const x = tf.ones([2, 3]);
    const before = (model.apply(x, { training: true }) as tf.Tensor).dataSync().slice();
    const layer = model.layers.find((l) => l instanceof SeededDropout) as SeededDropout;
    expect(layer.randomState()).toBe(1);
    const mc = () => Array.from((model.apply(x, { training: true }) as tf.Tensor).dataSync());
    const first = withDropoutStream(model, 1000, () => [mc(), mc()]);
    expect(withDropoutStream(model, 1000, () => [mc(), mc()])).toEqual(first);
    expect(layer.randomState()).toBe(1);
    const saved = await savedArtifacts(model);
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(saved));
    expect(loaded.layers.some((l) => l instanceof SeededDropout)).toBe(true);
    expect(Array.from((loaded.predict(x) as tf.Tensor).dataSync())).toEqual(
      Array.from((model.predict(x) as tf.Tensor).dataSync()),
    );
    expect(before.length).toBe(2);
  });
});
