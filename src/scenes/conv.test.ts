import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerConvGradient } from '../backend/conv-gradient.js';
import { registerWasmTrainingKernels } from '../backend/wasm-kernels.js';
import { FastBatchNorm } from './batch-norm.js';
import { SceneBranchProjection, SceneConv2D, SceneSharedConv2D } from './conv.js';
import { savedArtifacts } from '../../test/model-artifacts.js';

const randn = (shape: number[], seed: number): tf.Tensor => tf.randomNormal(shape, 0, 1, 'float32', seed);

/** max|got−want| ≤ tol·max(1, max|want|). */
function expectClose(label: string, got: ArrayLike<number>, want: ArrayLike<number>, tol: number): void {
  expect(got.length, `${label} size`).toBe(want.length);
  let maxAbs = 0;
  let maxDiff = 0;
  for (let i = 0; i < want.length; i++) {
    maxAbs = Math.max(maxAbs, Math.abs(want[i]!));
    const d = Math.abs(want[i]! - got[i]!);
    maxDiff = Number.isNaN(d) ? Infinity : Math.max(maxDiff, d);
  }
  expect(maxDiff, label).toBeLessThanOrEqual(tol * Math.max(1, maxAbs));
}

function disposeLayer(layer: tf.layers.Layer): void {
  for (const w of layer.weights) w.dispose();
}

beforeAll(async () => {
  registerConvGradient();
  registerWasmTrainingKernels();
  await tf.setBackend('cpu');
});

describe('SceneConv2D forward', () => {
  const cases: { b: number; h: number; w: number; c: number; filters: number; k: number; s: number }[] = [
    { b: 2, h: 7, w: 9, c: 3, filters: 4, k: 3, s: 1 },
    { b: 1, h: 7, w: 9, c: 3, filters: 4, k: 3, s: 2 },
    { b: 3, h: 5, w: 6, c: 2, filters: 5, k: 1, s: 2 },
    { b: 2, h: 8, w: 5, c: 4, filters: 3, k: 5, s: 2 },
    { b: 1, h: 6, w: 6, c: 1, filters: 2, k: 2, s: 1 },
    { b: 2, h: 9, w: 11, c: 3, filters: 2, k: 3, s: 3 },
  ];
  for (const c of cases) {
    it(`x[${c.b},${c.h},${c.w},${c.c}] k${c.k} stride ${c.s} equals tf.layers.conv2d`, async () => {
      const inShape = [c.b, c.h, c.w, c.c];
      const scene = new SceneConv2D({ filters: c.filters, kernelSize: c.k, strides: c.s, useBias: true });
      const ref = tf.layers.conv2d({
        filters: c.filters,
        kernelSize: c.k,
        strides: c.s,
        padding: 'same',
        useBias: true,
      });
      const x = randn(inShape, 1);
      tf.dispose(scene.apply(x) as tf.Tensor);
      tf.dispose(ref.apply(x) as tf.Tensor);
      const kernel = randn([c.k, c.k, c.c, c.filters], 2);
      const bias = randn([c.filters], 3);
      scene.setWeights([kernel, bias]);
      ref.setWeights([kernel, bias]);
      const y = scene.apply(x) as tf.Tensor;
      const yRef = ref.apply(x) as tf.Tensor;
      const expected = scene.computeOutputShape(inShape);
      expect(y.shape).toEqual(expected);
      expect(yRef.shape).toEqual(expected);
      expect(ref.computeOutputShape(inShape)).toEqual(expected);
      expect(expected).toEqual([c.b, Math.ceil(c.h / c.s), Math.ceil(c.w / c.s), c.filters]);
      expectClose('forward', await y.data(), await yRef.data(), 1e-5);
      tf.dispose([x, kernel, bias, y, yRef]);
      disposeLayer(scene);
      disposeLayer(ref);
    });
  }

  for (const d of [2, 3]) {
    it(`dilation ${d} equals the dilated conv op and tf.layers.conv2d({ dilationRate: ${d} })`, async () => {
      const inShape = [2, 9, 8, 3];
      const scene = new SceneConv2D({ filters: 4, kernelSize: 3, dilationRate: d, useBias: true });
      const ref = tf.layers.conv2d({ filters: 4, kernelSize: 3, dilationRate: d, padding: 'same' });
      const x = randn(inShape, 4);
      tf.dispose([scene.apply(x) as tf.Tensor, ref.apply(x) as tf.Tensor]);
      const kernel = randn([3, 3, 3, 4], 5) as tf.Tensor4D;
      const bias = randn([4], 6);
      scene.setWeights([kernel, bias]);
      ref.setWeights([kernel, bias]);
      const y = scene.apply(x) as tf.Tensor;
      const op = tf.add(tf.conv2d(x as tf.Tensor4D, kernel, 1, 'same', 'NHWC', d), bias);
      const layer = ref.apply(x) as tf.Tensor;
      expect(y.shape).toEqual(scene.computeOutputShape(inShape));
      expect(y.shape).toEqual([2, 9, 8, 4]);
      expectClose('vs conv op', await y.data(), await op.data(), 1e-6);
      expectClose('vs tf.layers.conv2d', await y.data(), await layer.data(), 1e-5);
      tf.dispose([x, kernel, bias, y, op, layer]);
      disposeLayer(scene);
      disposeLayer(ref);
    });
  }

  it('has no bias by default, and computeOutputShape keeps unknown dims', () => {
    const scene = new SceneConv2D({ filters: 3, kernelSize: 3, strides: 2 });
    expect(scene.computeOutputShape([null, 7, null, 5])).toEqual([null, 4, null, 3]);
    const x = tf.zeros([1, 5, 5, 2]);
    const y = scene.apply(x) as tf.Tensor;
    expect(scene.weights.map((w) => w.shape)).toEqual([[3, 3, 2, 3]]);
    expect(y.shape).toEqual([1, 3, 3, 3]);
    tf.dispose([x, y]);
    disposeLayer(scene);
  });
});

describe('SceneConv2D validation', () => {
  it('rejects strides > 1 with dilationRate > 1', () => {
    expect(() => new SceneConv2D({ filters: 4, kernelSize: 3, strides: 2, dilationRate: 2 })).toThrow(
      /strides > 1 and dilationRate > 1/,
    );
  });

  it('rejects non-integer or non-positive sizes', () => {
    expect(() => new SceneConv2D({ filters: 2.5, kernelSize: 3 })).toThrow(/filters must be an integer ≥ 1/);
    expect(() => new SceneConv2D({ filters: 0, kernelSize: 3 })).toThrow(/filters/);
    expect(() => new SceneConv2D({ filters: 2, kernelSize: 1.5 })).toThrow(/kernelSize/);
    expect(() => new SceneConv2D({ filters: 2, kernelSize: 3, strides: 0 })).toThrow(/strides/);
    expect(() => new SceneConv2D({ filters: 2, kernelSize: 3, dilationRate: NaN })).toThrow(/dilationRate/);
  });

  it('rejects a non-4D input', () => {
    const scene = new SceneConv2D({ filters: 2, kernelSize: 3 });
    expect(() => scene.build([null, 8, 3])).toThrow(/input must be \[B, H, W, C\]/);
  });
});

describe('SceneConv2D 1×1 with bias (a fused matMul)', () => {
  for (const backend of ['cpu', 'wasm'] as const) {
    it(`equals tf.layers.conv2d in value and in every gradient (${backend})`, async () => {
      await tf.setBackend(backend);
      const scene = new SceneConv2D({ filters: 3, kernelSize: 1, useBias: true });
      const ref = tf.layers.conv2d({ filters: 3, kernelSize: 1, padding: 'same', useBias: true });
      const x = randn([2, 5, 7, 6], 41);
      const r = randn([2, 5, 7, 3], 42);
      tf.dispose([scene.apply(x) as tf.Tensor, ref.apply(x) as tf.Tensor]);
      const kernel = randn([1, 1, 6, 3], 43);
      const bias = randn([3], 44);
      scene.setWeights([kernel, bias]);
      ref.setWeights([kernel, bias]);
      const before = tf.memory().numTensors;
      const outs = tf.tidy(() => {
        const grads = (layer: tf.layers.Layer): tf.Tensor[] => {
          const loss = (xx: tf.Tensor): tf.Scalar => tf.sum(tf.mul(layer.apply(xx) as tf.Tensor, r));
          const vars = layer.trainableWeights.map((w) => w.read() as tf.Variable);
          const { value, grads: g } = tf.variableGrads(() => loss(x), vars);
          value.dispose();
          return [tf.grad(loss)(x), ...vars.map((v) => g[v.name]!)];
        };
        return [scene.apply(x) as tf.Tensor, ref.apply(x) as tf.Tensor, ...grads(scene), ...grads(ref)];
      });
      const v = await Promise.all(outs.map((t) => t.data()));
      tf.dispose(outs);
      expect(tf.memory().numTensors).toBe(before);
      expectClose('forward', v[0]!, v[1]!, 1e-5);
      for (let i = 0; i < 3; i++) expectClose(`gradient ${i}`, v[2 + i]!, v[5 + i]!, 1e-4);
      tf.dispose([x, r, kernel, bias]);
      disposeLayer(scene);
      disposeLayer(ref);
      await tf.setBackend('cpu');
    });
  }
});

describe('SceneConv2D training on wasm', () => {
  it('trains a model one step with finite, non-zero gradients for every weight', async () => {
    await tf.setBackend('wasm');
    const layers = [
      new SceneConv2D({ filters: 6, kernelSize: 3, strides: 2, name: 'enc' }),
      new FastBatchNorm({ name: 'enc_bn' }),
      new SceneConv2D({ filters: 6, kernelSize: 3, dilationRate: 2, name: 'atrous' }),
      new SceneConv2D({ filters: 6, kernelSize: 3, dilationRate: 3, useBias: true, name: 'atrous3' }),
      new SceneConv2D({ filters: 2, kernelSize: 1, useBias: true, name: 'head' }),
    ];
    const input = tf.input({ shape: [10, 9, 3] });
    let h: tf.SymbolicTensor = input;
    for (const layer of layers) h = layer.apply(h) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: h });
    expect(model.outputs[0]!.shape).toEqual([null, 5, 5, 2]);

    const x = randn([2, 10, 9, 3], 11);
    const target = randn([2, 5, 5, 2], 12);
    // Training-mode forward through the same layers (batch statistics in the batch norm).
    const forward = (): tf.Scalar => {
      let t: tf.Tensor = x;
      for (const layer of layers) t = layer.apply(t, { training: true }) as tf.Tensor;
      return tf.losses.meanSquaredError(target, t);
    };
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    expect(vars).toHaveLength(8); // 4 kernels, 2 biases, γ and β
    const optimizer = tf.train.sgd(0.05);
    const before = tf.memory().numTensors;
    const { value, grads } = tf.variableGrads(forward, vars);
    for (const v of vars) {
      const g = grads[v.name];
      expect(g, v.name).toBeDefined();
      expect(g!.shape, v.name).toEqual(v.shape);
      const data = await g!.data();
      expect(
        data.every((e) => Number.isFinite(e)),
        `${v.name} finite`,
      ).toBe(true);
      expect(
        data.some((e) => e !== 0),
        `${v.name} non-zero`,
      ).toBe(true);
    }
    const lossBefore = (await value.data())[0]!;
    expect(Number.isFinite(lossBefore)).toBe(true);
    optimizer.applyGradients(grads);
    tf.dispose([value, ...Object.values(grads)]);
    expect(tf.memory().numTensors).toBe(before);
    const lossAfter = tf.tidy(forward);
    expect((await lossAfter.data())[0]).toBeLessThan(lossBefore);
    lossAfter.dispose();

    // And through the Keras training loop.
    model.compile({ optimizer: tf.train.sgd(0.05), loss: 'meanSquaredError' });
    const loss = (await model.trainOnBatch(x, target)) as number;
    expect(Number.isFinite(loss)).toBe(true);
    for (const w of model.weights) {
      const data = await w.read().data();
      expect(
        data.every((e) => Number.isFinite(e)),
        w.name,
      ).toBe(true);
    }
    tf.dispose([x, target]);
    optimizer.dispose();
    model.dispose();
  });
});

describe('SceneConv2D serialization', () => {
  it('round-trips getConfig / fromConfig through tf.serialization', () => {
    const scene = new SceneConv2D({
      filters: 5,
      kernelSize: 3,
      dilationRate: 2,
      useBias: true,
      kernelInitializer: tf.initializers.heNormal({ seed: 7 }),
      name: 'scene_cfg',
      trainable: false,
    });
    const config = JSON.parse(JSON.stringify(scene.getConfig())) as tf.serialization.ConfigDict;
    expect(config).toMatchObject({
      filters: 5,
      kernelSize: 3,
      strides: 1,
      dilationRate: 2,
      useBias: true,
      name: 'scene_cfg',
      trainable: false,
      kernelInitializer: { className: 'VarianceScaling' },
    });
    const entry = tf.serialization.SerializationMap.getMap().classNameMap['SceneConv2D'];
    expect(entry).toBeDefined();
    const [cls, fromConfig] = entry!;
    const copy = fromConfig(cls, config) as unknown as SceneConv2D;
    expect(copy).toBeInstanceOf(SceneConv2D);
    expect(copy.getConfig()).toEqual(config);

    // The same seeded initializer gives the same kernel.
    const x = tf.zeros([1, 4, 4, 2]);
    tf.dispose([scene.apply(x) as tf.Tensor, copy.apply(x) as tf.Tensor]);
    expect(copy.getWeights()[0]!.arraySync()).toEqual(scene.getWeights()[0]!.arraySync());
    x.dispose();
    disposeLayer(scene);
    disposeLayer(copy);
  });

  it('resolves a string initializer', () => {
    const scene = new SceneConv2D({ filters: 2, kernelSize: 1, kernelInitializer: 'zeros' });
    expect(scene.getConfig()['kernelInitializer']).toMatchObject({ className: 'Zeros' });
  });

  it('a model containing it saves and loads with identical outputs', async () => {
    await tf.setBackend('cpu');
    const input = tf.input({ shape: [7, 6, 2] });
    const a = new SceneConv2D({ filters: 3, kernelSize: 3, strides: 2, useBias: true, name: 'sc_a' });
    const b = new SceneConv2D({ filters: 2, kernelSize: 3, dilationRate: 2, name: 'sc_b' });
    const model = tf.model({ inputs: input, outputs: b.apply(a.apply(input)) as tf.SymbolicTensor });
    a.setWeights([randn([3, 3, 2, 3], 21), randn([3], 22)]);
    const saved = await savedArtifacts(model);
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(saved));
    const la = loaded.getLayer('sc_a') as SceneConv2D;
    const lb = loaded.getLayer('sc_b') as SceneConv2D;
    expect(la).toBeInstanceOf(SceneConv2D);
    expect([la.strides, la.useBias, lb.dilationRate, lb.useBias]).toEqual([2, true, 2, false]);
    const x = randn([2, 7, 6, 2], 23);
    const y = model.predict(x) as tf.Tensor;
    const yLoaded = loaded.predict(x) as tf.Tensor;
    expect(yLoaded.shape).toEqual([2, 4, 3, 2]);
    expect(Array.from(await yLoaded.data())).toEqual(Array.from(await y.data()));
    tf.dispose([x, y, yLoaded]);
    model.dispose();
    loaded.dispose();
  });
});

describe('SceneBranchProjection', () => {
  for (const backend of ['cpu', 'wasm'])
    it(`equals the sum of per-branch 1×1 convolutions in value and in every gradient (${backend})`, async () => {
      await tf.setBackend(backend);
      const channels = [3, 5, 2];
      const layer = new SceneBranchProjection({
        filters: 4,
        kernelInitializers: channels.map((_, i) => tf.initializers.heNormal({ seed: 30 + i })),
      });
      const xs = channels.map((c, i) => randn([2, 5, 6, c], 40 + i)) as tf.Tensor4D[];
      tf.dispose(layer.apply(xs) as tf.Tensor);
      const kernels = channels.map((c, i) => randn([1, 1, c, 4], 50 + i)) as tf.Tensor4D[];
      layer.setWeights(kernels);
      const r = randn([2, 5, 6, 4], 60);
      const loss = (...args: tf.Tensor[]): tf.Scalar => {
        const n = channels.length;
        const inputs = args.slice(0, n) as tf.Tensor4D[];
        const ks = args.slice(n) as tf.Tensor4D[];
        const y = tf.addN(inputs.map((x, i) => tf.conv2d(x, ks[i]!, 1, 'same')));
        return tf.sum(tf.mul(y, r));
      };
      const before = tf.memory().numTensors;
      const [value, grads] = tf.tidy(() => {
        const f = (...inputs: tf.Tensor[]): tf.Scalar => tf.sum(tf.mul(layer.apply(inputs) as tf.Tensor, r));
        const { value, grads } = tf.variableGrads(
          () => f(...xs),
          layer.trainableWeights.map((w) => w.read() as tf.Variable),
        );
        const dx = tf.grads(f)(xs);
        return [value, [...dx, ...layer.trainableWeights.map((w) => grads[(w.read() as tf.Variable).name]!)]];
      });
      const [refValue, refGrads] = tf.tidy(() => {
        const g = tf.grads(loss)([...xs, ...kernels]);
        return [loss(...xs, ...kernels), g];
      });
      expectClose('value', await value.data(), await refValue.data(), 1e-5);
      for (let i = 0; i < refGrads.length; i++)
        expectClose(`gradient ${i}`, await grads[i]!.data(), await refGrads[i]!.data(), 1e-5);
      tf.dispose([value, refValue, ...grads, ...refGrads]);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([...xs, ...kernels, r]);
      disposeLayer(layer);
      await tf.setBackend('cpu');
    });

  it('draws each branch kernel from its own initializer, as separate 1×1 layers would', () => {
    const layer = new SceneBranchProjection({
      filters: 3,
      kernelInitializers: [tf.initializers.heNormal({ seed: 7 }), tf.initializers.heNormal({ seed: 8 })],
    });
    tf.dispose(layer.apply([tf.zeros([1, 2, 2, 4]), tf.zeros([1, 2, 2, 6])]) as tf.Tensor);
    const separate = [4, 6].map((c, i) => {
      const l = new SceneConv2D({
        filters: 3,
        kernelSize: 1,
        kernelInitializer: tf.initializers.heNormal({ seed: 7 + i }),
      });
      tf.dispose(l.apply(tf.zeros([1, 2, 2, c])) as tf.Tensor);
      const w = Array.from(l.getWeights()[0]!.dataSync());
      disposeLayer(l);
      return w;
    });
    expect(layer.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(separate);
    expect(layer.getWeights().map((w) => w.shape)).toEqual([
      [1, 1, 4, 3],
      [1, 1, 6, 3],
    ]);
    disposeLayer(layer);
  });

  it('rejects a branch count other than its initializers’ and a non-4D branch', () => {
    const layer = new SceneBranchProjection({ filters: 2, kernelInitializers: ['heNormal', 'heNormal'] });
    expect(() => layer.apply([tf.input({ shape: [3, 3, 2] })])).toThrow(
      /1 branches for 2 kernel initializers/,
    );
    expect(() =>
      new SceneBranchProjection({ filters: 2, kernelInitializers: ['heNormal'] }).apply([
        tf.input({ shape: [3, 2] }),
      ]),
    ).toThrow(/branch 0 must be \[B, H, W, C\]/);
    expect(() => new SceneBranchProjection({ filters: 0, kernelInitializers: ['heNormal'] })).toThrow(
      /filters/,
    );
    expect(() => new SceneBranchProjection({ filters: 2, kernelInitializers: [] })).toThrow(/initializer/);
  });

  it('a model containing it saves and loads with identical outputs', async () => {
    await tf.setBackend('cpu');
    const a = tf.input({ shape: [4, 5, 2] });
    const b = tf.input({ shape: [4, 5, 3] });
    const proj = new SceneBranchProjection({
      name: 'proj',
      filters: 3,
      kernelInitializers: [tf.initializers.heNormal({ seed: 1 }), 'glorotUniform'],
    });
    const model = tf.model({ inputs: [a, b], outputs: proj.apply([a, b]) as tf.SymbolicTensor });
    const saved = await savedArtifacts(model);
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(saved));
    expect(loaded.getLayer('proj')).toBeInstanceOf(SceneBranchProjection);
    const xs = [randn([2, 4, 5, 2], 71), randn([2, 4, 5, 3], 72)];
    const y = model.predict(xs) as tf.Tensor;
    const yLoaded = loaded.predict(xs) as tf.Tensor;
    expect(yLoaded.shape).toEqual([2, 4, 5, 3]);
    expect(Array.from(await yLoaded.data())).toEqual(Array.from(await y.data()));
    tf.dispose([...xs, y, yLoaded]);
    model.dispose();
    loaded.dispose();
  });
});

describe('SceneSharedConv2D', () => {
  for (const backend of ['cpu', 'wasm'])
    it(`equals separate 3×3 convolutions in value and in every gradient (${backend})`, async () => {
      await tf.setBackend(backend);
      const layer = new SceneSharedConv2D({
        filters: 3,
        kernelSize: 3,
        kernelInitializers: ['heNormal', 'heNormal', 'heNormal'],
      });
      const x = randn([2, 5, 6, 4], 80) as tf.Tensor4D;
      tf.dispose(layer.apply(x) as tf.Tensor[]);
      const kernels = [0, 1, 2].map((i) => randn([3, 3, 4, 3], 81 + i)) as tf.Tensor4D[];
      layer.setWeights(kernels);
      const rs = [0, 1, 2].map((i) => randn([2, 5, 6, 3], 90 + i));
      const before = tf.memory().numTensors;
      const [values, grads] = tf.tidy(() => {
        const f = (input: tf.Tensor): tf.Scalar =>
          tf.addN((layer.apply(input) as tf.Tensor[]).map((y, i) => tf.sum(tf.mul(y, rs[i]!)))) as tf.Scalar;
        const vars = layer.trainableWeights.map((w) => w.read() as tf.Variable);
        const { value, grads } = tf.variableGrads(() => f(x), vars);
        return [value, [tf.grad(f)(x), ...vars.map((v) => grads[v.name]!)]];
      });
      const [refValue, refGrads] = tf.tidy(() => {
        const loss = (input: tf.Tensor, ...ks: tf.Tensor[]): tf.Scalar =>
          tf.addN(
            ks.map((k, i) =>
              tf.sum(tf.mul(tf.conv2d(input as tf.Tensor4D, k as tf.Tensor4D, 1, 'same'), rs[i]!)),
            ),
          ) as tf.Scalar;
        return [loss(x, ...kernels), tf.grads(loss)([x, ...kernels])];
      });
      expectClose('value', await values.data(), await refValue.data(), 1e-5);
      for (let i = 0; i < refGrads.length; i++)
        expectClose(`gradient ${i}`, await grads[i]!.data(), await refGrads[i]!.data(), 1e-5);
      tf.dispose([values, refValue, ...grads, ...refGrads]);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([x, ...kernels, ...rs]);
      disposeLayer(layer);
      await tf.setBackend('cpu');
    });

  it('in a model, convolves once for all its outputs, and saves and loads with identical outputs', async () => {
    await tf.setBackend('cpu');
    const input = tf.input({ shape: [4, 5, 2] });
    const shared = new SceneSharedConv2D({
      name: 'shared',
      filters: 2,
      kernelSize: 3,
      kernelInitializers: [tf.initializers.heNormal({ seed: 3 }), 'glorotUniform'],
    });
    const [a, b] = shared.apply(input) as tf.SymbolicTensor[];
    const model = tf.model({
      inputs: input,
      outputs: [
        tf.layers.reLU().apply(a!) as tf.SymbolicTensor,
        tf.layers.reLU().apply(b!) as tf.SymbolicTensor,
      ],
    });
    const x = randn([2, 4, 5, 2], 95);
    const profile = await tf.profile(() => tf.dispose(model.predict(x)));
    expect(profile.kernels.filter((k) => k.name === 'Conv2D')).toHaveLength(1);
    const saved = await savedArtifacts(model);
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(saved));
    expect(loaded.getLayer('shared')).toBeInstanceOf(SceneSharedConv2D);
    const ys = model.predict(x) as tf.Tensor[];
    const ysLoaded = loaded.predict(x) as tf.Tensor[];
    expect(ysLoaded.map((y) => y.shape)).toEqual([
      [2, 4, 5, 2],
      [2, 4, 5, 2],
    ]);
    for (let i = 0; i < 2; i++)
      expect(Array.from(await ysLoaded[i]!.data())).toEqual(Array.from(await ys[i]!.data()));
    tf.dispose([x, ...ys, ...ysLoaded]);
    model.dispose();
    loaded.dispose();
  });

  it('draws each kernel from its own initializer and rejects bad sizes and inputs', () => {
    const layer = new SceneSharedConv2D({
      filters: 2,
      kernelSize: 3,
      kernelInitializers: [tf.initializers.heNormal({ seed: 5 }), tf.initializers.heNormal({ seed: 6 })],
    });
    tf.dispose(layer.apply(tf.zeros([1, 3, 3, 4])) as tf.Tensor[]);
    const separate = [5, 6].map((seed) => {
      const l = new SceneConv2D({
        filters: 2,
        kernelSize: 3,
        kernelInitializer: tf.initializers.heNormal({ seed }),
      });
      tf.dispose(l.apply(tf.zeros([1, 3, 3, 4])) as tf.Tensor);
      const w = Array.from(l.getWeights()[0]!.dataSync());
      disposeLayer(l);
      return w;
    });
    expect(layer.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(separate);
    disposeLayer(layer);
    expect(
      () => new SceneSharedConv2D({ filters: 0, kernelSize: 3, kernelInitializers: ['heNormal'] }),
    ).toThrow(/filters/);
    expect(() => new SceneSharedConv2D({ filters: 2, kernelSize: 3, kernelInitializers: [] })).toThrow(
      /initializer/,
    );
    expect(() =>
      new SceneSharedConv2D({ filters: 2, kernelSize: 3, kernelInitializers: ['heNormal'] }).apply(
        tf.input({ shape: [3, 2] }),
      ),
    ).toThrow(/input must be \[B, H, W, C\]/);
  });
});
