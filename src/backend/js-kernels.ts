/**
 * Kernels computed in plain JavaScript over the memory of the `cpu` and `wasm` backends, for
 * tensors so small that a kernel launch costs more than the arithmetic: a loss over a batch of 20
 * values, the learned weighting's handful of scalars. One engine launch replaces the 5–15 kernels the
 * op-by-op form needs (each ~6 µs on wasm before any work). Callers check `jsKernelsUsable` and keep their
 * op path for other backends and for big inputs. Browser-safe.
 */
import * as tf from '@tensorflow/tfjs';
import { higherOrderTape, withKernelScope } from './kernel-scope.js';

type TensorInfo = tf.TensorInfo;

/** The inputs' values (in order; float32, int32 or bool) and the attributes; returns each float32 output. */
export type JsKernelCompute = (
  inputs: ArrayLike<number>[],
  attrs: tf.NamedAttrMap,
) => { shape: number[]; values: ArrayLike<number> }[];

/**
 * A JS kernel's inputs are a list (like AddN's): the engine hands over the array itself or an object keyed
 * '0', '1', … (ascending, as integer keys are), and a gradient config may save them all
 * (`saveAllInputs`) and return gradients keyed by position.
 */
function kernelFunc(backendName: string, compute: JsKernelCompute): tf.KernelFunc {
  return ({ inputs, backend, attrs }) =>
    withKernelScope(backendName, backend, (s) => {
      // on wasm, computed from copies: the outputs' mallocs may grow the heap and detach views
      const values = (Object.values(inputs) as TensorInfo[]).map((t) =>
        s.onHeap ? s.data(t).slice() : s.data(t),
      );
      return compute(values, attrs ?? {}).map((r) => s.make(r.shape, (out) => out.set(r.values)));
    });
}

/** Registers `compute` as kernel `kernelName` on cpu and wasm (once). */
export function registerJsKernel(kernelName: string, compute: JsKernelCompute): void {
  for (const backendName of ['cpu', 'wasm']) {
    if (!tf.getKernel(kernelName, backendName))
      tf.registerKernel({
        kernelName,
        backendName,
        kernelFunc: kernelFunc(backendName, compute),
      });
  }
}

/**
 * Whether the active backend runs JS kernels and no tape records the backward pass (their gradient
 * kernels have no gradients of their own).
 */
export function jsKernelsUsable(): boolean {
  const backend = tf.getBackend();
  return (backend === 'cpu' || backend === 'wasm') && !higherOrderTape();
}

/** Runs a JS kernel on a list of tensors (passed to the engine as a list, like AddN's). */
export function runJsKernel(
  kernelName: string,
  inputs: readonly tf.Tensor[],
  attrs: tf.NamedAttrMap = {},
): tf.Tensor[] {
  const out = tf.engine().runKernel(kernelName, [...inputs] as unknown as tf.NamedTensorMap, attrs);
  return ([] as tf.Tensor[]).concat(out);
}
