import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { Buffer } from 'node:buffer';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectClose, randn, rng } from '../../../test/backend-compare.js';
import { batchNormFusible, fusedBatchNorm } from './batch-norm-kernels.js';
import { SIMD_PLAIN_MEMORY, SIMD_SHARED_MEMORY } from './kernels-wasm.js';
import { activeSimd, simdFor } from './simd.js';

/** relu?((x − μ)/√(σ² + ε)·γ + β) from plain ops, autodiff through μ and σ². */
function reference(
  x: tf.Tensor,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  epsilon: number,
  relu: boolean,
): tf.Tensor {
  const axes = x.shape.slice(0, -1).map((_, i) => i);
  const { mean, variance } = tf.moments(x, axes);
  const y = tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, epsilon))), gamma), beta);
  return relu ? tf.relu(y) : y;
}

beforeAll(async () => {
  await tf.setBackend('wasm');
});

describe('kernels.wat', () => {
  it('kernels-wasm.ts is what scripts/build-simd.mjs makes of kernels.wat', () => {
    const script = fileURLToPath(new URL('../../../scripts/build-simd.mjs', import.meta.url));
    // exits 1 with a message when stale
    execFileSync(process.execPath, [script, '--check'], { stdio: 'pipe' });
  });

  it('is unavailable, not an error, where the module cannot be instantiated', () => {
    // a memory whose limits the module's import does not accept (maximum above 65536 pages is invalid
    // for it; here a memory-like object that is no WebAssembly.Memory): instantiation throws inside
    const fake = { grow: () => 0, buffer: new ArrayBuffer(65536) };
    expect(simdFor({ wasm: { wasmMemory: fake }, getMemoryOffset: () => 0 })).toBeUndefined();
    // and both variants are valid modules
    for (const base64 of [SIMD_SHARED_MEMORY, SIMD_PLAIN_MEMORY])
      expect(WebAssembly.validate(Buffer.from(base64, 'base64'))).toBe(true);
  });

  for (const shared of [false, true]) {
    it(`chan_moments and bn_apply over a ${shared ? 'shared' : 'plain'} memory match a scalar loop`, () => {
      const memory = shared
        ? new WebAssembly.Memory({ initial: 2, maximum: 16, shared: true })
        : new WebAssembly.Memory({ initial: 2 });
      const simd = simdFor({ wasm: { wasmMemory: memory }, getMemoryOffset: (id: object) => id as never });
      expect(simd).toBeDefined();
      const rows = 37;
      const C = 12;
      const f32 = new Float32Array(memory.buffer);
      const X = 1024; // byte offsets; the buffers are apart
      const ACC = 8192;
      const Y = 16384;
      const P = 32768;
      const r = rng(5);
      const x = Array.from({ length: rows * C }, () => 3 + 2 * (r() - 0.5));
      f32.set(x, X / 4);
      simd!.kernels.chan_moments(X, rows, C, ACC);
      const acc = new Float64Array(memory.buffer, ACC, 2 * C);
      const mean = new Float32Array(C);
      for (let c = 0; c < C; c++) {
        let s = 0;
        let q = 0;
        for (let i = 0; i < rows; i++) {
          const v = Math.fround(x[i * C + c]!);
          s += v;
          q += v * v;
        }
        expect(acc[c]).toBeCloseTo(s, 9);
        expect(acc[C + c]).toBeCloseTo(q, 8);
        mean[c] = s / rows;
      }
      const scale = Float32Array.from({ length: C }, (_, c) => (c % 3) - 1.25);
      const shift = Float32Array.from({ length: C }, (_, c) => 0.5 - c / 8);
      f32.set(mean, P / 4);
      f32.set(scale, P / 4 + C);
      f32.set(shift, P / 4 + 2 * C);
      for (const relu of [0, 1]) {
        simd!.kernels.bn_apply(X, rows, C, P, P + 4 * C, P + 8 * C, relu, Y);
        const y = new Float32Array(memory.buffer, Y, rows * C);
        for (let i = 0; i < rows * C; i++) {
          const c = i % C;
          const want = Math.fround(
            Math.fround(Math.fround(f32[X / 4 + i]! - mean[c]!) * scale[c]!) + shift[c]!,
          );
          expect(y[i]).toBe(relu ? Math.max(0, want) : want);
        }
      }
    });
  }
});

describe('fusedBatchNorm (wasm)', () => {
  const epsilon = 1e-3;
  const cases: [number[], boolean][] = [
    [[2, 3, 5, 4], false],
    [[2, 3, 5, 4], true],
    [[8, 4, 4, 16], true],
    [[3, 7, 9, 8], false], // 189 rows: the sums' blocks of 64 rows, the last one short
    [[3, 32], false],
    [[1, 1, 1, 8], true],
  ];
  for (const [shape, relu] of cases) {
    it(`output, moving statistics and gradients equal plain-op autodiff, x[${shape.join(',')}]${relu ? ' + relu' : ''}`, async () => {
      const C = shape.at(-1)!;
      const n = tf.util.sizeFromShape(shape) / C;
      const momentum = 0.8;
      const x = randn(shape, 1, 0.7, 2.5);
      expect(batchNormFusible(x)).toBe(true);
      const gamma = randn([C], 2, 1, 0.5);
      const beta = randn([C], 3);
      const mm = randn([C], 4);
      const mv = tf.abs(randn([C], 5));
      const r = randn(shape, 6);
      const before = tf.memory().numTensors;
      const outs = tf.tidy(() => {
        const fused = (xx: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Scalar =>
          tf.sum(tf.mul(fusedBatchNorm(xx, g, b, mm, mv, { epsilon, momentum, relu }).y, r));
        const plain = (xx: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Scalar =>
          tf.sum(tf.mul(reference(xx, g, b, epsilon, relu), r));
        const out = fusedBatchNorm(x, gamma, beta, mm, mv, { epsilon, momentum, relu });
        const { mean, variance } = tf.moments(
          x,
          shape.slice(0, -1).map((_, i) => i),
        );
        const unbias = n > 1 ? n / (n - 1) : 1;
        return [
          out.y,
          reference(x, gamma, beta, epsilon, relu),
          out.movingMean,
          tf.add(tf.mul(mm, momentum), tf.mul(mean, 1 - momentum)),
          out.movingVariance,
          tf.add(tf.mul(mv, momentum), tf.mul(variance, unbias * (1 - momentum))),
          ...tf.grads(fused)([x, gamma, beta]),
          ...tf.grads(plain)([x, gamma, beta]),
        ];
      });
      const v = await Promise.all(outs.map((t) => t.data() as Promise<Float32Array>));
      tf.dispose(outs);
      expect(tf.memory().numTensors).toBe(before);
      expectClose('y', [v[0]!], [v[1]!], 1e-5);
      expectClose('moving mean', [v[2]!], [v[3]!], 1e-5);
      expectClose('moving variance', [v[4]!], [v[5]!], 1e-5);
      expectClose('dx', [v[6]!], [v[9]!], 1e-4);
      expectClose('dγ', [v[7]!], [v[10]!], 1e-4);
      expectClose('dβ', [v[8]!], [v[11]!], 1e-4);
      tf.dispose([x, gamma, beta, mm, mv, r]);
    });
  }

  it('a constant channel gives β (σ² = 0) and finite gradients', async () => {
    const x = tf.tidy(() => tf.concat([tf.fill([6, 4], 2.5), randn([6, 4], 7)], 1));
    const [gamma, beta, mm, mv] = [tf.ones([8]), tf.fill([8], 0.5), tf.zeros([8]), tf.ones([8])];
    const [y, dx] = tf.tidy(() => {
      const f = (xx: tf.Tensor): tf.Scalar =>
        tf.sum(
          tf.square(fusedBatchNorm(xx, gamma, beta, mm, mv, { epsilon: 1e-5, momentum: 0.9, relu: false }).y),
        );
      return [
        fusedBatchNorm(x, gamma, beta, mm, mv, { epsilon: 1e-5, momentum: 0.9, relu: false }).y,
        tf.grad(f)(x),
      ];
    });
    const yv = (await y.array()) as number[][];
    for (const row of yv) expect(row.slice(0, 4)).toEqual([0.5, 0.5, 0.5, 0.5]);
    expect(Array.from(await dx.data()).every(Number.isFinite)).toBe(true);
    tf.dispose([x, gamma, beta, mm, mv, y, dx]);
  });

  it('is not used where it cannot run: other channel counts, dtypes, backends, nested tapes', async () => {
    const odd = tf.zeros([4, 6]);
    const ints = tf.zeros([4, 8], 'int32');
    const ok = tf.zeros([4, 8]);
    expect(activeSimd()).toBeDefined();
    expect(batchNormFusible(odd)).toBe(false);
    expect(batchNormFusible(ints)).toBe(false);
    expect(batchNormFusible(ok)).toBe(true);
    let nested: boolean | undefined;
    tf.grad((a: tf.Tensor) =>
      tf
        .grad((b: tf.Tensor) => {
          nested = batchNormFusible(ok);
          return tf.sum(tf.square(b));
        })(a)
        .sum(),
    )(tf.ones([2]));
    expect(nested).toBe(false);
    await tf.setBackend('cpu');
    const onCpu = tf.zeros([4, 8]);
    expect(activeSimd()).toBeUndefined();
    expect(batchNormFusible(onCpu)).toBe(false);
    onCpu.dispose();
    await tf.setBackend('wasm');
    tf.dispose([odd, ints, ok]);
  });
});
