import * as tf from '@tensorflow/tfjs';
import { setupBackend } from '../dist/node/backend.js';
await setupBackend('wasm', { threads: 2 });
const r = (s) => tf.randomNormal(s);
const T = [0, 0, 0];
for (let i = 0; i < 63; i++) {
  const mode = i % 3;
  const xs = [r([4096, 32]), r([4096, 32]), r([4096, 32]), r([4096, 32])];
  const dy = r([4096, 64]);
  tf.dispose(xs.map((x) => x.dataSync())); dy.dataSync();
  const t0 = performance.now();
  const outs = tf.tidy(() => xs.map((x) => {
    if (mode === 0) return tf.matMul(x, dy, true, false); // cost model
    if (mode === 1) return tf.matMul(tf.transpose(x), dy); // direct: B = dy shared
    return tf.transpose(tf.matMul(tf.transpose(dy), x)); // swapped: B = x
  }));
  outs.forEach((o) => o.dataSync());
  if (i >= 9) T[mode] += performance.now() - t0;
  tf.dispose([...outs, ...xs, dy]);
}
console.log('4 projections dW: model', (T[0] / 18).toFixed(2), 'direct(shared dy)', (T[1] / 18).toFixed(2), 'swapped', (T[2] / 18).toFixed(2), 'ms');
