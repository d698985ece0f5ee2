/**
 * Fused dense layers for small networks on the CPU-memory backends (`cpu`, `wasm`).
 *
 * A training step of a small dense network is bound by per-op overhead, not arithmetic: on wasm an op
 * costs ~6 µs through the engine and ~20 µs once its gradient, the tape and the saved-tensor copies
 * are counted, whatever its size. tfjs-core runs a dense layer as reshapes around a fused matMul, and
 * its gradient as ~8 more kernels; the towers of ParallelDense cost more. Here a dense layer — plain
 * (`[K, U]` kernel) or T towers side by side (`[T, K, U]`, see ParallelDense) — is one engine kernel
 * forward (`TfjsMtlDense`: act(x·W + b)) and one backward for the weights (`TfjsMtlDenseGrad`: dW, db
 * and the pre-activation gradient dz), plus `TfjsMtlDenseInputGrad` (dx from dz) only when the engine asks
 * for the input's gradient — never for a first layer. Each calls the backend's own kernels directly
 * (kernel-scope.ts): XNNPACK's matMul on wasm, the same arithmetic as the op path, without the engine's
 * per-op bookkeeping.
 *
 * `denseFusible` says when to use them: float32, an activation they compute, cpu or wasm, and no tape
 * recording the backward pass (higher-order gradients: the backward kernel has no gradient of its own).
 * Otherwise callers take the op path.
 *
 * Browser-safe: depends on nothing but @tensorflow/tfjs.
 */
import * as tf from '@tensorflow/tfjs';
import { higherOrderTape, withKernelScope, type KernelScope } from './kernel-scope.js';

type TensorInfo = tf.TensorInfo;

export const DENSE_KERNEL = 'TfjsMtlDense';
export const DENSE_GRAD_KERNEL = 'TfjsMtlDenseGrad';
export const DENSE_INPUT_GRAD_KERNEL = 'TfjsMtlDenseInputGrad';

/** The activations the fused kernels compute. */
export const FUSED_ACTIVATIONS = ['linear', 'relu', 'tanh', 'sigmoid', 'elu'] as const;
export type FusedActivation = (typeof FUSED_ACTIVATIONS)[number];

/**
 * The product's dimensions: `rows` input rows, T towers, K inputs and U units per tower; `sharedX` when
 * every tower reads the same input row ([rows, K]) rather than its own slice ([rows, T, K]).
 */
interface Geometry {
  rows: number;
  T: number;
  K: number;
  U: number;
  sharedX: boolean;
  outShape: number[];
}

function geometry(xShape: readonly number[], wShape: readonly number[], bShape: readonly number[]): Geometry {
  const fail = (): never => {
    throw new Error(
      `${DENSE_KERNEL}: cannot multiply x [${xShape.join(', ')}] by kernel [${wShape.join(', ')}] with bias [${bShape.join(', ')}]`,
    );
  };
  const K = xShape[xShape.length - 1] ?? fail();
  if (wShape.length === 2) {
    // a plain dense layer over any leading dimensions
    const U = wShape[1]!;
    if (wShape[0] !== K || bShape.length !== 1 || bShape[0] !== U || xShape.length < 2) fail();
    const rows = tf.util.sizeFromShape(xShape.slice(0, -1));
    return { rows, T: 1, K, U, sharedX: true, outShape: [...xShape.slice(0, -1), U] };
  }
  if (wShape.length !== 3) fail();
  const [T, wK, U] = wShape as [number, number, number];
  if (wK !== K || bShape.length !== 2 || bShape[0] !== T || bShape[1] !== U) fail();
  if (xShape.length === 2) return { rows: xShape[0]!, T, K, U, sharedX: true, outShape: [xShape[0]!, T, U] };
  if (xShape.length !== 3 || xShape[1] !== T) fail();
  return { rows: xShape[0]!, T, K, U, sharedX: false, outShape: [xShape[0]!, T, U] };
}

/** act(v) for the activations the wasm and cpu fused matMul kernels do not apply themselves. */
function activate(s: KernelScope, v: TensorInfo, activation: FusedActivation): TensorInfo {
  switch (activation) {
    case 'linear':
    case 'relu':
      return v;
    case 'tanh':
      return s.run('Tanh', { x: v }, {});
    case 'sigmoid':
      return s.run('Sigmoid', { x: v }, {});
    case 'elu':
      return s.run('Elu', { x: v }, {});
  }
}

/** dy · act′, from the activation's output y. */
function activationGradient(
  s: KernelScope,
  dy: TensorInfo,
  y: TensorInfo,
  activation: FusedActivation,
): TensorInfo {
  const one = () => s.run('Fill', {}, { shape: [], value: 1, dtype: 'float32' });
  switch (activation) {
    case 'linear':
      return dy;
    case 'relu':
      return s.run('Multiply', { a: dy, b: s.run('Step', { x: y }, { alpha: 0 }) }, {});
    case 'elu':
      return s.run('EluGrad', { dy, y }, {});
    case 'tanh':
      return s.run(
        'Multiply',
        { a: dy, b: s.run('Sub', { a: one(), b: s.run('Square', { x: y }, {}) }, {}) },
        {},
      );
    case 'sigmoid':
      return s.run(
        'Multiply',
        { a: dy, b: s.run('Multiply', { a: y, b: s.run('Sub', { a: one(), b: y }, {}) }, {}) },
        {},
      );
  }
}

/**
 * a [1, rows, K] · b [1, K, N] + bias [N] (any shape of N values), relu fused when asked: one XNNPACK
 * call on wasm. wasm's fused kernel reads the bias's rank from its stored data, not from a reshaped
 * view, so a bias of another rank is copied into a rank-1 tensor first.
 */
function matMulBias(
  s: KernelScope,
  a: TensorInfo,
  b: TensorInfo,
  bias: TensorInfo,
  relu: boolean,
): TensorInfo {
  const n = b.shape[2]!;
  const flat =
    bias.shape.length === 1 ? bias : s.make([n], (values) => values.set(s.values(bias).subarray(0, n)));
  return s.run(
    '_FusedMatMul',
    { a, b, bias: flat },
    { transposeA: false, transposeB: false, activation: relu ? 'relu' : 'linear' },
  );
}

/** The towers' kernel [T, K, U] laid side by side as [1, K, T·U]. */
function sideBySide(s: KernelScope, w: TensorInfo, g: Geometry): TensorInfo {
  const { T, K, U } = g;
  const wide = T === 1 || K === 1 ? w : s.transpose(w, [1, 0, 2]);
  return s.reshape(wide, [1, K, T * U]);
}

function forward(
  s: KernelScope,
  x: TensorInfo,
  w: TensorInfo,
  b: TensorInfo,
  activation: FusedActivation,
): TensorInfo {
  const g = geometry(x.shape, w.shape, b.shape);
  const { rows, T, K, U } = g;
  const relu = activation === 'relu';
  let z: TensorInfo;
  if (g.sharedX && K === 1) {
    // one input feature: an outer product, a broadcast multiply and add are cheaper than XNNPACK's set-up
    const N = T * U;
    const outer = s.run('Multiply', { a: s.reshape(x, [rows, 1]), b: s.reshape(w, [1, N]) }, {});
    z = s.run('Add', { a: outer, b: s.reshape(b, [N]) }, {});
    if (relu) z = s.run('Relu', { x: z }, {});
  } else if (g.sharedX) {
    // every tower reads the same row: one product with the kernels side by side
    const wide = w.shape.length === 2 ? s.reshape(w, [1, K, U]) : sideBySide(s, w, g);
    z = matMulBias(s, s.reshape(x, [1, rows, K]), wide, b, relu);
  } else if (U === 1) {
    // one unit per tower: a multiply and a sum along K beat T products of one column
    const p = s.run('Multiply', { a: x, b: s.reshape(w, [1, T, K]) }, {});
    z = s.run('Add', { a: s.run('Sum', { x: p }, { axis: [2], keepDims: false }), b: s.reshape(b, [T]) }, {});
    if (relu) z = s.run('Relu', { x: z }, {});
  } else {
    const perTower = s.run(
      'BatchMatMul',
      { a: s.transpose(x, [1, 0, 2]), b: w },
      { transposeA: false, transposeB: false },
    );
    z = s.run('Add', { a: s.transpose(perTower, [1, 0, 2]), b }, {});
    if (relu) z = s.run('Relu', { x: z }, {});
  }
  return s.reshape(activate(s, z, activation), g.outShape);
}

/** [dx, dW, db] of y = act(x·W + b). */
/**
 * Below this many inputs per unit, products with the thin operand run as a broadcast multiply and a sum:
 * XNNPACK repacks the wide operand on every call (measured: xᵀ·dz for x [20, 1], dz [20, 2048] takes
 * 196 µs through XNNPACK, 23 µs as multiply + sum on wasm).
 */
const THIN = 4;

function checkDy(dy: TensorInfo, g: Geometry): void {
  if (dy.shape.length !== g.outShape.length || !dy.shape.every((d, i) => d === g.outShape[i]))
    throw new Error(`${DENSE_GRAD_KERNEL}: dy [${dy.shape.join(', ')}] is not [${g.outShape.join(', ')}]`);
}

function biasShape(w: TensorInfo): number[] {
  return w.shape.length === 2 ? [w.shape[1]!] : [w.shape[0]!, w.shape[2]!];
}

/** [dz, dW, db] of y = act(x·W + b), where dz = dy · act′ is the pre-activation gradient. */
function weightGradients(
  s: KernelScope,
  dy: TensorInfo,
  x: TensorInfo,
  w: TensorInfo,
  y: TensorInfo,
  activation: FusedActivation,
): TensorInfo[] {
  const bShape = biasShape(w);
  const g = geometry(x.shape, w.shape, bShape);
  const { rows, T, K, U } = g;
  checkDy(dy, g);
  // dz leaves the kernel: a view when it is dy itself (a kernel's output is never one of its inputs)
  const dz = s.reshape(activationGradient(s, dy, y, activation), [...dy.shape]);
  const sum0 = (t: TensorInfo) => s.run('Sum', { x: t }, { axis: [0], keepDims: false });
  if (g.sharedX) {
    const N = T * U;
    const z = s.reshape(dz, [rows, N]);
    // dW [K, N] = xᵀ·dz
    const dWide =
      K <= THIN
        ? sum0(s.run('Multiply', { a: s.reshape(x, [rows, K, 1]), b: s.reshape(z, [rows, 1, N]) }, {}))
        : s.run(
            'BatchMatMul',
            { a: s.reshape(x, [1, rows, K]), b: s.reshape(z, [1, rows, N]) },
            { transposeA: true, transposeB: false },
          );
    const dw =
      w.shape.length === 2 || T === 1 || K === 1
        ? s.reshape(dWide, [...w.shape])
        : s.transpose(s.reshape(dWide, [K, T, U]), [1, 0, 2]);
    return [dz, dw, s.reshape(sum0(z), bShape)];
  }
  if (U === 1) {
    const z = s.reshape(dz, [rows, T, 1]);
    const dw = s.reshape(sum0(s.run('Multiply', { a: x, b: z }, {})), [T, K, 1]);
    return [dz, dw, s.reshape(sum0(s.reshape(dz, [rows, T])), [T, 1])];
  }
  const zt = s.transpose(dz, [1, 0, 2]); // [T, B, U]
  const dw = s.run(
    'BatchMatMul',
    { a: s.transpose(x, [1, 0, 2]), b: zt },
    { transposeA: true, transposeB: false },
  );
  return [dz, dw, sum0(dz)];
}

/** dx of y = act(x·W + b) from dz (summed over the towers when they share x). */
function inputGradient(s: KernelScope, dz: TensorInfo, x: TensorInfo, w: TensorInfo): TensorInfo {
  const g = geometry(x.shape, w.shape, biasShape(w));
  const { rows, T, K, U } = g;
  if (g.sharedX) {
    const N = T * U;
    const wide = w.shape.length === 2 ? s.reshape(w, [1, K, U]) : sideBySide(s, w, g);
    // dx [rows, K] = dz·Wᵀ
    const dx =
      K <= THIN
        ? s.run(
            'Sum',
            { x: s.run('Multiply', { a: s.reshape(dz, [rows, 1, N]), b: wide }, {}) },
            { axis: [2], keepDims: false },
          )
        : s.run(
            'BatchMatMul',
            { a: s.reshape(dz, [1, rows, N]), b: wide },
            { transposeA: false, transposeB: true },
          );
    return s.reshape(dx, [...x.shape]);
  }
  if (U === 1) return s.run('Multiply', { a: s.reshape(dz, [rows, T, 1]), b: s.reshape(w, [1, T, K]) }, {});
  const perTower = s.run(
    'BatchMatMul',
    { a: s.transpose(dz, [1, 0, 2]), b: w },
    { transposeA: false, transposeB: true },
  );
  return s.transpose(perTower, [1, 0, 2]);
}

function requireFloat(kernel: string, inputs: Record<string, TensorInfo | undefined>): void {
  for (const [name, t] of Object.entries(inputs)) {
    if (t === undefined) throw new Error(`${kernel}: input '${name}' is missing`);
    if (t.dtype !== 'float32') throw new Error(`${kernel}: input '${name}' must be float32, got ${t.dtype}`);
  }
}

function activationAttr(attrs: tf.NamedAttrMap | undefined): FusedActivation {
  const a = attrs?.['activation'];
  if (typeof a !== 'string' || !(FUSED_ACTIVATIONS as readonly string[]).includes(a))
    throw new Error(`${DENSE_KERNEL}: unsupported activation '${JSON.stringify(a)}'`);
  return a as FusedActivation;
}

function forwardKernel(backendName: string): tf.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { x, w, b } = inputs;
    requireFloat(DENSE_KERNEL, { x, w, b });
    const activation = activationAttr(attrs);
    return withKernelScope(backendName, backend, (s) => forward(s, x!, w!, b!, activation));
  };
}

function weightGradientKernel(backendName: string): tf.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { dy, x, w, y } = inputs;
    requireFloat(DENSE_GRAD_KERNEL, { dy, x, w, y });
    const activation = activationAttr(attrs);
    return withKernelScope(backendName, backend, (s) => weightGradients(s, dy!, x!, w!, y!, activation));
  };
}

function inputGradientKernel(backendName: string): tf.KernelFunc {
  return ({ inputs, backend }) => {
    const { dz, x, w } = inputs;
    requireFloat(DENSE_INPUT_GRAD_KERNEL, { dz, x, w });
    return withKernelScope(backendName, backend, (s) => inputGradient(s, dz!, x!, w!));
  };
}

const BACKENDS = ['cpu', 'wasm'] as const;
let registered = false;

/**
 * Registers both kernels for `cpu` and `wasm` (where those backends are loaded) and the forward
 * kernel's gradient. Idempotent.
 */
export function registerDenseKernels(): void {
  if (registered) return;
  registered = true;
  for (const backendName of BACKENDS) {
    if (!tf.getKernel(DENSE_KERNEL, backendName))
      tf.registerKernel({ kernelName: DENSE_KERNEL, backendName, kernelFunc: forwardKernel(backendName) });
    if (!tf.getKernel(DENSE_GRAD_KERNEL, backendName))
      tf.registerKernel({
        kernelName: DENSE_GRAD_KERNEL,
        backendName,
        kernelFunc: weightGradientKernel(backendName),
      });
    if (!tf.getKernel(DENSE_INPUT_GRAD_KERNEL, backendName))
      tf.registerKernel({
        kernelName: DENSE_INPUT_GRAD_KERNEL,
        backendName,
        kernelFunc: inputGradientKernel(backendName),
      });
  }
  if (!tf.getGradient(DENSE_KERNEL)) {
    tf.registerGradient({
      kernelName: DENSE_KERNEL,
      inputsToSave: ['x', 'w'],
      outputsToSave: [true],
      gradFunc: (dy, saved, attrs) => {
        const [x, w, y] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
        // one kernel for the weights' gradients; the input's only when asked for (the engine does not
        // ask for the first layer's)
        const [dz, dw, db] = tf
          .engine()
          .runKernel<tf.Tensor[]>(DENSE_GRAD_KERNEL, { dy: dy as tf.Tensor, x, w, y }, attrs);
        return {
          x: () => tf.engine().runKernel<tf.Tensor>(DENSE_INPUT_GRAD_KERNEL, { dz: dz!, x, w }, {}),
          w: () => dw!,
          b: () => db!,
        };
      },
    });
  }
}

/**
 * Whether `denseForward` can run here: float32 operands, an activation the kernels compute, the cpu or
 * wasm backend, and no tape recording the backward pass.
 */
export function denseFusible(x: tf.Tensor, w: tf.Tensor, activation: string): boolean {
  if (!(FUSED_ACTIVATIONS as readonly string[]).includes(activation)) return false;
  if (x.dtype !== 'float32' || w.dtype !== 'float32') return false;
  const backend = tf.getBackend();
  if (backend !== 'cpu' && backend !== 'wasm') return false;
  if (higherOrderTape()) return false;
  registerDenseKernels();
  return tf.getKernel(DENSE_KERNEL, backend) !== undefined;
}

/**
 * act(x·W + b) as one kernel with a one-kernel gradient; call only when `denseFusible` says so.
 * W is [K, U] (x [..., K] → [..., U]) or [T, K, U] (x [B, K] or [B, T, K] → [B, T, U]).
 */
export function denseForward(
  x: tf.Tensor,
  w: tf.Tensor,
  b: tf.Tensor,
  activation: FusedActivation,
): tf.Tensor {
  registerDenseKernels();
  return tf.engine().runKernel<tf.Tensor>(DENSE_KERNEL, { x, w, b }, { activation });
}
