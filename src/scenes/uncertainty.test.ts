import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerConvGradient } from '../backend/conv-gradient.js';
import { registerWasmTrainingKernels } from '../backend/wasm-kernels.js';
import { generateScenes, SCENE_CLASSES } from '../data/synthetic/scenes.js';
import { evaluateSceneModel, predictScenes } from './evaluate.js';
import { buildSceneModel, heteroscedasticHeads, type SceneTask } from './model.js';
import { denseHeteroscedasticL1Task, denseL1Task, sceneTasks } from './tasks.js';
import { createSceneWeighting, trainSceneModel } from './train.js';
import { laplaceSigma, softmaxEntropy } from './uncertainty.js';

beforeAll(async () => {
  // the closed forms in float32 on cpu; training below on wasm
  await tf.setBackend('cpu');
});

/** A small deterministic generator of test values. */
function lcg(seed: number): () => number {
  let x = seed;
  return () => ((x = (x * 16807) % 2147483647) / 2147483647) * 2 - 1;
}

const B = 2;
const H = 2;
const W = 3;
const K = 2;
const N = B * H * W;
const rand = lcg(7);
// means, then log-scales; residuals kept away from 0 (the kink of |r|)
const target = Float64Array.from({ length: N * K }, () => rand());
const mean = Float64Array.from(target, (t, i) => t + (i % 2 === 0 ? 1 : -1) * (0.2 + 0.5 * Math.abs(rand())));
const logScale = Float64Array.from({ length: N * K }, () => 0.8 * rand());
const mask = Float64Array.from({ length: N }, (_, p) => (p % 3 === 1 ? 0 : 1));
/** [B, H, W, 2K]: the K means, then the K log-scales, per pixel. */
const packed = (m: ArrayLike<number>, s: ArrayLike<number>) => {
  const out = new Float32Array(N * 2 * K);
  for (let p = 0; p < N; p++)
    for (let c = 0; c < K; c++) {
      out[p * 2 * K + c] = m[p * K + c]!;
      out[p * 2 * K + K + c] = s[p * K + c]!;
    }
  return out;
};
/** The closed form Σ mask·(e^(−s)|y − μ| + s) / (K·Σ mask), in double precision. */
function closedForm(m: ArrayLike<number>, s: ArrayLike<number>, w: ArrayLike<number>): number {
  let sum = 0;
  let count = 0;
  for (let p = 0; p < N; p++) {
    count += w[p]! * K;
    for (let c = 0; c < K; c++) {
      const i = p * K + c;
      sum += w[p]! * (Math.exp(-s[i]!) * Math.abs(target[i]! - m[i]!) + s[i]!);
    }
  }
  return sum / Math.max(count, 1);
}

describe('denseHeteroscedasticL1Task', () => {
  const task = denseHeteroscedasticL1Task({ name: 'depth', channels: K });
  const y = () => tf.tensor4d(Float32Array.from(target), [B, H, W, K]);
  const m = () => tf.tensor4d(Float32Array.from(mask), [B, H, W, 1]);
  const pred = () => tf.tensor4d(packed(mean, logScale), [B, H, W, 2 * K]);

  it('is the masked mean of the per-pixel Laplace NLL, and 0 with nothing labelled', () => {
    const value = tf.tidy(() => task.loss(pred(), y(), m()).dataSync()[0]!);
    expect(value).toBeCloseTo(closedForm(mean, logScale, mask), 5);
    const all = tf.tidy(() => task.loss(pred(), y()).dataSync()[0]!);
    expect(all).toBeCloseTo(closedForm(mean, logScale, new Float64Array(N).fill(1)), 5);
    // without a mask: the mean of the per-pixel loss
    const perPixel = tf.tidy(() => Array.from(task.sampleLoss(pred(), y()).dataSync()));
    expect(perPixel).toHaveLength(N);
    expect(all).toBeCloseTo(perPixel.reduce((a, b) => a + b, 0) / N, 5);
    const none = tf.tidy(() => task.loss(pred(), y(), tf.zeros([B, H, W, 1])).dataSync()[0]!);
    expect(none).toBe(0);
    // the loss can be negative: small scales on small residuals
    const tight = tf.tidy(
      () => task.loss(tf.concat([y(), tf.fill([B, H, W, K], -3)], -1), y(), m()).dataSync()[0]!,
    );
    expect(tight).toBeCloseTo(-3, 5);
  });

  it('masks exactly as denseL1Task does: with s = 0 it is that task’s loss and metrics', () => {
    const l1 = denseL1Task({ name: 'depth', channels: K });
    const zeroS = new Float64Array(N * K);
    const [a, b, sumsA, sumsB] = tf.tidy(() => {
      const p = tf.tensor4d(packed(mean, zeroS), [B, H, W, 2 * K]);
      const means = tf.tensor4d(Float32Array.from(mean), [B, H, W, K]);
      return [
        task.loss(p, y(), m()).dataSync()[0]!,
        l1.loss(means, y(), m()).dataSync()[0]!,
        Array.from(task.metricSums(p, y(), m()).dataSync()),
        Array.from(l1.metricSums(means, y(), m()).dataSync()),
      ];
    }) as unknown as [number, number, number[], number[]];
    expect(a).toBeCloseTo(b, 6);
    const hm = task.metricsFromSums(sumsA);
    const lm = l1.metricsFromSums(sumsB);
    expect(hm['mae']).toBeCloseTo(lm['mae']!, 6);
    expect(hm['rmse']).toBeCloseTo(lm['rmse']!, 6);
    // the NLL metric includes log 2 per component: mean |r| + log 2 at s = 0
    expect(hm['nll']).toBeCloseTo(lm['mae']! + Math.log(2), 5);
    expect(sumsA[0]).toBe(mask.reduce((x, v) => x + v, 0));
  });

  it('has the closed-form gradient, matching finite differences, and none on masked pixels', () => {
    const g = tf.tidy(() => {
      const yy = y();
      const mm = m();
      return Array.from(
        tf
          .grad((p: tf.Tensor) => task.loss(p, yy, mm))(pred())
          .dataSync(),
      );
    });
    const count = K * mask.reduce((x, v) => x + v, 0);
    const h = 1e-4;
    for (let p = 0; p < N; p++) {
      for (let c = 0; c < K; c++) {
        const i = p * K + c;
        const r = target[i]! - mean[i]!;
        const e = Math.exp(-logScale[i]!);
        const dMean = (mask[p]! * -e * Math.sign(r)) / count;
        const dS = (mask[p]! * (1 - e * Math.abs(r))) / count;
        expect(g[p * 2 * K + c]).toBeCloseTo(dMean, 5);
        expect(g[p * 2 * K + K + c]).toBeCloseTo(dS, 5);
        if (mask[p] === 0) {
          expect(Math.abs(g[p * 2 * K + c]!)).toBe(0);
          expect(Math.abs(g[p * 2 * K + K + c]!)).toBe(0);
        }
        // central differences of the closed form
        const bump = (arr: Float64Array, d: number) =>
          Float64Array.from(arr, (v, j) => (j === i ? v + d : v));
        const fdMean =
          (closedForm(bump(mean, h), logScale, mask) - closedForm(bump(mean, -h), logScale, mask)) / (2 * h);
        const fdS =
          (closedForm(mean, bump(logScale, h), mask) - closedForm(mean, bump(logScale, -h), mask)) / (2 * h);
        expect(g[p * 2 * K + c]).toBeCloseTo(fdMean, 5);
        expect(g[p * 2 * K + K + c]).toBeCloseTo(fdS, 5);
      }
    }
  });

  it('refuses a prediction without its log-scale channels', () => {
    expect(() => tf.tidy(() => task.loss(tf.zeros([B, H, W, K]), y()))).toThrow(/\[B, H, W, 4\]/);
  });
});

describe('uncertainty maps', () => {
  it('softmaxEntropy: known rows', () => {
    const rows = [
      [0, 0, 0, 0], // uniform: log 4
      [Math.log(0.5), Math.log(0.25), Math.log(0.25), -1e9], // 1.5 log 2
      [50, 0, 0, 0], // one-hot: 0
      [3, 3, 1e-9 - 1e9, -1e9], // two equal: log 2
    ];
    const h = tf.tidy(() => Array.from(softmaxEntropy(tf.tensor2d(rows)).dataSync()));
    expect(h[0]).toBeCloseTo(Math.log(4), 6);
    expect(h[1]).toBeCloseTo(1.5 * Math.log(2), 6);
    expect(h[2]).toBeCloseTo(0, 6);
    expect(h[3]).toBeCloseTo(Math.log(2), 6);
  });

  it('laplaceSigma: √2·b, and the root of the summed variances for a vector', () => {
    const s = tf.tidy(() =>
      Array.from(
        laplaceSigma(
          tf.tensor2d([
            [Math.log(3), Math.log(4)],
            [0, -1e6],
          ]),
        ).dataSync(),
      ),
    );
    expect(s[0]).toBeCloseTo(Math.SQRT2 * 5, 5);
    expect(s[1]).toBeCloseTo(Math.SQRT2 * Math.hypot(1, Math.exp(-15)), 5);
    const one = tf.tidy(() => laplaceSigma(tf.tensor2d([[Math.log(0.01)]])).dataSync()[0]!);
    expect(one).toBeCloseTo(Math.SQRT2 * 0.01, 7);
  });
});

describe('heteroscedastic scene training', () => {
  const ALL: SceneTask[] = ['semantic', 'instance', 'depth'];
  const C = SCENE_CLASSES.length;
  beforeAll(async () => {
    registerWasmTrainingKernels();
    registerConvGradient();
    await tf.setBackend('wasm');
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('learns the semantic s only, holding the heteroscedastic tasks at weight 1 (negative losses included)', () => {
    const w = createSceneWeighting(ALL, { kind: 'uncertainty' }, 0.02, true);
    expect(w.variables).toHaveLength(1);
    const before = tf.memory().numTensors;
    tf.tidy(() => w.variables[0]!.assign(tf.scalar(0.7)));
    const losses = [1.3, -0.4, -2.1];
    const { value, grads } = tf.tidy(() => {
      const ls = losses.map((l) => tf.scalar(l));
      const r = tf.variableGrads(() => w.combine(ls), [...w.variables]);
      return { value: r.value.dataSync()[0]!, grads: r.grads[w.variables[0]!.name]!.dataSync()[0]! };
    });
    // e^(−s)·L + ½s for the softmax task, + the two NLLs as they are
    expect(value).toBeCloseTo(Math.exp(-0.7) * 1.3 + 0.35 - 0.4 - 2.1, 5);
    expect(grads).toBeCloseTo(0.5 - Math.exp(-0.7) * 1.3, 5);
    expect(w.weights()[0]).toBeCloseTo(Math.exp(-0.7), 6);
    expect(w.weights().slice(1)).toEqual([1, 1]);
    const state = w.getState();
    expect((state['logVariance'] as number[]).map((v) => +v.toFixed(5))).toEqual([0.7, 0, 0]);
    w.setState({ ...state, logVariance: [-0.2, 0, 0] });
    expect(w.getState()['logVariance']).toEqual([expect.closeTo(-0.2, 6), 0, 0]);
    expect(tf.memory().numTensors).toBe(before);
    w.dispose();
    // no learned task left: the plain sum
    const plain = createSceneWeighting(['depth'], { kind: 'uncertainty' }, 0.02, true);
    expect(plain.variables).toHaveLength(0);
    expect(tf.tidy(() => plain.combine([tf.scalar(-1.5)]).dataSync()[0]!)).toBe(-1.5);
    plain.dispose();
  });

  it('trains heteroscedastic heads, predicts means and σ maps, and leaks nothing', async () => {
    const data = generateScenes(8, 3, { height: 32, width: 64 });
    const m = buildSceneModel({
      height: 32,
      width: 64,
      numClasses: C,
      tasks: ALL,
      seed: 1,
      encoderChannels: [8, 8, 8],
      asppChannels: 8,
      decoderChannels: 8,
      heteroscedastic: true,
    });
    expect(heteroscedasticHeads(m, ALL)).toEqual([false, true, true]);
    expect(m.outputs.map((o) => o.shape.at(-1))).toEqual([C, 4, 2]);
    const w = createSceneWeighting(ALL, { kind: 'uncertainty' }, 0.02, true);
    await expect(trainSceneModel(m, ALL, data, w, { steps: 1, batchSize: 4 })).rejects.toThrow(
      /instance head is heteroscedastic/,
    );
    const before = tf.memory().numTensors;
    const log = await trainSceneModel(m, ALL, data, w, {
      steps: 6,
      batchSize: 4,
      logEvery: 3,
      heteroscedastic: true,
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(log.at(-1)!.weights.slice(1)).toEqual([1, 1]);
    expect(log.at(-1)!.logVariances!.slice(1)).toEqual([0, 0]);
    log.forEach((e) => e.losses.forEach((l) => expect(Number.isFinite(l)).toBe(true)));

    const p = predictScenes(m, ALL, data, [0, 1], { uncertainty: true });
    expect(tf.memory().numTensors).toBe(before);
    const P = 32 * 64;
    for (const q of p) {
      expect(q.instance).toHaveLength(2 * P);
      expect(q.depth).toHaveLength(P);
      expect(q.semanticEntropy).toHaveLength(P);
      for (const v of q.semanticEntropy!) expect(v >= -1e-6 && v <= Math.log(C) + 1e-5).toBe(true);
      for (const key of ['instanceSigma', 'depthSigma'] as const) {
        expect(q[key]).toHaveLength(P);
        for (const v of q[key]!) expect(v > 0 && Number.isFinite(v)).toBe(true);
      }
    }
    // the means are the first channels of the raw outputs
    const depthRaw = tf.tidy(() => {
      const x = (m.predict(tf.zeros([1, 32, 64, 3])) as tf.Tensor[])[2]!;
      return Array.from(x.dataSync());
    });
    const zeros = { ...data, count: 1, images: new Float32Array(P * 3) };
    const mean0 = predictScenes(m, ALL, zeros, [0], { uncertainty: true })[0]!;
    expect(mean0.depth![5]).toBeCloseTo(depthRaw[10]!, 5);
    expect(mean0.depthSigma![5]).toBeCloseTo(Math.SQRT2 * Math.exp(depthRaw[11]!), 5);
    // without the option: no maps
    expect(predictScenes(m, ALL, data, [0])[0]!.depthSigma).toBeUndefined();
    const metrics = await evaluateSceneModel(m, ALL, data, { instanceMasks: false });
    expect(Number.isFinite(metrics.depth!.meanAbsError)).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
    w.dispose();
    m.dispose();
    // the tasks a heteroscedastic run trains
    expect(sceneTasks(ALL, C, true).map((t) => [t.likelihood, t.heteroscedastic ?? false])).toEqual([
      ['softmax', false],
      ['laplace', true],
      ['laplace', true],
    ]);
  }, 60_000);
});
