/**
 * Runs a backend's kernels directly from inside another kernel — no engine, no tape, no tracking — so
 * that a composite kernel (wasm-kernels.ts, dense-kernels.ts) costs one engine launch however many
 * backend kernels it calls. Browser-safe: depends on nothing but @tensorflow/tfjs.
 */
import * as tf from '@tensorflow/tfjs';

type TensorInfo = tf.TensorInfo;

interface DisposingBackend {
  disposeData(dataId: object): void;
}

/** Public BackendWasm methods its own JS kernels (Concat, Slice) use. */
interface HeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array | Uint8Array;
}

/** The cpu backend's data store and tensor maker. */
interface CpuBackend {
  data: { get(dataId: object): { values?: unknown } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): TensorInfo;
}

/**
 * Kernel calls on one backend that free every intermediate they produced unless it was handed out via
 * `keep`. Views (Reshape) share data through the backend's reference counts, so freeing an
 * intermediate never frees a kept output that views it.
 */
export class KernelScope {
  private readonly temps: TensorInfo[] = [];

  constructor(
    readonly backendName: string,
    readonly backend: object,
  ) {}

  run(kernelName: string, inputs: tf.NamedTensorInfoMap | TensorInfo[], attrs: tf.NamedAttrMap): TensorInfo {
    const config: tf.KernelConfig | undefined = tf.getKernel(kernelName, this.backendName);
    if (config === undefined)
      throw new Error(`kernel '${kernelName}' is not registered for the ${this.backendName} backend`);
    return this.track(
      config.kernelFunc({ inputs: inputs as tf.NamedTensorInfoMap, backend: this.backend, attrs }),
    );
  }

  /** Runs a captured (original) kernelFunc. */
  call(fn: tf.KernelFunc, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap): TensorInfo {
    return this.track(fn({ inputs, backend: this.backend, attrs }));
  }

  reshape(x: TensorInfo, shape: number[]): TensorInfo {
    return this.run('Reshape', { x }, { shape });
  }

  transpose(x: TensorInfo, perm: number[]): TensorInfo {
    return this.run('Transpose', { x }, { perm });
  }

  slice(x: TensorInfo, begin: number[], sizes: number[]): TensorInfo {
    return this.run('Slice', { x }, { begin, size: sizes });
  }

  /** x[i:i+1] along axis 0, as a fresh tensor. */
  take(x: TensorInfo, i: number): TensorInfo {
    const shape = [1, ...x.shape.slice(1)];
    const backend = this.backend as Partial<HeapBackend>;
    if (typeof backend.makeOutput !== 'function' || typeof backend.typedArrayFromHeap !== 'function') {
      return this.slice(x, [i, ...shape.slice(1).map(() => 0)], shape);
    }
    // Not wasm's Slice (copies the whole input through readSync: ~8 ms per
    // 256² piece of an 8×256² tensor) nor GatherV2 (~3 ms): a heap-to-heap
    // copy of just the piece, as wasm's own Concat does.
    const out = backend.makeOutput(shape, x.dtype);
    this.temps.push(out);
    const n = tf.util.sizeFromShape(shape);
    // Views after makeOutput: a heap growth would detach earlier ones.
    backend.typedArrayFromHeap(out).set(backend.typedArrayFromHeap(x).subarray(i * n, (i + 1) * n));
    return out;
  }

  /** Whether the backend's data lives in one growable heap (wasm), where views go stale on allocation. */
  get onHeap(): boolean {
    return typeof (this.backend as Partial<HeapBackend>).typedArrayFromHeap === 'function';
  }

  /**
   * The values of a numeric tensor (float32, int32 or bool), read in place: on wasm a view of the heap,
   * valid only until the next allocation (a malloc may grow the heap); on cpu its array.
   */
  data(t: TensorInfo): Float32Array | Int32Array | Uint8Array {
    if (t.dtype !== 'float32' && t.dtype !== 'int32' && t.dtype !== 'bool')
      throw new Error(`${this.backendName} kernel: expected a numeric tensor, got ${t.dtype}`);
    if (this.onHeap) return (this.backend as HeapBackend).typedArrayFromHeap(t);
    const values = (this.backend as CpuBackend).data.get(t.dataId).values;
    // (not instanceof: typed arrays made in another realm, e.g. a test's VM context, fail it)
    if (!ArrayBuffer.isView(values))
      throw new Error(`${this.backendName} kernel: the data of a ${t.dtype} tensor is not in memory`);
    return values as Float32Array | Int32Array | Uint8Array;
  }

  /** `data` of a float32 tensor. */
  values(t: TensorInfo): Float32Array {
    if (t.dtype !== 'float32')
      throw new Error(`${this.backendName} kernel: expected float32, got ${t.dtype}`);
    return this.data(t) as Float32Array;
  }

  /** A new float32 tensor of `shape`, zeros, then filled in place by `fill`. */
  make(shape: number[], fill: (values: Float32Array) => void): TensorInfo {
    // (the cpu backend has a makeOutput too, with another signature: tell wasm by its heap)
    if (this.onHeap) {
      const out = (this.backend as HeapBackend).makeOutput(shape, 'float32');
      this.temps.push(out);
      const values = this.values(out);
      values.fill(0);
      fill(values);
      return out;
    }
    const values = new Float32Array(tf.util.sizeFromShape(shape));
    fill(values);
    return this.track((this.backend as CpuBackend).makeTensorInfo(shape, 'float32', values));
  }

  /**
   * A new float32 tensor of `shape` for a kernel that writes every value itself: on wasm its memory is
   * left as malloc gave it (no zeroing pass), on cpu zeros.
   */
  alloc(shape: number[]): TensorInfo {
    if (!this.onHeap) return this.make(shape, () => {});
    const out = (this.backend as HeapBackend).makeOutput(shape, 'float32');
    this.temps.push(out);
    return out;
  }

  keep(t: TensorInfo): TensorInfo {
    const i = this.temps.lastIndexOf(t);
    if (i >= 0) this.temps.splice(i, 1);
    return t;
  }

  dispose(): void {
    const backend = this.backend as DisposingBackend;
    for (const t of this.temps) backend.disposeData(t.dataId);
    this.temps.length = 0;
  }

  private track(out: TensorInfo | TensorInfo[]): TensorInfo {
    const outs = Array.isArray(out) ? out : [out];
    this.temps.push(...outs);
    const first = outs[0];
    if (first === undefined || outs.length !== 1)
      throw new Error(`${this.backendName} kernel: expected a single output`);
    return first;
  }
}

/** Runs `body` in a fresh scope; its result (one output or several) is kept, everything else freed. */
export function withKernelScope<R extends TensorInfo | TensorInfo[]>(
  backendName: string,
  backend: object,
  body: (s: KernelScope) => R,
): R {
  const scope = new KernelScope(backendName, backend);
  try {
    const out = body(scope);
    for (const t of ([] as TensorInfo[]).concat(out)) scope.keep(t);
    return out;
  } finally {
    scope.dispose();
  }
}

interface EngineState {
  state: { gradientDepth: number };
}

/**
 * Whether a second tape records the backward pass (higher-order gradients): then composite kernels,
 * whose gradient kernels have no gradients of their own, must not run.
 */
export function higherOrderTape(): boolean {
  return (tf.engine() as unknown as EngineState).state.gradientDepth > 1;
}
