import * as tf from '@tensorflow/tfjs';
import { simdFor } from '../backend/simd/simd.js';

/**
 * One Adam step over many variables as a single kernel on the CPU-memory backends (`cpu`, `wasm`):
 * a plain loop over the parameters instead of ~15 elementwise kernels, whose per-launch overhead
 * (5–20 µs each) dominates small models. On wasm with our SIMD module (backend/simd) the loop is its
 * `adam_step`, four values at a time. Other backends use the op-by-op path in `FusedAdam`.
 */
export const ADAM_STEP_KERNEL = 'TfjsMtlAdamStep';

/** Attributes of the kernel; `bc1`/`bc2` are the bias corrections 1 − β^t. */
export interface AdamStepAttrs {
  count: number;
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  bc1: number;
  bc2: number;
  [key: string]: number;
}

interface HeapBackend {
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array;
}

interface CpuBackend {
  data: { get(dataId: object): { values: Float32Array } };
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): tf.TensorInfo;
}

/**
 * The update itself, on float32 views. Inputs per variable i: its values `p_i` and gradient `g_i`, then the
 * flat first and second moments. Writes new values, moments into the `out` views.
 */
function adamLoop(
  params: Float32Array[],
  grads: Float32Array[],
  m: Float32Array,
  v: Float32Array,
  outParams: Float32Array[],
  outM: Float32Array,
  outV: Float32Array,
  a: AdamStepAttrs,
): void {
  const { beta1, beta2, epsilon } = a;
  const stepSize = a.learningRate / a.bc1;
  const invBc2 = 1 / a.bc2;
  const c1 = 1 - beta1;
  const c2 = 1 - beta2;
  let off = 0;
  for (let i = 0; i < params.length; i++) {
    const p = params[i]!;
    const g = grads[i]!;
    const o = outParams[i]!;
    for (let k = 0; k < p.length; k++) {
      const gk = g[k]!;
      const mk = beta1 * m[off + k]! + c1 * gk;
      const vk = beta2 * v[off + k]! + c2 * gk * gk;
      outM[off + k] = mk;
      outV[off + k] = vk;
      o[k] = p[k]! - (stepSize * mk) / (Math.sqrt(vk * invBc2) + epsilon);
    }
    off += p.length;
  }
}

function splitInputs(inputs: tf.NamedTensorInfoMap, count: number) {
  const params: tf.TensorInfo[] = [];
  const grads: tf.TensorInfo[] = [];
  for (let i = 0; i < count; i++) {
    params.push(inputs[`p${i}`]!);
    grads.push(inputs[`g${i}`]!);
  }
  return { params, grads, m: inputs['m']!, v: inputs['v']! };
}

const wasmKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const a = attrs as unknown as AdamStepAttrs;
  const b = backend as unknown as HeapBackend;
  const ins = splitInputs(inputs, a.count);
  // allocate every output first: a malloc may grow the heap and detach earlier views
  const outs = [...ins.params, ins.m, ins.v].map((t) => b.makeOutput([...t.shape], 'float32'));
  const simd = simdFor(backend);
  if (simd !== undefined) {
    // our SIMD module's loop, in float32 (the JS loop below computes in doubles)
    const [om, ov] = [simd.offset(outs[a.count]!), simd.offset(outs[a.count + 1]!)];
    const [m, v] = [simd.offset(ins.m), simd.offset(ins.v)];
    let off = 0;
    ins.params.forEach((p, i) => {
      const n = tf.util.sizeFromShape(p.shape);
      simd.kernels.adam_step(
        simd.offset(p),
        simd.offset(ins.grads[i]!),
        m + 4 * off,
        v + 4 * off,
        n,
        simd.offset(outs[i]!),
        om + 4 * off,
        ov + 4 * off,
        a.beta1,
        a.beta2,
        a.learningRate / a.bc1,
        1 / a.bc2,
        a.epsilon,
      );
      off += n;
    });
    return outs;
  }
  const view = (t: tf.TensorInfo) => b.typedArrayFromHeap(t);
  adamLoop(
    ins.params.map(view),
    ins.grads.map(view),
    view(ins.m),
    view(ins.v),
    outs.slice(0, a.count).map(view),
    view(outs[a.count]!),
    view(outs[a.count + 1]!),
    a,
  );
  return outs;
};

const cpuKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const a = attrs as unknown as AdamStepAttrs;
  const b = backend as unknown as CpuBackend;
  const ins = splitInputs(inputs, a.count);
  const view = (t: tf.TensorInfo) => b.data.get(t.dataId).values;
  const outArrays = [...ins.params, ins.m, ins.v].map(
    (t) => new Float32Array(tf.util.sizeFromShape(t.shape)),
  );
  adamLoop(
    ins.params.map(view),
    ins.grads.map(view),
    view(ins.m),
    view(ins.v),
    outArrays.slice(0, a.count),
    outArrays[a.count]!,
    outArrays[a.count + 1]!,
    a,
  );
  return [...ins.params, ins.m, ins.v].map((t, i) =>
    b.makeTensorInfo([...t.shape], 'float32', outArrays[i]!),
  );
};

const KERNELS: Record<string, tf.KernelFunc> = { wasm: wasmKernel, cpu: cpuKernel };
let registered = false;

/** Registers the kernel for `cpu` and `wasm` (idempotent). */
export function registerAdamStepKernel(): void {
  if (registered) return;
  registered = true;
  for (const [backendName, kernelFunc] of Object.entries(KERNELS)) {
    if (!tf.getKernel(ADAM_STEP_KERNEL, backendName)) {
      tf.registerKernel({ kernelName: ADAM_STEP_KERNEL, backendName, kernelFunc });
    }
  }
}

/** Whether the active backend runs the single-kernel step. */
export function hasAdamStepKernel(): boolean {
  return tf.getKernel(ADAM_STEP_KERNEL, tf.getBackend()) !== undefined;
}

/** Runs the kernel: returns [new p_0 … new p_{n−1}, new m, new v]. */
export function runAdamStep(
  params: readonly tf.Tensor[],
  grads: readonly tf.Tensor[],
  m: tf.Tensor,
  v: tf.Tensor,
  attrs: Omit<AdamStepAttrs, 'count'>,
): tf.Tensor[] {
  const inputs: tf.NamedTensorMap = { m, v };
  params.forEach((p, i) => {
    inputs[`p${i}`] = p;
    inputs[`g${i}`] = grads[i]!;
  });
  return tf.engine().runKernel<tf.Tensor[]>(ADAM_STEP_KERNEL, inputs, { ...attrs, count: params.length });
}
