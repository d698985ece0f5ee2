/**
 * The threaded-SIMD build of tfjs-backend-wasm under Node. Upstream turns it off in Node
 * (WASM_HAS_MULTITHREAD_SUPPORT is false there, tensorflow/tfjs#3830); four things stand in the way, each
 * got round here: the pthread worker is made from a `blob:` URL, which worker_threads rejects (it is
 * built from the worker's source instead, `eval: true`); the worker is sent the main script as a Blob
 * (it gets the glue file's path); backend.cc caps threads at ⌊logical cores / 2⌋ (the core count is
 * raised while the backend starts); and pthread workers keep the process alive (they are unref'd once
 * started). Node-only. Written against @tensorflow/tfjs-backend-wasm 4.22.0 (pinned exactly).
 */
import { createRequire } from 'node:module';
import os from 'node:os';
import { Worker as NodeWorker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';

const require = createRequire(import.meta.url);
const PKG = '@tensorflow/tfjs-backend-wasm';

let installed = false;
let started = false;
const workers = new Set<NodeWorker>();

/** Makes the Emscripten glue's `new Worker(blobUrl)` start a worker_threads worker from the pthread source. */
function installWorkerShim(): void {
  if (installed) return;
  const mod = require(`${PKG}/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js`) as {
    wasmWorkerContents: string;
  };
  // the source is a template literal whose '\n' escapes became newlines: put them back (as tfjs does)
  const source = mod.wasmWorkerContents.replace(/\n/g, '\\n');
  const glue = require.resolve(`${PKG}/wasm-out/tfjs-backend-wasm-threaded-simd.js`);
  class PthreadWorker extends NodeWorker {
    constructor() {
      super(source, { eval: true });
      workers.add(this);
      if (started) this.unref();
    }
    // XNNPACK's pool threads never end: once the backend is up, nothing a worker does keeps Node alive
    override ref(): void {
      if (!started) super.ref();
    }
    override postMessage(...args: Parameters<NodeWorker['postMessage']>): void {
      const message: unknown = args[0];
      const transfer = args[1];
      const m = message as { cmd?: string; urlOrBlob?: unknown } | null;
      super.postMessage(
        m?.cmd === 'load' && typeof m.urlOrBlob !== 'string' ? { ...m, urlOrBlob: glue } : message,
        transfer,
      );
    }
  }
  // the glue assigns worker_threads' Worker to the global when it starts: keep ours
  Object.defineProperty(globalThis, 'Worker', {
    get: () => PthreadWorker,
    set: () => {},
    configurable: true,
  });
  installed = true;
}

/** Why the threaded build cannot start in this process, or undefined when it can. */
export function threadsUnavailable(): string | undefined {
  if (typeof SharedArrayBuffer === 'undefined') return 'SharedArrayBuffer is not available';
  try {
    require.resolve(`${PKG}/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js`);
    require.resolve(`${PKG}/wasm-out/tfjs-backend-wasm-threaded-simd.wasm`);
  } catch {
    return `${PKG} lacks its threaded-SIMD build`;
  }
  return undefined;
}

/**
 * Starts the wasm backend with `threads` threads (> 1: the threaded-SIMD build); returns the count the
 * backend reports. The backend module must be imported already.
 */
export async function startWasm(threads: number): Promise<number> {
  const wasm = (await import(PKG)) as { setThreadsCount(n: number): void; getThreadsCount(): number };
  if (threads > 1) {
    installWorkerShim();
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
    wasm.setThreadsCount(threads);
  }
  const cpus = os.cpus;
  // backend.cc allows ⌊cores / 2⌋ threads: report enough cores for the count asked for
  if (threads > 1) os.cpus = () => Array.from({ length: 2 * threads }, () => cpus()[0]!);
  try {
    if (!(await tf.setBackend('wasm'))) throw new Error("the TF.js 'wasm' backend failed to initialise");
    await tf.ready();
  } finally {
    os.cpus = cpus;
  }
  started = true;
  for (const w of workers) w.unref();
  return wasm.getThreadsCount();
}
