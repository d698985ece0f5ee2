import {
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { saveCheckpoint } from '../src/node/checkpoint-store.js';
import type { SceneRunConfig } from '../src/scenes/config.js';
import type { TrainingCheckpoint } from '../src/train/options.js';
import { runCli } from './cli.js';

const tiny = ['--height', '32', '--width', '64', '--train-scenes', '16', '--test-scenes', '4'];

describe('tfjs-mtl scenes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tfjs-mtl-scenes-'));
  const model = join(dir, 'model');

  it('trains, evaluates and shows a three-task model', () => {
    const train = runCli(['scenes', 'train', '--steps', '4', '--batch-size', '4', ...tiny, '--out', model]);
    expect(train.stderr).not.toMatch(/error|warn/i);
    expect(train.status).toBe(0);
    expect(train.stdout).toMatch(/semantic {3}mean IoU [\d.]+ %/);
    expect(train.stdout).toMatch(/instance {3}vector error [\d.]+ px/);
    expect(train.stdout).toMatch(/depth {6}inverse-depth error [\d.]+ 1\/m/);
    for (const f of ['model.json', 'weights.bin', 'scene-run.json', 'log.json', 'metrics.json']) {
      expect(existsSync(join(model, f)), f).toBe(true);
    }
    const config = JSON.parse(readFileSync(join(model, 'scene-run.json'), 'utf8')) as Record<string, unknown>;
    expect(config['steps']).toBe(4);
    expect(config['weighting']).toBe('uncertainty');

    const evaluated = runCli(['scenes', 'eval', model, '--json']);
    expect(evaluated.status).toBe(0);
    const metrics = JSON.parse(evaluated.stdout) as Record<string, Record<string, number>>;
    // the same test scenes as training's own evaluation
    expect(metrics).toEqual(JSON.parse(readFileSync(join(model, 'metrics.json'), 'utf8')));

    const png = join(dir, 'show.png');
    const show = runCli(['scenes', 'show', model, '--scenes', '3', '--out', png]);
    expect(show.status).toBe(0);
    const image = decode(readFileSync(png));
    // input + (truth, prediction) × 3 tasks + the semantic entropy, 3 scenes, 2 px gaps, all ×2, under a
    // 28 px header and above the 30 px caption of the uncertainty maps
    expect(image.width).toBe(2 * (8 * 64 + 7 * 2));
    expect(image.height).toBe(28 + 2 * (3 * 32 + 2 * 2) + 30);
  }, 120_000);

  it('trains heteroscedastic heads and shows their σ maps beside the predictions', () => {
    const out = join(dir, 'hetero');
    const train = runCli([
      'scenes',
      'train',
      '--uncertainty',
      'heteroscedastic',
      ...tiny,
      '--steps',
      '25',
      '--batch-size',
      '4',
      '--out',
      out,
    ]);
    expect(train.status, train.stderr).toBe(0);
    expect(train.stdout).toMatch(/depth {6}inverse-depth error [\d.]+ 1\/m/);
    const config = JSON.parse(readFileSync(join(out, 'scene-run.json'), 'utf8')) as SceneRunConfig;
    expect(config.uncertainty).toBe('heteroscedastic');
    const model = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8')) as unknown;
    expect(JSON.stringify(model)).toMatch(/"name":"depth_out".*?"filters":2/);
    // learned weighting learns the semantic σ only; the per-pixel NLL tasks keep weight 1
    const log = JSON.parse(readFileSync(join(out, 'log.json'), 'utf8')) as {
      log: { weights: number[]; logVariances: number[] }[];
    };
    expect(log.log.at(-1)!.weights.slice(1)).toEqual([1, 1]);
    expect(log.log.at(-1)!.logVariances[0]).not.toBe(0);

    const png = join(dir, 'hetero.png');
    const show = runCli(['scenes', 'show', out, '--scenes', '2', '--out', png]);
    expect(show.status, show.stderr).toBe(0);
    const image = decode(readFileSync(png));
    // input + (truth, prediction, uncertainty map) × 3 tasks
    const cols = 10;
    expect(image.width).toBe(2 * (cols * 64 + (cols - 1) * 2));
    expect(image.height).toBe(28 + 2 * (2 * 32 + 2) + 30);
    // the σ columns (6: instance σ, 9: depth σ) are colour maps, not blank: many distinct colours
    const channels = image.data.length / (image.width * image.height);
    for (const c of [3, 6, 9]) {
      const colours = new Set<string>();
      for (let y = 28; y < 28 + 64; y++)
        for (let x = 2 * c * 66; x < 2 * c * 66 + 128; x++) {
          const k = (y * image.width + x) * channels;
          colours.add(`${image.data[k]},${image.data[k + 1]},${image.data[k + 2]}`);
        }
      expect(colours.size, `column ${c}`).toBeGreaterThan(c === 6 ? 3 : 20);
    }
  }, 120_000);

  it('trains a fixed-weight subset of the tasks', () => {
    const out = join(dir, 'fixed');
    const r = runCli([
      'scenes',
      'train',
      '--tasks',
      'semantic,depth',
      '--weights',
      '0.3,0.7',
      '--steps',
      '2',
      ...tiny,
      '--batch-size',
      '4',
      '--out',
      out,
    ]);
    expect(r.status).toBe(0);
    expect(r.stdout).not.toMatch(/instance/);
    const log = JSON.parse(readFileSync(join(out, 'log.json'), 'utf8')) as { log: { weights: number[] }[] };
    expect(log.log.at(-1)!.weights).toEqual([0.3, 0.7]);
  }, 60_000);

  it('names the flag or config path of bad input, without a stack trace', () => {
    const cases: [string[], RegExp][] = [
      [
        ['scenes', 'train', '--tasks', 'semantic,colour'],
        /command line: tasks\[1\]: Invalid option: expected one of "semantic"\|"instance"\|"depth"/,
      ],
      [['scenes', 'train', '--weights', '1,2'], /command line: weights: 2 weights for 3 tasks/],
      [['scenes', 'train', '--height', '30'], /command line: height: must be a multiple of 4/],
      [['scenes', 'train', '--steps', '0'], /--steps/],
      [
        ['scenes', 'train', '--weighting', 'uncertainty', '--weights', '1,1,1'],
        /weights are only used with weighting 'fixed'/,
      ],
      [['scenes', 'train', '--config', join(dir, 'missing.json')], /--config: cannot read/],
      [
        ['scenes', 'train', '--tasks', 'semantic', '--uncertainty', 'heteroscedastic'],
        /command line: uncertainty: 'heteroscedastic' predicts a per-pixel scale for the instance and depth tasks/,
      ],
      [['scenes', 'eval', join(dir, 'nothing-here')], /nothing-here/],
    ];
    for (const [args, message] of cases) {
      const r = runCli(args);
      expect(r.status, args.join(' ')).not.toBe(0);
      expect(r.stderr, args.join(' ')).toMatch(message);
      expect(r.stderr, args.join(' ')).not.toMatch(/\n\s+at /);
    }
  }, 60_000);

  it('runs the experiment in two shards, tabulates without a shard, and retrains runs whose settings differ', async () => {
    const out = join(dir, 'experiment');
    const args = [
      'scenes',
      'experiment',
      '--out',
      out,
      '--steps',
      '2',
      '--seeds',
      '1',
      '--train-scenes',
      '8',
      '--test-scenes',
      '2',
      '--height',
      '32',
      '--width',
      '64',
    ];
    // the sweep's fixed order: run k belongs to shard k mod 2 + 1
    const order = [
      'learned-all',
      'unweighted',
      'fixed-0.89-0.01-0.1',
      'fixed-0.5-0.01-0.49',
      'fixed-0.1-0.01-0.89',
      'single-semantic',
      'single-instance',
      'single-depth',
      'learned-semantic-instance',
      'learned-semantic-depth',
      'learned-instance-depth',
      'sweep-depth-0.05',
      'sweep-depth-0.25',
      'sweep-depth-0.5',
      'sweep-depth-0.75',
      'sweep-depth-0.95',
    ].map((id) => `${id}-seed0`);
    const doneRuns = (stderr: string) => [...stderr.matchAll(/\] done (\S+)/g)].map((m) => m[1]).sort();
    for (const i of [1, 2]) {
      const r = runCli([...args, '--shard', `${i}/2`]);
      expect(r.status, r.stderr).toBe(0);
      expect(doneRuns(r.stderr)).toEqual(order.filter((_, k) => k % 2 === i - 1).sort());
      expect(r.stdout).toMatch(new RegExp(`shard ${i}/2: trained 8, reused 0 .*without --shard`));
      expect(existsSync(join(out, 'results.md'))).toBe(false);
    }

    const first = runCli(args);
    expect(first.status, first.stderr).toBe(0);
    expect(first.stderr.match(/\] cached /g)).toHaveLength(16);
    expect(first.stderr).not.toMatch(/started|resumed/);
    const md = readFileSync(join(out, 'results.md'), 'utf8');
    for (const row of [
      'semantic only',
      'instance only',
      'depth only',
      'unweighted sum',
      'fixed 0.89/0.01/0.1',
      'learned, all three',
      'learned, semantic + depth',
    ]) {
      expect(md, row).toContain(`| ${row} |`);
    }
    expect(md).toContain('## Verdict');
    for (const f of ['results.json', 'sweep.png', 'sigma.png', 'qualitative.png'])
      expect(existsSync(join(out, f)), f).toBe(true);
    expect(readdirSync(join(out, 'runs')).sort()).toEqual([...order].sort());

    // configs and run records hold paths relative to the experiment folder, which can therefore move
    for (const name of order) {
      const config = JSON.parse(readFileSync(join(out, 'configs', `${name}.json`), 'utf8')) as SceneRunConfig;
      expect(config.out, name).toBe(`runs/${name}`);
      const recorded = JSON.parse(
        readFileSync(join(out, 'runs', name, 'scene-run.json'), 'utf8'),
      ) as SceneRunConfig;
      expect(recorded.out, name).toBe(`runs/${name}`);
    }
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as {
      runs: { dir: string }[];
    };
    expect(results.runs.map((r) => r.dir).sort()).toEqual(order.map((name) => `runs/${name}`).sort());
    // a run recorded before `uncertainty` existed counts as homoscedastic, the default: still cached
    const oldRecord = join(out, 'runs', 'learned-all-seed0', 'scene-run.json');
    const { uncertainty, ...withoutUncertainty } = JSON.parse(
      readFileSync(oldRecord, 'utf8'),
    ) as SceneRunConfig;
    expect(uncertainty).toBe('homoscedastic');
    writeFileSync(oldRecord, JSON.stringify(withoutUncertainty));
    const moved = join(dir, 'experiment-moved');
    renameSync(out, moved);
    const again = runCli([...args.slice(0, 3), moved, ...args.slice(4)]);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr.match(/\] cached /g)).toHaveLength(16);
    // the same tables, but for the folder named in the command line
    expect(readFileSync(join(moved, 'results.md'), 'utf8')).toBe(
      md.replaceAll('/experiment ', '/experiment-moved '),
    );

    // a finished run recorded with another setting is trained again; so is one whose checkpoint has other settings
    const recordedFile = join(moved, 'runs', 'single-depth-seed0', 'scene-run.json');
    const recorded = JSON.parse(readFileSync(recordedFile, 'utf8')) as SceneRunConfig;
    writeFileSync(recordedFile, JSON.stringify({ ...recorded, lr: 0.003 }));
    const stale = join(moved, 'runs', 'unweighted-seed0');
    const staleConfig = JSON.parse(readFileSync(join(stale, 'scene-run.json'), 'utf8')) as SceneRunConfig;
    rmSync(stale, { recursive: true });
    await saveCheckpoint(`${stale}.checkpoint`, { version: 1 } as TrainingCheckpoint, {
      ...staleConfig,
      out: stale,
      steps: 999,
    });
    const changed = runCli([...args.slice(0, 3), moved, ...args.slice(4)]);
    expect(changed.status, changed.stderr).toBe(0);
    expect(changed.stderr.match(/\] cached /g)).toHaveLength(14);
    expect(changed.stderr).toMatch(
      /started single-depth-seed0 \(retraining: it was trained with lr 0\.003, this command has 0\.002\)\n/,
    );
    expect(changed.stderr).toMatch(
      /started unweighted-seed0 \(starting afresh: its checkpoint was made with steps 999, this command has 2\)\n/,
    );
    expect(doneRuns(changed.stderr)).toEqual(['single-depth-seed0', 'unweighted-seed0']);
    expect((JSON.parse(readFileSync(recordedFile, 'utf8')) as SceneRunConfig).lr).toBe(0.002);
    expect(existsSync(`${stale}.checkpoint`)).toBe(false);
  }, 180_000);
});
