/**
 * Kernels computed in plain JavaScript over the float32 memory of the `cpu` and `wasm` backends, for
 * tensors so small that a kernel launch costs more than the arithmetic: a loss over a batch of 20
 * values, the learned weighting's handful of scalars. One engine launch replaces the 5–15 kernels the
 * op-by-op form needs (each ~6 µs on wasm before any work). Callers check `hasJsKernel` and keep their
 * op path for other backends and for big inputs. Browser-safe.
 */
import * as tf from '@tensorflow/tfjs';

/** The inputs' values (in order; float32, int32 or bool) and the attributes; returns each float32 output. */
export type JsKernelCompute = (
  inputs: ArrayLike<number>[],
  attrs: tf.NamedAttrMap,
) => { shape: number[]; values: ArrayLike<number> }[];

interface HeapBackend {
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

interface CpuBackend {
  data: { get(dataId: object): { values: Float32Array | Int32Array | Uint8Array } };
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): tf.TensorInfo;
}

/**
 * A JS kernel's inputs are a list (like AddN's): the engine hands the array over as is, and a gradient
 * config may save them all (`saveAllInputs`) and return gradients keyed by position ('0', '1', …).
 */
function ordered(inputs: tf.NamedTensorInfoMap, kernelName: string): tf.TensorInfo[] {
  // the engine may pass the array itself or an object keyed '0', '1', … (ascending as integer keys)
  const list = Object.values(inputs) as tf.TensorInfo[];
  list.forEach((t, i) => {
    if (t.dtype !== 'float32' && t.dtype !== 'int32' && t.dtype !== 'bool')
      throw new Error(`${kernelName}: input ${i} must be numeric, got ${t.dtype}`);
  });
  return list;
}

function wasmKernel(kernelName: string, compute: JsKernelCompute): tf.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const heap = backend as unknown as HeapBackend;
    const ins = ordered(inputs, kernelName);
    // computed from copies: the outputs' mallocs below may grow the heap and detach views
    const results = compute(
      ins.map((t) => heap.typedArrayFromHeap(t).slice()),
      attrs ?? {},
    );
    const outs = results.map((r) => heap.makeOutput(r.shape, 'float32'));
    outs.forEach((o, i) => (heap.typedArrayFromHeap(o) as Float32Array).set(results[i]!.values));
    return outs;
  };
}

function cpuKernel(kernelName: string, compute: JsKernelCompute): tf.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const cpu = backend as unknown as CpuBackend;
    const ins = ordered(inputs, kernelName);
    const results = compute(
      ins.map((t) => cpu.data.get(t.dataId).values),
      attrs ?? {},
    );
    return results.map((r) =>
      cpu.makeTensorInfo(
        r.shape,
        'float32',
        r.values instanceof Float32Array ? r.values : Float32Array.from(r.values),
      ),
    );
  };
}

/** Registers `compute` as kernel `kernelName` on cpu and wasm (once). */
export function registerJsKernel(kernelName: string, compute: JsKernelCompute): void {
  if (!tf.getKernel(kernelName, 'cpu'))
    tf.registerKernel({ kernelName, backendName: 'cpu', kernelFunc: cpuKernel(kernelName, compute) });
  if (!tf.getKernel(kernelName, 'wasm'))
    tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: wasmKernel(kernelName, compute) });
}

interface EngineState {
  state: { gradientDepth: number };
}

/**
 * Whether the active backend runs JS kernels and no tape records the backward pass (their gradient
 * kernels have no gradients of their own).
 */
export function jsKernelsUsable(): boolean {
  const backend = tf.getBackend();
  return (
    (backend === 'cpu' || backend === 'wasm') &&
    (tf.engine() as unknown as EngineState).state.gradientDepth <= 1
  );
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
