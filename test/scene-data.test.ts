/**
 * The scene system on dataset folders: training from a folder equals training from memory on the same
 * frames; `scenes train|eval|show --data` end to end on a Cityscapes-layout folder written here; bad
 * data stops the CLI with one line naming the file, or is skipped with --skip-bad.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { decode, encode } from 'fast-png';
import { beforeAll, describe, expect, it } from 'vitest';
import { setupBackend } from '../src/node/backend.js';
import { openSceneData } from '../src/node/scene-data/datasets.js';
import { memorySceneSource } from '../src/scenes/data.js';
import { buildSceneModel } from '../src/scenes/model.js';
import { createSceneWeighting, trainSceneModel } from '../src/scenes/train.js';
import { runCli } from './cli.js';
import { png, writeCityscapesScenes, writeFoldersScenes } from '../src/node/scene-data/export.js';

const H = 32;
const W = 64;
const small = { encoderChannels: [8, 16, 16] as const, asppChannels: 8, decoderChannels: 8 };
const ALL = ['semantic', 'instance', 'depth'] as const;

beforeAll(async () => {
  await setupBackend('wasm');
});

describe('training from a dataset folder', () => {
  it('equals training from memory on the same frames (same losses, same weights)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tfjs-mtl-folders-'));
    try {
      const expected = writeFoldersScenes(root, { train: 12 }, { height: H, width: W });
      const run = async (source: Parameters<typeof trainSceneModel>[2]) => {
        const model = buildSceneModel({
          height: H,
          width: W,
          numClasses: 7,
          tasks: [...ALL],
          seed: 2,
          ...small,
        });
        const w = createSceneWeighting([...ALL], { kind: 'uncertainty' }, 0.02);
        const log = await trainSceneModel(model, [...ALL], source, w, {
          steps: 6,
          batchSize: 4,
          logEvery: 2,
          seed: 1,
        });
        const weights = model.getWeights().map((t) => Array.from(t.dataSync()));
        w.dispose();
        model.dispose();
        return { log, weights };
      };
      const before = tf.memory().numTensors;
      const fromFolder = await run(await openSceneData(root, { split: 'train', height: H, width: W }));
      const fromMemory = await run(memorySceneSource(expected['train']!));
      expect(tf.memory().numTensors).toBe(before);
      expect(fromFolder.log).toEqual(fromMemory.log);
      expect(fromFolder.weights).toEqual(fromMemory.weights);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('folders labels', () => {
  it('reads palette (VOC-style) semantic PNGs as their indices, and 16-bit images', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tfjs-mtl-palette-'));
    try {
      writeFoldersScenes(root, { train: 2 }, { height: 16, width: 32 });
      const labels = Uint8Array.from({ length: 16 * 32 }, (_, p) => (p % 9 === 0 ? 255 : p % 7));
      const palette = Array.from(
        { length: 256 },
        (_, i) => [i, (i * 7) % 256, (i * 13) % 256] as [number, number, number],
      );
      writeFileSync(
        join(root, 'train', 'semantic', 'frame000.png'),
        encode({ width: 32, height: 16, data: labels, channels: 1, depth: 8, palette }),
      );
      const rgb16 = Uint16Array.from({ length: 16 * 32 * 3 }, (_, i) => (i * 257) % 65536);
      writeFileSync(join(root, 'train', 'images', 'frame001.png'), png(rgb16, 32, 16, 3, 16));
      const source = await openSceneData(root, { split: 'train', height: 16, width: 32 });
      const f0 = await source.frame(0);
      expect(Array.from(f0.semantic!)).toEqual(Array.from(labels, (v) => (v === 255 ? -1 : v)));
      const f1 = await source.frame(1);
      f1.image.forEach((v, i) => expect(v).toBeCloseTo(rgb16[i]! / 65535, 6));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('tfjs-mtl scenes … --data (Cityscapes layout)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tfjs-mtl-cityscapes-'));
  const root = join(dir, 'cityscapes');
  const model = join(dir, 'model');
  writeCityscapesScenes(root, { train: 10, val: 4 }, { height: 64, width: 128 });
  const size = ['--height', '32', '--width', '64'];

  it('trains on the train split, evaluates on val as JSON, and draws real frames', () => {
    const train = runCli([
      'scenes',
      'train',
      '--data',
      root,
      ...size,
      '--steps',
      '4',
      '--batch-size',
      '4',
      '--out',
      model,
    ]);
    expect(train.stderr).not.toMatch(/error|warn/i);
    expect(train.status).toBe(0);
    expect(train.stdout).toMatch(/4 steps on 10 frames/);
    expect(train.stdout).toMatch(/semantic {3}mean IoU [\d.]+ %/);
    const run = JSON.parse(readFileSync(join(model, 'scene-run.json'), 'utf8')) as {
      data: string;
      dataset: { format: string; classes: string[]; frames: number };
    };
    expect(run.dataset.format).toBe('cityscapes');
    expect(run.dataset.classes).toHaveLength(19);
    const modelJson = readFileSync(join(model, 'model.json'), 'utf8');
    expect(modelJson).toMatch(/"filters":\s*19/); // the semantic head has the 19 training classes

    const evaluated = runCli(['scenes', 'eval', model, '--data', root, '--split', 'val', '--json']);
    expect(evaluated.stderr).toBe('');
    expect(evaluated.status).toBe(0);
    const m = JSON.parse(evaluated.stdout) as {
      semantic: { meanIoU: number; pixelAccuracy: number; classIoU: number[] };
      instance: { vectorError: number; ap50: number };
      depth: { meanAbsError: number };
    };
    for (const v of [m.semantic.meanIoU, m.semantic.pixelAccuracy, m.instance.ap50])
      expect(v >= 0 && v <= 1, String(v)).toBe(true);
    expect(m.semantic.classIoU).toHaveLength(19);
    expect(m.instance.vectorError).toBeGreaterThan(0);
    // inverse depth in 1/m: the scenes' objects stand 4–40 m away
    expect(m.depth.meanAbsError).toBeGreaterThan(0);
    expect(m.depth.meanAbsError).toBeLessThan(1);
    // training's own evaluation was on the same val split
    expect(m).toEqual(JSON.parse(readFileSync(join(model, 'metrics.json'), 'utf8')));

    const pngPath = join(dir, 'show.png');
    const show = runCli(['scenes', 'show', model, '--data', root, '--split', 'val', '--out', pngPath]);
    expect(show.status).toBe(0);
    const image = decode(readFileSync(pngPath));
    // 4 frames at the model's 32×64, and the 30 px caption of the entropy maps
    expect(image.height).toBe(28 + 2 * (4 * 32 + 3 * 2) + 30);
  }, 180_000);

  it('stops on bad data with one line naming the file and writes nothing; --skip-bad skips and counts', () => {
    const bad = join(dir, 'bad');
    writeCityscapesScenes(bad, { train: 6 }, { height: 32, width: 64, seed: 7 });
    const labelDir = join(bad, 'gtFine', 'train', 'testville');
    const victim = readdirSync(labelDir).find((f) => f.endsWith('000002_gtFine_labelIds.png'))!;
    writeFileSync(join(labelDir, victim), png(new Uint8Array(16 * 32), 32, 16, 1, 8));
    const out = join(dir, 'bad-model');
    const args = [
      'scenes',
      'train',
      '--data',
      bad,
      ...size,
      '--steps',
      '2',
      '--batch-size',
      '2',
      '--out',
      out,
    ];
    const r = runCli(args);
    expect(r.status).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`${join(labelDir, victim)}: 32×16 px, but its image`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(out)).toBe(false);

    const skipped = runCli([...args, '--skip-bad']);
    expect(skipped.status).toBe(0);
    expect(skipped.stderr).toContain(`skipped ${join(labelDir, victim)}`);
    expect(skipped.stdout).toMatch(/1 bad frame\(s\) skipped/);
    expect(skipped.stdout).toMatch(/2 steps on 5 frames/);
    expect(skipped.stdout).toMatch(/no 'val' split to evaluate on/);
    expect(existsSync(join(out, 'weights.bin'))).toBe(true);
  }, 120_000);

  it('refuses a missing folder, an unknown format and a model trained on other classes', () => {
    const none = runCli(['scenes', 'train', '--data', join(dir, 'nope'), '--steps', '1']);
    expect(none.status).not.toBe(0);
    expect(none.stderr).toMatch(/nope: no such folder/);
    const format = runCli(['scenes', 'train', '--data', root, '--format', 'kitti', '--steps', '1']);
    expect(format.status).not.toBe(0);
    expect(format.stderr).toMatch(/--format must be one of cityscapes, folders, got 'kitti'/);
    const generated = join(dir, 'generated');
    const g = runCli([
      'scenes',
      'train',
      ...size,
      '--train-scenes',
      '4',
      '--test-scenes',
      '2',
      '--steps',
      '1',
      '--batch-size',
      '2',
      '--out',
      generated,
      '--quiet',
    ]);
    expect(g.status).toBe(0);
    const mismatch = runCli(['scenes', 'eval', generated, '--data', root, '--split', 'val']);
    expect(mismatch.status).not.toBe(0);
    expect(mismatch.stderr).toMatch(/was trained on the classes sky, road.*; the data have road, sidewalk/);
  }, 120_000);

  it('exports generated scenes as a folders dataset that trains with --data, and refuses a non-empty --out', () => {
    const data = join(dir, 'exported');
    const e = runCli(['scenes', 'export', '--out', data, '--train', '6', '--val', '2', ...size]);
    expect(e.status).toBe(0);
    expect(e.stdout).toMatch(/6 train \+ 2 val frames, folders layout/);
    expect(JSON.parse(readFileSync(join(data, 'dataset.json'), 'utf8'))).toMatchObject({ ignore: 255 });
    const t = runCli([
      'scenes',
      'train',
      '--data',
      data,
      ...size,
      '--steps',
      '2',
      '--batch-size',
      '2',
      '--out',
      join(dir, 'm2'),
    ]);
    expect(t.status).toBe(0);
    expect(t.stdout).toMatch(/2 steps on 6 frames/);
    const again = runCli(['scenes', 'export', '--out', data]);
    expect(again.status).not.toBe(0);
    expect(again.stderr).toMatch(/exists and is not empty/);
  }, 120_000);
});
