/**
 * Our own SIMD kernels (kernels.wat) instantiated over tfjs-backend-wasm's memory, so that they read and
 * write tensors where the backend keeps them: a tensor is at `getMemoryOffset(dataId)`, no copies. One
 * instance per memory (the threaded build's is shared, the single-threaded one's plain). Unavailable —
 * `simdKernels` returns undefined and callers keep their op path — on other backends, where the engine
 * has no WebAssembly SIMD, or when the backend does not expose its memory. The module is compiled
 * synchronously on first use (~4 KB: fine in Chromium ≥ 114, which allows synchronous compiles up to 8 MB
 * on the main thread; older Chromium refused more than 4 KB, and there the kernels are simply
 * unavailable). Browser-safe.
 */
import * as tf from '@tensorflow/tfjs';
import { SIMD_PLAIN_MEMORY, SIMD_SHARED_MEMORY } from './kernels-wasm.js';

/** The exports of kernels.wat (pointers are byte offsets into the backend's memory). */
export interface SimdExports {
  chan_moments(x: number, rows: number, C: number, acc: number): void;
  bn_apply(
    x: number,
    rows: number,
    C: number,
    mean: number,
    scale: number,
    shift: number,
    relu: number,
    y: number,
  ): void;
  bn_grad_sums(
    dy: number,
    y: number,
    x: number,
    rows: number,
    C: number,
    mean: number,
    relu: number,
    acc: number,
  ): void;
  bn_grad_apply(
    dy: number,
    y: number,
    x: number,
    rows: number,
    C: number,
    mean: number,
    a: number,
    b: number,
    d: number,
    relu: number,
    dx: number,
  ): void;
  copy4(x: number, out: number, ...dimsAndStrides: number[]): void;
  transpose_tiles(x: number, out: number, ...dimsAndStrides: number[]): void;
  zero(at: number, bytes: number): void;
  lerp_rows(...args: number[]): void;
  lerp_rows_adjoint(...args: number[]): void;
  lerp_cols(...args: number[]): void;
  exp_f32(x: number, n: number, out: number): void;
  masked_l1_sums(f: number, y: number, m: number, rows: number, k: number, sums: number): void;
  softmax_shift(z: number, rows: number, C: number, t: number, mx: number): void;
  softmax_rows(
    e: number,
    z: number,
    labels: number,
    rows: number,
    C: number,
    s: number,
    picked: number,
  ): void;
  softmax_grad(e: number, labels: number, m: number, s: number, rows: number, C: number, scale: number): void;
  softmax_loss(s: number, mx: number, picked: number, m: number, rows: number, out: number): void;
  adam_step(
    p: number,
    g: number,
    m: number,
    v: number,
    n: number,
    outP: number,
    outM: number,
    outV: number,
    beta1: number,
    beta2: number,
    step: number,
    invBc2: number,
    epsilon: number,
  ): void;
  masked_l1_grad(f: number, y: number, m: number, rows: number, k: number, scale: number, out: number): void;
  mm_nt(
    a: number,
    M: number,
    K: number,
    b: number,
    N: number,
    bias: number,
    hasBias: number,
    out: number,
  ): void;
  mm_small_k(a: number, M: number, K: number, b: number, N: number, out: number): void;
}

/** What the kernels need of tfjs-backend-wasm's BackendWasm (public members, 4.22). */
interface WasmBackendLike {
  wasm: { wasmMemory?: WebAssembly.Memory; asm?: { memory?: WebAssembly.Memory } } | null;
  getMemoryOffset(dataId: object): number;
}

/** A backend's SIMD kernels and the addresses of its tensors. */
export interface Simd {
  readonly kernels: SimdExports;
  readonly memory: WebAssembly.Memory;
  /** Byte offset of a tensor's data. */
  offset(t: tf.TensorInfo): number;
  /** A Float64Array view of `count` doubles at byte offset `at` (valid until the memory grows). */
  f64(at: number, count: number): Float64Array;
}

const instances = new WeakMap<WebAssembly.Memory, SimdExports | null>();

function decode(base64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(base64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

function isMemory(m: unknown): m is WebAssembly.Memory {
  return typeof m === 'object' && m !== null && typeof (m as WebAssembly.Memory).grow === 'function';
}

function instantiate(memory: WebAssembly.Memory): SimdExports | null {
  const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
  try {
    const module = new WebAssembly.Module(decode(shared ? SIMD_SHARED_MEMORY : SIMD_PLAIN_MEMORY));
    const instance = new WebAssembly.Instance(module, { env: { memory } });
    return instance.exports as unknown as SimdExports;
  } catch {
    // no SIMD in this engine (or a memory the module cannot import): the op path runs
    return null;
  }
}

let enabled = true;

/**
 * Turns our SIMD kernels off (every caller then takes its op path or wasm's own kernel) or back on: for
 * comparisons, and as an escape hatch should an engine's SIMD misbehave. On by default.
 */
export function setSimdKernelsEnabled(on: boolean): void {
  enabled = on;
}

/** The SIMD kernels over `backend`'s memory, or undefined where they cannot run (see the module doc). */
export function simdFor(backend: object): Simd | undefined {
  if (!enabled) return undefined;
  const b = backend as Partial<WasmBackendLike>;
  const memory = b.wasm?.wasmMemory ?? b.wasm?.asm?.memory;
  if (!isMemory(memory) || typeof b.getMemoryOffset !== 'function') return undefined;
  let kernels = instances.get(memory);
  if (kernels === undefined) {
    kernels = instantiate(memory);
    instances.set(memory, kernels);
  }
  if (kernels === null) return undefined;
  const getOffset = b.getMemoryOffset.bind(b);
  return {
    kernels,
    memory,
    offset: (t) => getOffset(t.dataId),
    f64: (at, count) => {
      if (at % 8 !== 0) throw new Error(`simd: a double buffer at byte ${at} is not 8-byte aligned`);
      return new Float64Array(memory.buffer, at, count);
    },
  };
}

/** `simdFor(backend)`, or an error naming `kernel` (a kernel of ours run where the module is not). */
export function requireSimd(kernel: string, backend: object): Simd {
  const simd = simdFor(backend);
  if (simd === undefined) throw new Error(`${kernel}: the SIMD kernels are not available on this backend`);
  return simd;
}

/** `simdFor` of the active backend when it is wasm. */
export function activeSimd(): Simd | undefined {
  return tf.getBackend() === 'wasm' ? simdFor(tf.backend()) : undefined;
}
