// The kernels of a tf.profile run, per name: calls and time per training step.

/** [[name, { n, ms }]] sorted by `by` ('ms' or 'n'), descending. */
export function kernelRows(info, by = 'ms') {
  const rows = new Map();
  for (const k of info.kernels) {
    const e = rows.get(k.name) ?? { n: 0, ms: 0 };
    e.n++;
    e.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    rows.set(k.name, e);
  }
  return [...rows].sort((a, b) => b[1][by] - a[1][by]);
}

/** One line per kernel name: calls and µs per step. */
export function printKernelRows(rows, steps) {
  for (const [name, e] of rows)
    console.log(
      `${name.padEnd(28)} ${(e.n / steps).toFixed(2).padStart(7)}×  ${((e.ms / steps) * 1000).toFixed(1).padStart(8)} µs`,
    );
}
