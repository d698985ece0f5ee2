import type { EpochEvent } from './events.js';

/** Everything a training run reported, one record per epoch; plain JSON. */
export interface History {
  tasks: string[];
  strategy: string;
  epochs: EpochEvent[];
  /** Set when early stopping ended the run. */
  stoppedEarly?: { epoch: number; bestEpoch: number; reason: string };
}

/** One series of the history: e.g. `series(h, (e) => e.sigmas?.y1)`. */
export function historySeries(
  history: History,
  pick: (e: EpochEvent) => number | undefined,
): { epochs: number[]; values: number[] } {
  const epochs: number[] = [];
  const values: number[] = [];
  for (const e of history.epochs) {
    const v = pick(e);
    if (v !== undefined) {
      epochs.push(e.epoch);
      values.push(v);
    }
  }
  return { epochs, values };
}
