/** The second tab: train on a CSV the user picks (several targets, learned weights), then download the model. */
import * as tf from '@tensorflow/tfjs';
import { parseCsv, parseTrainConfig, trainTable, type EpochEvent, type Table } from '../src/index.js';
import { Chart } from './chart.js';

const PALETTE = ['#d9480f', '#1c7ed6', '#2f9e44', '#ae3ec9', '#f08c00', '#0c8599', '#e64980', '#5c940d'];

function el<T extends HTMLElement = HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (!e) throw new Error(`#${id} is missing`);
  return e as T;
}

interface Series {
  epoch: number[];
  total: number[];
  loss: Record<string, number[]>;
  sigma: Record<string, number[]>;
  weight: Record<string, number[]>;
}

function saveBlob(blob: Blob, name: string): void {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

/**
 * What `model.save('downloads://tfjs-mtl-model')` does — model.json + weights.bin, loadable with
 * tf.loadLayersModel — written out here because the bundler tree-shakes tfjs-core's 'downloads://' router.
 */
async function downloadArtifacts(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
  const name = 'tfjs-mtl-model';
  const weights = artifacts.weightData
    ? new Blob(Array.isArray(artifacts.weightData) ? artifacts.weightData : [artifacts.weightData])
    : new Blob([]);
  const json = {
    modelTopology: artifacts.modelTopology,
    format: artifacts.format,
    generatedBy: artifacts.generatedBy,
    convertedBy: artifacts.convertedBy,
    weightsManifest: [{ paths: [`./${name}.weights.bin`], weights: artifacts.weightSpecs ?? [] }],
  };
  saveBlob(new Blob([JSON.stringify(json)], { type: 'application/json' }), `${name}.json`);
  await new Promise((resolve) => setTimeout(resolve, 100));
  saveBlob(weights, `${name}.weights.bin`);
  return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
}

/** Wires the CSV tab; returns its redraw function (for when the tab becomes visible). */
export function setupCsvTab(): () => void {
  const ui = {
    file: el<HTMLInputElement>('csv-file'),
    info: el('csv-info'),
    targets: el('csv-targets'),
    weighting: el<HTMLSelectElement>('csv-weighting'),
    hidden: el<HTMLInputElement>('csv-hidden'),
    epochs: el<HTMLInputElement>('csv-epochs'),
    lr: el<HTMLInputElement>('csv-lr'),
    train: el<HTMLButtonElement>('csv-train'),
    stop: el<HTMLButtonElement>('csv-stop'),
    download: el<HTMLButtonElement>('csv-download'),
    status: el('csv-status'),
    epoch: el('csv-epoch'),
    message: el('csv-message'),
    metrics: el('csv-metrics'),
  };
  const charts = {
    loss: new Chart(el<HTMLCanvasElement>('csv-plot-loss')),
    sigma: new Chart(el<HTMLCanvasElement>('csv-plot-sigma')),
    weights: new Chart(el<HTMLCanvasElement>('csv-plot-weights')),
    total: new Chart(el<HTMLCanvasElement>('csv-plot-total')),
  };
  let table: Table | null = null;
  let model: tf.LayersModel | null = null;
  let controller: AbortController | null = null;
  let series: Series | null = null;
  let names: string[] = [];

  const setStatus = (s: 'idle' | 'training' | 'done' | 'stopped') => {
    ui.status.textContent = s;
    ui.train.disabled = s === 'training' || table === null;
    ui.stop.disabled = s !== 'training';
    ui.file.disabled = s === 'training';
    ui.download.disabled = s === 'training' || model === null;
  };

  const draw = () => {
    const sr = series;
    const empty = 'pick a file, tick targets, press Train';
    const lines = (data: Record<string, number[]> | undefined, prefix: string) =>
      names.map((name, t) => ({
        label: `${prefix}${name}`,
        color: PALETTE[t % PALETTE.length]!,
        xs: sr?.epoch ?? [],
        ys: data?.[name] ?? [],
      }));
    charts.loss.draw({ xLabel: 'epoch', yLabel: 'task loss', logY: true, empty, lines: lines(sr?.loss, '') });
    charts.sigma.draw({ xLabel: 'epoch', yLabel: 'σ̂', logY: true, empty, lines: lines(sr?.sigma, '') });
    charts.weights.draw({
      xLabel: 'epoch',
      yLabel: 'weight',
      logY: true,
      empty,
      lines: lines(sr?.weight, ''),
    });
    charts.total.draw({
      xLabel: 'epoch',
      yLabel: 'loss',
      empty,
      lines: [{ label: 'total', color: '#444', xs: sr?.epoch ?? [], ys: sr?.total ?? [] }],
    });
  };

  let pending = false;
  const requestDraw = () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      draw();
    });
  };

  ui.file.addEventListener('change', () => {
    const file = ui.file.files?.[0];
    if (!file) return;
    ui.message.textContent = '';
    file
      .text()
      .then((text) => {
        table = parseCsv(text, file.name);
        ui.info.textContent = `${file.name}: ${table.rowCount} rows, ${table.columns.length} columns`;
        ui.targets.replaceChildren(
          ...table.columns.map((c, i) => {
            const label = document.createElement('label');
            const box = document.createElement('input');
            box.type = 'checkbox';
            box.value = c;
            box.checked = i === table!.columns.length - 1;
            label.append(box, ` ${c}`);
            return label;
          }),
        );
        setStatus('idle');
      })
      .catch((err: unknown) => {
        table = null;
        ui.message.textContent = err instanceof Error ? err.message : String(err);
        setStatus('idle');
      });
  });

  ui.train.addEventListener('click', () => {
    if (!table) return;
    const current = table;
    ui.message.textContent = '';
    ui.metrics.replaceChildren();
    const targets = Array.from(ui.targets.querySelectorAll<HTMLInputElement>('input:checked'), (b) => ({
      name: b.value,
    }));
    let config;
    try {
      config = parseTrainConfig(
        {
          targets,
          weighting: ui.weighting.value,
          hidden: ui.hidden.value
            .split(',')
            .filter((s) => s.trim() !== '')
            .map(Number),
          epochs: Number(ui.epochs.value),
          lr: Number(ui.lr.value),
        },
        'settings',
      );
    } catch (err) {
      ui.message.textContent = err instanceof Error ? err.message : String(err);
      return;
    }
    model?.dispose();
    model = null;
    names = targets.map((t) => t.name);
    const sr: Series = { epoch: [], total: [], loss: {}, sigma: {}, weight: {} };
    for (const n of names) [sr.loss[n], sr.sigma[n], sr.weight[n]] = [[], [], []];
    series = sr;
    const ctrl = new AbortController();
    controller = ctrl;
    setStatus('training');
    const onEpochEnd = (e: EpochEvent) => {
      sr.epoch.push(sr.epoch.length + 1);
      sr.total.push(e.loss);
      for (const n of names) {
        sr.loss[n]!.push(e.taskLosses[n] ?? NaN);
        sr.sigma[n]!.push(e.sigmas?.[n] ?? NaN);
        sr.weight[n]!.push(e.weights[n] ?? NaN);
      }
      ui.epoch.textContent = `${sr.epoch.length} / ${config.epochs}`;
      requestDraw();
    };
    trainTable(current, config, { onEpochEnd, signal: ctrl.signal, yieldEveryMs: 16 })
      .then((result) => {
        model = result.tabular.model;
        const rows = Object.entries(result.evaluation.metrics).map(([task, m]) => {
          const tr = document.createElement('tr');
          const cells = Object.entries(m)
            .map(([k, v]) => `${k} ${Number.isInteger(v) ? v : v.toPrecision(4)}`)
            .join(', ');
          for (const text of [task, cells]) {
            const td = document.createElement('td');
            td.textContent = text;
            tr.append(td);
          }
          return tr;
        });
        const caption = document.createElement('caption');
        caption.textContent = `metrics on the ${result.evaluationSplit} split`;
        ui.metrics.replaceChildren(caption, ...rows);
        if (result.warnings.length) ui.message.textContent = result.warnings.join('\n');
        setStatus(ctrl.signal.aborted ? 'stopped' : 'done');
      })
      .catch((err: unknown) => {
        ui.message.textContent = err instanceof Error ? err.message : String(err);
        setStatus('stopped');
      })
      .finally(() => {
        if (controller === ctrl) controller = null;
        requestDraw();
      });
  });

  ui.stop.addEventListener('click', () => controller?.abort());
  ui.download.addEventListener('click', () => {
    model?.save(tf.io.withSaveHandler(downloadArtifacts)).catch((err: unknown) => {
      ui.message.textContent = err instanceof Error ? err.message : String(err);
    });
  });
  setStatus('idle');
  return requestDraw;
}
