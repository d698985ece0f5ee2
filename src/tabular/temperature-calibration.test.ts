/**
 * trainTable fits each classifier's temperature on the validation rows; predict reports probabilities at
 * it, the learned temperature stays the task weight, and the saved model carries both.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createTable, type Cell } from '../data/table.js';
import { loadTrainedTable, saveTrainedTable } from '../node/tabular-io.js';
import { NumpyRandomState } from '../random/numpy-random-state.js';
import { sigmoidPair, softmaxRow, TEMPERATURE_BOUNDS } from './calibration.js';
import { parseTrainConfig } from './config.js';
import { predictTable, tableOutputs, type TabularModel } from './tabular-model.js';
import { trainTable } from './train-table.js';

/** Two features; a 3-class label and a binary label drawn from noisy functions of them, and a number. */
function table() {
  const rs = new NumpyRandomState(4);
  const cols: Record<string, Cell[]> = { a: [], b: [], kind: [], flag: [], size: [] };
  for (let i = 0; i < 300; i++) {
    const [a, b] = [rs.standardNormal(), rs.standardNormal()];
    const p = softmaxRow([2 * a, 2 * b, 0]);
    const u = rs.random();
    cols['a']!.push(a);
    cols['b']!.push(b);
    cols['kind']!.push(u < p[0]! ? 'x' : u < p[0]! + p[1]! ? 'y' : 'z');
    cols['flag']!.push(rs.random() < sigmoidPair(3 * (a - b))[1]! ? 'yes' : 'no');
    cols['size']!.push(a + b + 0.5 * rs.standardNormal());
  }
  return createTable('t.csv', Object.keys(cols), cols);
}

const config = (val: number) =>
  parseTrainConfig(
    {
      targets: [{ name: 'kind' }, { name: 'flag' }, { name: 'size' }],
      epochs: 40,
      patience: 0,
      hidden: [16],
      lr: 0.01,
      val,
      test: 0.2,
      seed: 1,
    },
    'test',
  );

/** Mean NLL of the labelled rows' labels at temperature T, from the logits. */
function nll(tm: TabularModel, data: ReturnType<typeof table>, rows: number[], task: number, T: number) {
  const info = tm.tasks[task]!;
  const logits = tableOutputs(tm, data, rows).outputs[task]!;
  let total = 0;
  let n = 0;
  rows.forEach((row, k) => {
    const label = data.cells[info.name]![row];
    if (label === null || label === undefined) return;
    const p = info.kind === 'binary' ? sigmoidPair(logits[k]![0]!, T) : softmaxRow(logits[k]!, T);
    total -= Math.log(p[info.classes!.indexOf(String(label))]!);
    n++;
  });
  return total / n;
}

const work = mkdtempSync(join(tmpdir(), 'calibration-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('trainTable temperature calibration', () => {
  it('fits T on the validation split, predicts with it, keeps the learned T, saves and loads both', async () => {
    const data = table();
    const r = await trainTable(data, config(0.2));
    const tm = r.tabular;
    const preds = predictTable(tm, data, r.split.test);
    for (const t of [0, 1]) {
      const info = tm.tasks[t]!;
      expect(info.calibrationSource).toBe('validation');
      const T = info.calibrationTemperature!;
      expect(T).toBeGreaterThan(TEMPERATURE_BOUNDS[0]);
      expect(T).toBeLessThan(TEMPERATURE_BOUNDS[1]);
      // the learned temperature (uncertainty weighting) is still there, and not the calibrated one
      expect(info.temperature).toBeGreaterThan(0);
      expect(Math.abs(Math.log(T / info.temperature!))).toBeGreaterThan(0.01);
      // T minimises the validation NLL: better than the learned T, 1 and its neighbours
      const at = (x: number) => nll(tm, data, r.split.validation, t, x);
      for (const other of [info.temperature!, 1, T * 1.02, T / 1.02]) expect(at(T)).toBeLessThan(at(other));
      // predict's probabilities are the logits at the calibrated T; learnedProbabilities at the learned one
      const p = preds.tasks[t]!;
      if (p.kind === 'regression') throw new Error('expected a classifier');
      expect(p.temperature).toBe(T);
      const logits = tableOutputs(tm, data, r.split.test).outputs[t]!;
      const tempered = (x: number) =>
        logits.map((z) => (info.kind === 'binary' ? sigmoidPair(z[0]!, x) : softmaxRow(z, x)));
      const close = (a: number[][], b: number[][]) =>
        a.forEach((row, i) => row.forEach((v, k) => expect(v).toBeCloseTo(b[i]![k]!, 12)));
      close(p.probabilities, tempered(T));
      close(p.learnedProbabilities, tempered(info.temperature!));
      close(p.rawProbabilities, tempered(1));
      const m = r.metrics.test![info.name]!;
      for (const k of ['ece', 'eceLearnedTemperature', 'eceWithoutTemperature'])
        expect(m[k]).toBeTypeOf('number');
      expect(m['ece']).not.toBe(m['eceLearnedTemperature']);
    }
    expect(tm.tasks[2]!.calibrationTemperature).toBeUndefined();

    const dir = join(work, 'model');
    await saveTrainedTable(dir, r, { data: 't.csv', backend: 'cpu', config: {} });
    tm.model.dispose();
    const saved = JSON.parse(readFileSync(join(dir, 'weighting.json'), 'utf8')) as {
      tasks: Record<string, unknown>[];
    };
    expect(saved.tasks[0]!['calibrationTemperature']).toBe(tm.tasks[0]!.calibrationTemperature);
    expect(saved.tasks[0]!['calibrationSource']).toBe('validation');
    const loaded = await loadTrainedTable(dir);
    const again = predictTable(loaded, data, r.split.test).tasks[0]!;
    const before = preds.tasks[0]!;
    if (again.kind === 'regression' || before.kind === 'regression') throw new Error('expected a classifier');
    expect(again.probabilities).toEqual(before.probabilities);
    loaded.model.dispose();

    // a model folder from before calibration (no such fields) predicts at the learned temperature
    for (const t of saved.tasks) {
      delete t['calibrationTemperature'];
      delete t['calibrationSource'];
    }
    writeFileSync(join(dir, 'weighting.json'), JSON.stringify(saved));
    const old = await loadTrainedTable(dir);
    const oldPreds = predictTable(old, data, r.split.test).tasks[0]!;
    if (oldPreds.kind === 'regression') throw new Error('expected a classifier');
    expect(oldPreds.temperature).toBe(tm.tasks[0]!.temperature);
    expect(oldPreds.probabilities).toEqual(before.learnedProbabilities);
    old.model.dispose();
  });

  it('without a validation split keeps the learned temperature and says so', async () => {
    const data = table();
    const r = await trainTable(data, config(0));
    for (const t of [0, 1]) {
      const info = r.tabular.tasks[t]!;
      expect(info.calibrationSource).toBe('learned');
      expect(info.calibrationTemperature).toBeUndefined();
      const p = predictTable(r.tabular, data, r.split.test).tasks[t]!;
      if (p.kind === 'regression') throw new Error('expected a classifier');
      expect(p.temperature).toBe(info.temperature);
      expect(p.probabilities).toBe(p.learnedProbabilities);
      const m = r.metrics.test![info.name]!;
      expect(m['ece']).toBe(m['eceLearnedTemperature']);
    }
    r.tabular.model.dispose();
  });
});
