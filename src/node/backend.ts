import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { registerConvGradient } from '../backend/conv-gradient.js';
import { registerCpuFixes } from '../backend/cpu-fixes.js';
import { registerLeanGradients } from '../backend/lean-gradients.js';
import { registerWasmTrainingKernels } from '../backend/wasm-kernels.js';
import { startWasm, threadsUnavailable } from './wasm-threads.js';

/** Backends the Node layer can set up without native add-ons. */
export const NODE_BACKENDS = Object.freeze(['wasm', 'cpu'] as const);
export type NodeBackend = (typeof NODE_BACKENDS)[number];

/** Options of `setupBackend`. */
export interface BackendOptions {
  /**
   * wasm: threads for its kernels (XNNPACK). Default: $TFJS_MTL_THREADS, else min(available cores, 8).
   * Values > 1 start the threaded-SIMD build (see wasm-threads.ts); where it cannot start, one thread is
   * used and `onNotice` says why.
   */
  threads?: number;
  /** A one-line notice (e.g. that threads are unavailable here). */
  onNotice?: (message: string) => void;
}

/** The thread count a wasm backend gets when none is asked for. */
export function defaultThreads(): number {
  const env = process.env['TFJS_MTL_THREADS'];
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (!Number.isInteger(n) || n < 1)
      throw new Error(`TFJS_MTL_THREADS must be a positive integer, got '${env}'`);
    return n;
  }
  return Math.min(availableParallelism(), 8);
}

let active: { name: NodeBackend; threads: number } | undefined;

/**
 * Makes `name` the active TF.js backend: `wasm` (the default: XNNPACK with SIMD — threaded, see
 * `options.threads` — plus the training kernels tfjs-backend-wasm 4.22 lacks or runs slowly) or the
 * pure-JS `cpu`, and registers the lean gradients (identical values, fewer kernel launches), the Conv2D
 * gradient that supports dilations and the cpu backend's ResizeBilinearGrad shape fix. The wasm
 * backend starts once per process: its thread count cannot change afterwards. Returns the active name.
 */
export async function setupBackend(
  name: string = 'wasm',
  options: BackendOptions = {},
): Promise<NodeBackend> {
  if (!(NODE_BACKENDS as readonly string[]).includes(name)) {
    throw new Error(`unknown backend '${name}'; choose one of ${NODE_BACKENDS.join(', ')}`);
  }
  const threads = options.threads ?? defaultThreads();
  if (!Number.isInteger(threads) || threads < 1)
    throw new Error(`threads must be a positive integer, got ${threads}`);
  tf.enableProdMode();
  registerLeanGradients();
  registerConvGradient();
  registerCpuFixes();
  if (name === 'wasm') {
    await import('@tensorflow/tfjs-backend-wasm');
    registerWasmTrainingKernels();
    if (active?.name !== 'wasm' || tf.getBackend() !== 'wasm') {
      let wanted = threads;
      const why = wanted > 1 ? threadsUnavailable() : undefined;
      if (why) {
        options.onNotice?.(`wasm: one thread (${why})`);
        wanted = 1;
      }
      const got = await startWasm(wanted);
      active = { name: 'wasm', threads: got };
    }
    return 'wasm';
  }
  if (!(await tf.setBackend(name))) throw new Error(`the TF.js '${name}' backend failed to initialise`);
  await tf.ready();
  active = { name: name as NodeBackend, threads: 1 };
  return name as NodeBackend;
}

/** Threads of the active backend's kernels (1 for cpu; undefined before `setupBackend`). */
export function backendThreads(): number | undefined {
  return active && tf.getBackend() === active.name ? active.threads : undefined;
}
