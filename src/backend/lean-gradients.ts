/**
 * Leaner gradient functions for the elementwise and reduction kernels of small training graphs.
 *
 * Small models are bound by per-kernel overhead (a few µs per launch on wasm, before any work), and tfjs-core 4.22's
 * gradients launch many kernels that compute nothing: `cast` of float32 tensors (an `Identity` copy
 * on wasm), `reshape` to the shape a tensor already has, `mul(…, ones(x.shape))` to broadcast, a
 * `clone` per input of `AddN`. The configs here compute the same values (bit for bit where the
 * original works at all) with only the kernels that do work:
 *
 *  - reshape only when the shape differs, and then as a free view (below); sum only over the axes
 *    that were actually broadcast (size > 1); cast only inputs that are not float32;
 *  - Mean / Sum: dy (Mean: dy/n, over dy's few values) broadcast by one `Tile` instead of reshape +
 *    `ones()` + Mul (+ Div), where `ones()` is a JS array uploaded to the backend (recorded for a
 *    higher-order gradient: a `Fill` and one Mul or RealDiv);
 *  - pass-through gradients (Add, Sub's a, AddN, Identity, Cast, Reshape, ExpandDims) are views of dy.
 *
 * A "view" is a new Tensor over the same data with the data's refcount raised: exactly what the cpu
 * and wasm `Reshape` kernels return, minus the engine's kernel launch. It is never dy itself: the
 * tape disposes a gradient when it accumulates another one into the same tensor, so an aliased dy
 * could be freed under a tensor that still needs it (e.g. Add(a, b) with `a` also consumed earlier).
 *
 * While a tape records the backward pass (higher-order gradients), every view is a real `Reshape`,
 * so the recorded graph stays connected and differentiable.
 *
 * The tensors a kernel saves for its gradient are views too (`registerLeanGradients` patches the
 * engine's saveTensorsForBackwardMode): tfjs-core clones each through an `Identity` kernel and records
 * the clone on the tape, doubling both for small graphs. Only while no outer tape records the backward
 * pass (gradient depth 1); nested gradients keep the recorded clones that connect them.
 *
 * SquaredDifference additionally supports broadcasting, which the original gradient does not (it
 * returns the broadcast shape and the engine rejects it).
 *
 * Browser-safe: depends on nothing but @tensorflow/tfjs.
 */
import * as tf from '@tensorflow/tfjs';
import { asFloat32 } from './as-dtype.js';

type Tensor = tf.Tensor;
type GradMap = ReturnType<tf.GradFunc>;

/** Kernels whose gradient `registerLeanGradients` replaces. */
export const LEAN_GRADIENT_KERNELS: readonly string[] = Object.freeze([
  'Add',
  'Sub',
  'Multiply',
  'RealDiv',
  'Mean',
  'Sum',
  'Square',
  'SquaredDifference',
  'Relu',
  'AddN',
  'Reshape',
  'ExpandDims',
  'Identity',
  'Cast',
]);

// Marks our configs so that registering again (even from a duplicated copy of this module) is a no-op,
// while a config registered by someone else since (e.g. a test restoring the originals) is replaced.
const MARK = Symbol.for('tfjs-mtl.lean-gradient');

/** Backends whose `Reshape` kernel is `incRef` + new shape, so that a view can skip the launch. */
const VIEW_BACKENDS = new Set(['cpu', 'wasm']);

const { sizeFromShape, parseAxisParam } = tf.util;

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function single(dy: Tensor | Tensor[]): Tensor {
  if (Array.isArray(dy)) throw new Error('lean-gradients: expected the gradient of a single output');
  return dy;
}

function savedAt(saved: Tensor[], i: number): Tensor {
  const t = saved[i];
  if (t === undefined) throw new Error(`lean-gradients: saved tensor ${i} is missing`);
  return t;
}

/**
 * A new tensor over `t`'s data with shape `shape` (same size). Without a kernel launch on cpu/wasm
 * unless a tape is recording; a `Reshape` kernel otherwise (which also reports a size mismatch).
 */
function view(t: Tensor, shape: readonly number[]): Tensor {
  const engine = tf.engine();
  if (
    !engine.isTapeOn() &&
    VIEW_BACKENDS.has(tf.getBackend()) &&
    sizeFromShape([...shape]) === t.size &&
    tf.backend().refCount(t.dataId) > 0
  ) {
    tf.backend().incRef(t.dataId);
    return engine.makeTensorFromTensorInfo({ dataId: t.dataId, shape: [...shape], dtype: t.dtype });
  }
  return tf.reshape(t, [...shape]);
}

/** `t` itself when it is a tensor this gradient created, a view of it when it is the engine's dy. */
function fresh(t: Tensor, dy: Tensor): Tensor {
  return t === dy ? view(dy, dy.shape) : t;
}

/**
 * `t` (of a broadcast result's shape) summed down to the input shape `shape`: over the broadcast axes
 * of size > 1 only, keeping dims when that lands on `shape`, viewed to `shape` when it does not.
 * Returns `t` itself when nothing is to be done.
 */
function sumTo(t: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(t.shape, shape)) return t;
  const axes = tf.backend_util.getReductionAxes([...shape], t.shape).filter((ax) => t.shape[ax] !== 1);
  if (axes.length === 0) return view(t, shape);
  const dropped = t.shape.filter((_, i) => !axes.includes(i));
  const s = tf.sum(t, axes, !sameShape(dropped, shape));
  return sameShape(s.shape, shape) ? s : view(s, shape);
}

/** `shape` with the reduced `axes` set to 1: the keepDims shape of a reduction. */
function keptShape(shape: readonly number[], axes: readonly number[]): number[] {
  return shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

/**
 * `t` (the reduction's output values) broadcast back to `shape` along `axes`, divided by `count`: one
 * `Mul` by (or `RealDiv` by) a `Fill`ed tensor, i.e. the original's `mul(·, ones(shape))` without its
 * reshape, and with `Fill` — a kernel filling the output in place — instead of `ones()`, which builds a
 * JS array and uploads it (hundreds of µs for 20k–40k elements on wasm). `Tile` would be one kernel
 * fewer, but is a slow generic index loop on wasm and cpu (1–3 ms for 20k–40k elements). May return `t`.
 */
function expandTo(t: Tensor, shape: readonly number[], axes: readonly number[], count = 1): Tensor {
  const keep = keptShape(shape, axes);
  const k = sameShape(t.shape, keep) ? t : view(t, keep);
  if (sameShape(keep, shape)) return count === 1 ? k : tf.div(k, count);
  if (!tf.engine().isTapeOn()) {
    // dy/n once per value of dy, then repeated: the float32 values of the original's (dy·1)/n over the
    // broadcast, without its Fill and broadcasting RealDiv (a strided copy on wasm, simd/tile.ts)
    return tf.broadcastTo(count === 1 ? k : tf.div(k, count), [...shape]);
  }
  // recorded for a higher-order gradient: the original's ops, so its second derivative is the original's
  const filled = tf.fill([...shape], count, 'float32');
  return count === 1 ? tf.mul(k, filled) : tf.div(k, filled);
}

function reductionAxes(attrs: tf.NamedAttrMap, x: Tensor): number[] {
  return parseAxisParam(attrs.axis as number | number[], x.shape);
}

const CONFIGS: readonly tf.GradConfig[] = [
  {
    kernelName: 'Add',
    inputsToSave: ['a', 'b'],
    gradFunc: (dys, saved): GradMap => {
      const dy = single(dys);
      const a = savedAt(saved, 0);
      const b = savedAt(saved, 1);
      return { a: () => fresh(sumTo(dy, a.shape), dy), b: () => fresh(sumTo(dy, b.shape), dy) };
    },
  },
  {
    kernelName: 'Sub',
    inputsToSave: ['a', 'b'],
    gradFunc: (dys, saved): GradMap => {
      const dy = single(dys);
      const a = savedAt(saved, 0);
      const b = savedAt(saved, 1);
      return { a: () => fresh(sumTo(dy, a.shape), dy), b: () => tf.neg(sumTo(dy, b.shape)) };
    },
  },
  {
    kernelName: 'Multiply',
    inputsToSave: ['a', 'b'],
    gradFunc: (dys, saved): GradMap => {
      const dy = single(dys);
      const a = savedAt(saved, 0);
      const b = savedAt(saved, 1);
      return {
        a: () => sumTo(tf.mul(dy, asFloat32(b)), a.shape),
        b: () => sumTo(tf.mul(dy, asFloat32(a)), b.shape),
      };
    },
  },
  {
    kernelName: 'RealDiv',
    inputsToSave: ['a', 'b'],
    gradFunc: (dys, saved): GradMap => {
      const dy = single(dys);
      const a = savedAt(saved, 0);
      const b = savedAt(saved, 1);
      return {
        a: () => sumTo(tf.div(dy, asFloat32(b)), a.shape),
        b: () => {
          const res = sumTo(tf.mul(dy, asFloat32(a)), b.shape);
          // as the original: square in b's own dtype, then cast
          return tf.neg(tf.div(res, asFloat32(tf.square(b))));
        },
      };
    },
  },
  {
    kernelName: 'Mean',
    inputsToSave: ['x'],
    gradFunc: (dys, saved, attrs): GradMap => {
      const dy = single(dys);
      const x = savedAt(saved, 0);
      const axes = reductionAxes(attrs, x);
      const count = sizeFromShape(axes.map((ax) => x.shape[ax] ?? 1));
      return { x: () => fresh(expandTo(dy, x.shape, axes, count), dy) };
    },
  },
  {
    kernelName: 'Sum',
    inputsToSave: ['x'],
    gradFunc: (dys, saved, attrs): GradMap => {
      const dy = single(dys);
      const x = savedAt(saved, 0);
      const axes = reductionAxes(attrs, x);
      return { x: () => fresh(expandTo(dy, x.shape, axes), dy) };
    },
  },
  {
    kernelName: 'Square',
    inputsToSave: ['x'],
    gradFunc: (dys, saved): GradMap => {
      const dy = single(dys);
      const x = savedAt(saved, 0);
      // dy has x's shape, so no operand order is cheaper; this is the original's order
      return { x: () => tf.mul(dy, tf.mul(asFloat32(x), 2)) };
    },
  },
  {
    kernelName: 'SquaredDifference',
    inputsToSave: ['a', 'b'],
    gradFunc: (dys, saved): GradMap => {
      const dy = single(dys);
      const a = savedAt(saved, 0);
      const b = savedAt(saved, 1);
      // dy·2(a−b) at the broadcast shape when a's gradient returned it unreduced; b's is its negation
      // (exactly: IEEE subtraction and products are sign-symmetric)
      let shared: Tensor | null = null;
      return {
        a: () => {
          const full = tf.mul(dy, tf.mul(tf.sub(a, b), 2));
          const da = sumTo(full, a.shape);
          if (da === full) shared = full;
          return da;
        },
        b: () => {
          const full = shared !== null && !shared.isDisposed ? shared : null;
          if (full !== null) return tf.neg(sumTo(full, b.shape));
          return sumTo(tf.mul(dy, tf.mul(tf.sub(b, a), 2)), b.shape);
        },
      };
    },
  },
  {
    kernelName: 'Relu',
    inputsToSave: ['x'],
    gradFunc: (dys, saved): GradMap => {
      const dy = single(dys);
      const x = savedAt(saved, 0);
      return { x: () => tf.mul(dy, asFloat32(tf.step(x))) };
    },
  },
  {
    // All inputs share dy's shape, so nothing needs saving (the original saves — copies — them all just
    // to count them): answer for whichever input names the tape asks about.
    kernelName: 'AddN',
    gradFunc: (dys): GradMap => {
      const dy = single(dys);
      const derivative = (): Tensor => view(dy, dy.shape);
      return new Proxy<GradMap>(
        {},
        {
          has: (_, key) => typeof key === 'string',
          get: (_, key) => (typeof key === 'string' ? derivative : undefined),
        },
      );
    },
  },
  {
    kernelName: 'Reshape',
    inputsToSave: ['x'],
    gradFunc: (dys, saved): GradMap => {
      const dy = single(dys);
      const x = savedAt(saved, 0);
      return { x: () => view(dy, x.shape) };
    },
  },
  {
    kernelName: 'ExpandDims',
    inputsToSave: ['input'],
    gradFunc: (dys, saved): GradMap => {
      const dy = single(dys);
      const input = savedAt(saved, 0);
      return { input: () => view(dy, input.shape) };
    },
  },
  {
    // the original casts dy (always float32) to float32: a copy on wasm
    kernelName: 'Identity',
    gradFunc: (dys): GradMap => {
      const dy = single(dys);
      return { x: () => view(dy, dy.shape) };
    },
  },
  {
    // the original clones dy: a copy on wasm
    kernelName: 'Cast',
    gradFunc: (dys): GradMap => {
      const dy = single(dys);
      return { x: () => view(dy, dy.shape) };
    },
  },
];

for (const config of CONFIGS) Object.defineProperty(config, MARK, { value: true });

function isOurs(config: tf.GradConfig | undefined): boolean {
  return config !== undefined && MARK in config;
}

interface EngineInternals {
  state: { gradientDepth: number };
  backendName: string;
  backend: { incRef(dataId: object): void };
  keep<T extends Tensor>(t: T): T;
  makeTensorFromTensorInfo(info: tf.TensorInfo): Tensor;
  saveTensorsForBackwardMode: (this: EngineInternals, tensors: Tensor[]) => Tensor[];
}

/** The engine's saved tensors as views on cpu/wasm at gradient depth 1 (see the module comment). */
function installSavedTensorViews(): void {
  const engine = tf.engine() as unknown as EngineInternals;
  const current = engine.saveTensorsForBackwardMode;
  if (MARK in current) return;
  const clones = current;
  const views = function (this: EngineInternals, tensors: Tensor[]): Tensor[] {
    if (this.state.gradientDepth !== 1 || !VIEW_BACKENDS.has(this.backendName))
      return clones.call(this, tensors);
    return tensors.map((t) => {
      this.backend.incRef(t.dataId);
      return this.keep(this.makeTensorFromTensorInfo({ dataId: t.dataId, shape: t.shape, dtype: t.dtype }));
    });
  };
  Object.defineProperty(views, MARK, { value: true });
  engine.saveTensorsForBackwardMode = views;
}

/**
 * Replaces the gradients of `LEAN_GRADIENT_KERNELS` with the lean ones, for every backend, and makes
 * the engine's saved tensors views. Idempotent; call again to re-install after someone registered
 * other gradients for these kernels.
 */
export function registerLeanGradients(): void {
  installSavedTensorViews();
  const pending = CONFIGS.filter((c) => !isOurs(tf.getGradient(c.kernelName)));
  if (pending.length === 0) return;
  // tfjs warns about overriding a gradient only with DEBUG on; keep that quiet, too
  const silence = tf.env().getBool('DEBUG');
  const warn = console.warn;
  if (silence) console.warn = () => undefined;
  try {
    for (const config of pending) tf.registerGradient(config);
  } finally {
    if (silence) console.warn = warn;
  }
}
