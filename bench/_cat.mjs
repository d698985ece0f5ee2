import * as tf from '@tensorflow/tfjs';
import { setupBackend } from '../dist/node/backend.js';
await setupBackend('wasm', { threads: 2 });
const r = (s) => tf.randomNormal(s);
function bench(name, make, f) {
  const sets = Array.from({ length: 25 }, make);
  for (let i = 0; i < 5; i++) tf.tidy(() => { f(...sets[i]); });
  const t0 = performance.now();
  for (let i = 5; i < 25; i++) tf.tidy(() => { f(...sets[i]); });
  console.log(name.padEnd(40), ((performance.now() - t0) / 20 * 1000).toFixed(0).padStart(6), 'µs');
  sets.flat().forEach((t) => t.dispose());
}
bench('concat 4x[4096,32] axis 1', () => [r([4096, 32]), r([4096, 32]), r([4096, 32]), r([4096, 32])], (...xs) => tf.concat(xs, 1));
bench('split [4096,128] -> 4', () => [r([4096, 128])], (x) => tf.split(x, 4, 1));
bench('gemm [4096,128]x[128,64] fresh', () => [r([4096, 128]), r([128, 64])], (x, w) => tf.matMul(x, w));
bench('dW [4096,128]^T x [4096,64]', () => [r([4096, 128]), r([4096, 64])], (x, dy) => tf.matMul(x, dy, true, false));
bench('dX [4096,64] x [128,64]^T', () => [r([4096, 64]), r([128, 64])], (dy, w) => tf.matMul(dy, w, false, true));
bench('4 x conv1x1 32->64 + 3 adds', () => [r([8,16,32,32]), r([8,16,32,32]), r([8,16,32,32]), r([8,16,32,32]), r([1,1,32,64]), r([1,1,32,64]), r([1,1,32,64]), r([1,1,32,64])], (a, b, c, d, w1, w2, w3, w4) => tf.addN([tf.conv2d(a, w1, 1, 'same'), tf.conv2d(b, w2, 1, 'same'), tf.conv2d(c, w3, 1, 'same'), tf.conv2d(d, w4, 1, 'same')]));
