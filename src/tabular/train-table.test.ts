/** trainTable gives IMTL-L's learned log-scales the treatment uncertainty's log-variances get. */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createTable, type Cell } from '../data/table.js';
import { NumpyRandomState } from '../random/numpy-random-state.js';
import { parseTrainConfig } from './config.js';
import { IMTL_L_CLAMP, trainTable } from './train-table.js';

/** x → exact = x (a loss that can reach 0) and noisy = x + N(0, 1). */
function table() {
  const rs = new NumpyRandomState(3);
  const x: Cell[] = [];
  const exact: Cell[] = [];
  const noisy: Cell[] = [];
  for (let i = 0; i < 200; i++) {
    const v = rs.standardNormal();
    x.push(v);
    exact.push(v);
    noisy.push(v + rs.standardNormal());
  }
  return createTable('t.csv', ['x', 'exact', 'noisy'], { x, exact, noisy });
}

const config = (sigmaLr: number) =>
  parseTrainConfig(
    {
      targets: [{ name: 'exact' }, { name: 'noisy' }],
      weighting: 'imtl-l',
      epochs: 60,
      patience: 0,
      hidden: [8],
      lr: 0.01,
      sigmaLr,
    },
    'test',
  );

describe('trainTable with imtl-l', () => {
  it('learns the log-scales at --sigma-lr, kept within the clamp', async () => {
    const before = tf.memory().numTensors;
    const scales = async (lr: number) => {
      const r = await trainTable(table(), config(lr));
      r.tabular.model.dispose();
      return r.tabular.weighting.state['logScale'] as number[];
    };
    const slow = await scales(0.001);
    const fast = await scales(0.2);
    // at 0.001 for ~300 steps the scales barely leave 0; at 0.2 the exact task's runs into the clamp's top
    expect(Math.max(...slow.map(Math.abs))).toBeLessThan(0.4);
    expect(fast[0]).toBeCloseTo(IMTL_L_CLAMP[1], 5);
    for (const s of [...slow, ...fast]) {
      expect(s).toBeGreaterThanOrEqual(IMTL_L_CLAMP[0]);
      expect(s).toBeLessThanOrEqual(IMTL_L_CLAMP[1]);
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});
