/**
 * Matrix products with one small dimension on wasm through our module (`mm_nt`, `mm_small_k`), on the
 * calling thread: the scene heads' 1×1 convolutions ([4096 × 32]·[32 × C], C = 7, 2, 1) and their
 * gradients (dy·Wᵀ with an inner dimension of C; hᵀ·dy, a 32 × C result summed over 4096 rows), and
 * the image-pooling branch's products of 8 rows (the batch). XNNPACK
 * packs a fresh right operand for each, fills one 8-wide panel of its tile with C ≤ 8 columns, and hands
 * the few microseconds of arithmetic to its thread pool, whose second thread has often gone to sleep
 * since the last big kernel: single calls measured 0.09–1.9 ms within one run (bench), against
 * ~0.05–0.2 ms here. Browser-safe.
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelScope } from '../kernel-scope.js';
import type { Simd } from './simd.js';

type TensorInfo = tf.TensorInfo;

/**
 * Products up to this many multiply-adds take the path. Beyond, XNNPACK's two threads win (bench, outputs
 * disposed: [4096, 128]·[128, 8] 0.31 ms there against 0.51–0.62 here, [8192, 8]·[8, 32] 0.19 against
 * 0.26); below, the heads' products ran 1.5–5× faster here (hᵀ·dy of 917K: 0.2–0.29 against 0.88–1.5 ms).
 */
export const SMALL_MATMUL_MAX_MACS = 1 << 20;

/** The largest small dimension: N for `mm_nt` (a column of out per dot product), K for `mm_small_k`. */
export const SMALL_MATMUL_MAX_DIM = 8;

/**
 * Which of our loops computes [M × K]·[K × N], or undefined: none applies or it is too big. 'nt': N
 * small (`mm_nt`); 'smallK': K small (`mm_small_k`); 'ntT': M small, as (Bᵀ·Aᵀ)ᵀ through `mm_nt`.
 */
export function smallMatMulRoute(M: number, K: number, N: number): 'nt' | 'smallK' | 'ntT' | undefined {
  if (M < 1 || K < 1 || N < 1 || M * K * N > SMALL_MATMUL_MAX_MACS) return undefined;
  if (N <= SMALL_MATMUL_MAX_DIM && K % 4 === 0) return 'nt';
  if (K <= SMALL_MATMUL_MAX_DIM && N % 4 === 0) return 'smallK';
  if (M <= SMALL_MATMUL_MAX_DIM && K % 4 === 0) return 'ntT';
  return undefined;
}

/**
 * a·b (+ bias) for 2-D float32 a ([M, K], or [K, M] when `ta`) and b ([K, N], or [N, K] when `tb`), as
 * [M, N]; operands are transposed first where the loop needs the other layout (the small one, or the
 * big one once: ~0.1 ms for 4096 × 32). Call only when `smallMatMulRoute(M, K, N)` is defined; a bias
 * (N values) only on its 'nt' route.
 */
export function smallMatMul(
  s: KernelScope,
  simd: Simd,
  a: TensorInfo,
  b: TensorInfo,
  ta: boolean,
  tb: boolean,
  bias?: TensorInfo,
): TensorInfo {
  const [M, K] = (ta ? [a.shape[1], a.shape[0]] : a.shape) as [number, number];
  const N = (tb ? b.shape[0] : b.shape[1]) as number;
  const route = smallMatMulRoute(M, K, N);
  if (route === undefined) throw new Error(`smallMatMul: no route for [${M}, ${K}]·[${K}, ${N}]`);
  if (bias !== undefined && (route !== 'nt' || tf.util.sizeFromShape(bias.shape) !== N))
    throw new Error(`smallMatMul: a bias of [${bias.shape.join(', ')}] on the ${route} route of N = ${N}`);
  const rowsA = ta ? s.transpose(a, [1, 0]) : a; // [M, K]
  if (route === 'ntT') {
    // outᵀ [N, M] = B'·A'ᵀ with B' = bᵀ [N, K] and A' = a [M, K] as its rows
    const rowsBT = tb ? b : s.transpose(b, [1, 0]);
    const outT = s.alloc([N, M]);
    simd.kernels.mm_nt(simd.offset(rowsBT), N, K, simd.offset(rowsA), M, 0, 0, simd.offset(outT));
    return s.transpose(outT, [1, 0]);
  }
  const out = s.alloc([M, N]);
  if (route === 'nt') {
    const rowsB = tb ? b : s.transpose(b, [1, 0]); // [N, K]
    simd.kernels.mm_nt(
      simd.offset(rowsA),
      M,
      K,
      simd.offset(rowsB),
      N,
      bias === undefined ? 0 : simd.offset(bias),
      bias === undefined ? 0 : 1,
      simd.offset(out),
    );
  } else {
    const plainB = tb ? s.transpose(b, [1, 0]) : b; // [K, N]
    simd.kernels.mm_small_k(simd.offset(rowsA), M, K, simd.offset(plainB), N, simd.offset(out));
  }
  return out;
}
