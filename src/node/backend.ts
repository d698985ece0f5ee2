import * as tf from '@tensorflow/tfjs';
import { registerConvGradient } from '../backend/conv-gradient.js';
import { registerCpuFixes } from '../backend/cpu-fixes.js';
import { registerLeanGradients } from '../backend/lean-gradients.js';
import { registerWasmTrainingKernels } from '../backend/wasm-kernels.js';

/** Backends the Node layer can set up without native add-ons. */
export const NODE_BACKENDS = Object.freeze(['wasm', 'cpu'] as const);
export type NodeBackend = (typeof NODE_BACKENDS)[number];

/**
 * Makes `name` the active TF.js backend: `wasm` (the default: XNNPACK with SIMD, plus the training
 * kernels tfjs-backend-wasm 4.22 lacks or runs slowly) or the pure-JS `cpu`, and registers the lean
 * gradients (identical values, fewer kernel launches), the Conv2D gradient that supports dilations and
 * the cpu backend's ResizeBilinearGrad shape fix.
 * Returns the active name.
 */
export async function setupBackend(name: string = 'wasm'): Promise<NodeBackend> {
  if (!(NODE_BACKENDS as readonly string[]).includes(name)) {
    throw new Error(`unknown backend '${name}'; choose one of ${NODE_BACKENDS.join(', ')}`);
  }
  tf.enableProdMode();
  registerLeanGradients();
  registerConvGradient();
  registerCpuFixes();
  if (name === 'wasm') {
    await import('@tensorflow/tfjs-backend-wasm');
    registerWasmTrainingKernels();
  }
  if (!(await tf.setBackend(name))) throw new Error(`the TF.js '${name}' backend failed to initialise`);
  await tf.ready();
  return name as NodeBackend;
}
