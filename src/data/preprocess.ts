/**
 * Preprocessing of a table for a multi-task model, fitted on the training rows only and saved with the
 * model as JSON: standardised numeric features, one-hot categorical features, imputation with missing
 * indicators, standardised regression targets and class indices. Browser-safe.
 */
import {
  DataError,
  cellWhere,
  columnNotFound,
  columnNumbers,
  showValue,
  type Cell,
  type Table,
} from './table.js';

export type TargetKind = 'regression' | 'classification' | 'binary';

export interface FeatureColumn {
  name: string;
  kind: 'numeric' | 'categorical';
}

export interface TargetColumn {
  name: string;
  kind: TargetKind;
}

export type FeatureState =
  | { name: string; kind: 'numeric'; mean: number; std: number; impute: number; missingIndicator: boolean }
  | {
      name: string;
      kind: 'categorical';
      categories: string[];
      impute: string | null;
      missingIndicator: boolean;
    };

export type TargetState =
  | { name: string; kind: 'regression'; mean: number; std: number }
  | { name: string; kind: 'classification' | 'binary'; classes: string[] };

export interface PreprocessState {
  version: 1;
  features: FeatureState[];
  targets: TargetState[];
  /** The encoded input columns in order: 'Island=Biscoe', 'Beak Length (mm)', 'Sex=missing', … */
  inputNames: string[];
}

export interface EncodedFeatures {
  /** rows × cols, row-major. */
  x: Float32Array;
  rows: number;
  cols: number;
  /** One per column and unknown category. */
  warnings: string[];
}

export interface EncodedTarget {
  /** Regression: standardised values; binary: 0/1 (Float32Array); classification: class indices (Int32Array). */
  values: Float32Array | Int32Array;
  /** 1 where the row has a usable label, else 0 (and the value is 0). */
  mask: Float32Array;
  /** One per label that is not one of the trained classes. */
  warnings: string[];
}

const NUMERIC_TEXT = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** Numbers in numeric order before other strings in code-unit order ('2' < '10' < 'a' < 'b'). */
function compareLabels(a: string, b: string): number {
  const na = NUMERIC_TEXT.test(a) ? Number(a) : NaN;
  const nb = NUMERIC_TEXT.test(b) ? Number(b) : NaN;
  const aNum = !Number.isNaN(na);
  const bNum = !Number.isNaN(nb);
  if (aNum && bNum && na !== nb) return na - nb;
  if (aNum !== bNum) return aNum ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function labelOf(cell: Cell): string | null {
  return cell === null ? null : String(cell);
}

function list(values: readonly string[], max = 6): string {
  const shown = values.slice(0, max).map((v) => showValue(v));
  return values.length > max ? `${shown.join(', ')}, … (${values.length} in all)` : shown.join(', ');
}

function allRows(table: Table): number[] {
  return Array.from({ length: table.rowCount }, (_, i) => i);
}

function checkRows(table: Table, rows: readonly number[]): void {
  for (const r of rows) {
    if (!Number.isInteger(r) || r < 0 || r >= table.rowCount) {
      throw new RangeError(`row index ${r} is outside the table ${table.source} (${table.rowCount} rows)`);
    }
  }
}

/**
 * The kind of a target inferred from its values: numbers with more than 2 distinct values → regression;
 * exactly 2 distinct values → binary; text with more than 2 → classification. A column that is mostly
 * numbers with some text is reported at its first text cell rather than silently made categorical.
 */
export function inferTargetKind(table: Table, column: string): TargetKind {
  if (!table.columns.includes(column)) throw columnNotFound(table, 'target', column);
  const cells = table.cells[column]!;
  const distinct = new Set<string>();
  let numbers = 0;
  let texts = 0;
  let firstText = -1;
  cells.forEach((cell, i) => {
    if (cell === null) return;
    distinct.add(String(cell));
    if (typeof cell === 'number') numbers++;
    else {
      texts++;
      if (firstText < 0) firstText = i;
    }
  });
  if (distinct.size === 0) {
    throw new DataError(`${table.source}: target column '${column}' has no values (every row is missing)`);
  }
  if (distinct.size === 1) {
    throw new DataError(
      `${table.source}: target '${column}' has only one value (${list([...distinct])}); there is nothing to predict`,
    );
  }
  if (distinct.size === 2) return 'binary';
  if (texts === 0) return 'regression';
  if (numbers > texts) {
    throw new DataError(
      `${cellWhere(table, firstText, column)}: expected a number, got ${showValue(cells[firstText])} ` +
        `(the target's other values are numbers; declare it a classification target to use its values as classes)`,
    );
  }
  return 'classification';
}

interface Moments {
  mean: number;
  std: number;
  constant: boolean;
  count: number;
  first: number;
}

function moments(values: readonly number[]): Moments {
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const mean = sum / values.length;
  let ss = 0;
  for (const v of values) ss += (v - mean) ** 2;
  const std = Math.sqrt(ss / values.length);
  const constant = min === max || !(std > 0) || !Number.isFinite(std);
  return { mean, std: constant ? 1 : std, constant, count: values.length, first: values[0] ?? NaN };
}

function fitFeature(table: Table, feature: FeatureColumn, trainRows: readonly number[]): FeatureState {
  const { name } = feature;
  const noValues = () =>
    new DataError(`${table.source}: feature '${name}' has no values in the training rows`);
  if (feature.kind === 'numeric') {
    const numbers = columnNumbers(table, name);
    const values: number[] = [];
    let missing = false;
    for (const r of trainRows) {
      const v = numbers[r]!;
      if (v === null) missing = true;
      else values.push(v);
    }
    if (values.length === 0) throw noValues();
    const m = moments(values);
    return { name, kind: 'numeric', mean: m.mean, std: m.std, impute: m.mean, missingIndicator: missing };
  }
  const cells = table.cells[name]!;
  const counts = new Map<string, number>();
  let missing = false;
  for (const r of trainRows) {
    const label = labelOf(cells[r]!);
    if (label === null) missing = true;
    else counts.set(label, (counts.get(label) ?? 0) + 1);
  }
  if (counts.size === 0) throw noValues();
  const categories = [...counts.keys()].sort(compareLabels);
  // the mode; ties go to the first category in sorted order
  let impute = categories[0]!;
  for (const c of categories) if (counts.get(c)! > counts.get(impute)!) impute = c;
  return { name, kind: 'categorical', categories, impute, missingIndicator: missing };
}

function fitTarget(table: Table, target: TargetColumn, trainRows: readonly number[]): TargetState {
  const { name, kind } = target;
  if (kind === 'regression') {
    const numbers = columnNumbers(table, name);
    const values: number[] = [];
    for (const r of trainRows) {
      const v = numbers[r]!;
      if (v !== null) values.push(v);
    }
    if (values.length === 0) {
      throw new DataError(`${table.source}: target '${name}' has no values in the training rows`);
    }
    const m = moments(values);
    if (m.constant) {
      throw new DataError(
        `${table.source}: target '${name}' is constant in the training rows (every value is ${m.first})`,
      );
    }
    return { name, kind, mean: m.mean, std: m.std };
  }
  const cells = table.cells[name]!;
  const seen = new Set<string>();
  for (const r of trainRows) {
    const label = labelOf(cells[r]!);
    if (label !== null) seen.add(label);
  }
  const classes = [...seen].sort(compareLabels);
  if (classes.length === 0) {
    throw new DataError(`${table.source}: target '${name}' has no values in the training rows`);
  }
  if (classes.length === 1) {
    throw new DataError(
      `${table.source}: target '${name}' has only one class (${showValue(classes[0])}) in the training rows`,
    );
  }
  if (kind === 'binary' && classes.length !== 2) {
    throw new DataError(
      `${table.source}: binary target '${name}' has ${classes.length} classes in the training rows ` +
        `(${list(classes)}); a binary target needs exactly 2 (make it a classification target)`,
    );
  }
  return { name, kind, classes };
}

function inputNamesOf(features: readonly FeatureState[]): string[] {
  const names: string[] = [];
  for (const f of features) {
    if (f.kind === 'numeric') names.push(f.name);
    else for (const c of f.categories) names.push(`${f.name}=${c}`);
    if (f.missingIndicator) {
      // a category literally called 'missing' keeps its name; the indicator then gets parentheses
      const clash = f.kind === 'categorical' && f.categories.includes('missing');
      names.push(clash ? `${f.name}=(missing)` : `${f.name}=missing`);
    }
  }
  return names;
}

/**
 * Fits the preprocessing on `trainRows` only: means, standard deviations (population), categories,
 * imputation values and classes. Validates the columns and the targets' values first.
 */
export function fitPreprocess(
  table: Table,
  features: FeatureColumn[],
  targets: TargetColumn[],
  trainRows: number[],
): PreprocessState {
  const src = table.source;
  if (targets.length === 0) throw new DataError(`${src}: no target columns were given`);
  if (features.length === 0) throw new DataError(`${src}: no feature columns were given`);
  const targetNames = new Set<string>();
  for (const t of targets) {
    if (!table.columns.includes(t.name)) throw columnNotFound(table, 'target', t.name);
    if (targetNames.has(t.name)) throw new DataError(`${src}: target '${t.name}' is given twice`);
    targetNames.add(t.name);
  }
  const featureNames = new Set<string>();
  for (const f of features) {
    if (!table.columns.includes(f.name)) throw columnNotFound(table, 'feature', f.name);
    if (targetNames.has(f.name)) {
      throw new DataError(`${src}: column '${f.name}' is both a feature and a target`);
    }
    if (featureNames.has(f.name)) throw new DataError(`${src}: feature '${f.name}' is given twice`);
    featureNames.add(f.name);
  }
  if (trainRows.length === 0) throw new DataError(`${src}: there are no training rows`);
  checkRows(table, trainRows);

  // text in a regression target: name its first row before anything else
  for (const t of targets) if (t.kind === 'regression') columnNumbers(table, t.name);
  const labelled = trainRows.some((r) => targets.some((t) => table.cells[t.name]![r] !== null));
  if (!labelled) {
    throw new DataError(
      `${src}: no training row has any target value (${targets.map((t) => `'${t.name}'`).join(', ')} ` +
        `${targets.length === 1 ? 'is' : 'are'} missing in all ${trainRows.length} training rows)`,
    );
  }
  const targetStates = targets.map((t) => fitTarget(table, t, trainRows));
  const featureStates = features.map((f) => fitFeature(table, f, trainRows));
  return {
    version: 1,
    features: featureStates,
    targets: targetStates,
    inputNames: inputNamesOf(featureStates),
  };
}

/**
 * The feature matrix for `rows` (default: all) of a table: numeric features standardised, categorical
 * ones one-hot, missing values imputed (plus the 0/1 indicator where the model has one). A category the
 * model has not seen is all zeros and gives one warning per column and value.
 */
export function encodeFeatures(state: PreprocessState, table: Table, rows?: number[]): EncodedFeatures {
  const index = rows ?? allRows(table);
  checkRows(table, index);
  const cols = state.inputNames.length;
  const x = new Float32Array(index.length * cols);
  const warnings: string[] = [];
  let offset = 0;
  for (const f of state.features) {
    if (!table.columns.includes(f.name)) {
      throw new DataError(
        `${table.source}: feature column '${f.name}' is missing (the model was trained with it)`,
      );
    }
    const cells = table.cells[f.name]!;
    const width = (f.kind === 'numeric' ? 1 : f.categories.length) + (f.missingIndicator ? 1 : 0);
    const indicator = f.missingIndicator ? offset + width - 1 : -1;
    if (f.kind === 'numeric') {
      index.forEach((r, i) => {
        const cell = cells[r]!;
        if (typeof cell === 'string') {
          throw new DataError(`${cellWhere(table, r, f.name)}: expected a number, got ${showValue(cell)}`);
        }
        x[i * cols + offset] = ((cell ?? f.impute) - f.mean) / f.std;
        if (cell === null && indicator >= 0) x[i * cols + indicator] = 1;
      });
    } else {
      const position = new Map(f.categories.map((c, k) => [c, k]));
      const imputed = f.impute === null ? undefined : position.get(f.impute);
      const unknown = new Map<string, { count: number; first: number }>();
      index.forEach((r, i) => {
        const label = labelOf(cells[r]!);
        if (label === null) {
          if (imputed !== undefined) x[i * cols + offset + imputed] = 1;
          if (indicator >= 0) x[i * cols + indicator] = 1;
          return;
        }
        const k = position.get(label);
        if (k !== undefined) x[i * cols + offset + k] = 1;
        else {
          const u = unknown.get(label);
          if (u) u.count++;
          else unknown.set(label, { count: 1, first: r });
        }
      });
      for (const [label, u] of unknown) {
        warnings.push(
          `${table.source} column '${f.name}': unknown category ${showValue(label)} in ${u.count} ` +
            `row${u.count === 1 ? '' : 's'} (first: ${table.rowLabel(u.first)}), not seen in training; ` +
            `encoded as all zeros`,
        );
      }
    }
    offset += width;
  }
  return { x, rows: index.length, cols, warnings };
}

/**
 * The targets for `rows` (default: all) of a table, in the order of `state.targets`: standardised
 * regression values (Float32Array), binary 0/1 (Float32Array) or class indices (Int32Array), with a mask
 * that is 0 where the value is missing or a label the model was not trained on (which gives a warning).
 */
export function encodeTargets(state: PreprocessState, table: Table, rows?: number[]): EncodedTarget[] {
  const index = rows ?? allRows(table);
  checkRows(table, index);
  return state.targets.map((t): EncodedTarget => {
    if (!table.columns.includes(t.name)) throw columnNotFound(table, 'target', t.name);
    const cells = table.cells[t.name]!;
    const mask = new Float32Array(index.length);
    const warnings: string[] = [];
    if (t.kind === 'regression') {
      const values = new Float32Array(index.length);
      index.forEach((r, i) => {
        const cell = cells[r]!;
        if (cell === null) return;
        if (typeof cell === 'string') {
          throw new DataError(`${cellWhere(table, r, t.name)}: expected a number, got ${showValue(cell)}`);
        }
        values[i] = (cell - t.mean) / t.std;
        mask[i] = 1;
      });
      return { values, mask, warnings };
    }
    const values = t.kind === 'binary' ? new Float32Array(index.length) : new Int32Array(index.length);
    const position = new Map(t.classes.map((c, k) => [c, k]));
    const unknown = new Map<string, { count: number; first: number }>();
    index.forEach((r, i) => {
      const label = labelOf(cells[r]!);
      if (label === null) return;
      const k = position.get(label);
      if (k !== undefined) {
        values[i] = k;
        mask[i] = 1;
        return;
      }
      const u = unknown.get(label);
      if (u) u.count++;
      else unknown.set(label, { count: 1, first: r });
    });
    for (const [label, u] of unknown) {
      warnings.push(
        `${table.source} column '${t.name}': label ${showValue(label)} in ${u.count} ` +
          `row${u.count === 1 ? '' : 's'} (first: ${table.rowLabel(u.first)}) is not one of the trained ` +
          `classes (${list(t.classes)}); those rows are left out`,
      );
    }
    return { values, mask, warnings };
  });
}

/** A standardised regression output back in the target's units. */
export function decodeRegression(state: TargetState & { kind: 'regression' }, standardized: number): number {
  return standardized * state.std + state.mean;
}

/** A standard deviation on the standardised scale in the target's units. */
export function scaleSigma(state: TargetState & { kind: 'regression' }, sigmaStandardized: number): number {
  return sigmaStandardized * state.std;
}
