import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFeatures, encodeTargets, fitPreprocess, inferTargetKind } from '../data/preprocess.js';
import { splitRows } from '../data/split.js';
import { DataError, inferColumnKind } from '../data/table.js';
import { readTableFile } from './read-table.js';

const PENGUINS = 'node_modules/vega-datasets/data/penguins.json';
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'read-table-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function write(name: string, content: string | Uint8Array): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

async function dataError(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(DataError);
    expect((err as Error).message).not.toContain('\n');
    return (err as Error).message;
  }
  throw new Error('expected a DataError');
}

describe('readTableFile', () => {
  it('reads CSV, TSV and JSON by extension, with source = the path as given', async () => {
    const csv = await write('a.csv', 'x,y\n1,"a\tb"\n');
    const t = await readTableFile(csv);
    expect(t.source).toBe(csv);
    expect(t.cells['y']).toEqual(['a\tb']);
    const tsv = await readTableFile(await write('b.TSV', 'x\ty,z\n1\t2,5\n'));
    expect(tsv.columns).toEqual(['x', 'y,z']);
    expect(tsv.cells['y,z']).toEqual(['2,5']);
    const json = await readTableFile(await write('c.json', '[{"x": 1}]'));
    expect(json.rowLabel(0)).toBe('record 1');
  });

  it('sniffs other extensions', async () => {
    expect((await readTableFile(await write('d.txt', ' \n[{"x": 2}]'))).cells['x']).toEqual([2]);
    expect((await readTableFile(await write('e.dat', 'x,y\n1,2\n'))).columns).toEqual(['x', 'y']);
    expect((await readTableFile(await write('f', 'x\ty\n1\t2\n'))).columns).toEqual(['x', 'y']);
    expect(await dataError(readTableFile(await write('g.txt', '{"x": 1}')))).toMatch(
      /g\.txt is not a JSON array/,
    );
  });

  it('reads UTF-16 with a byte-order mark', async () => {
    const text = 'x,é\n1,ü\n';
    const bytes = new Uint8Array(2 + text.length * 2);
    bytes.set([0xff, 0xfe]);
    for (let i = 0; i < text.length; i++) bytes[2 + 2 * i] = text.charCodeAt(i);
    const t = await readTableFile(await write('u16.csv', bytes));
    expect(t.cells['é']).toEqual(['ü']);
  });

  it('names the file when it is missing, a directory, binary, not UTF-8 or unreadable', async () => {
    const missing = join(dir, 'nope.csv');
    expect(await dataError(readTableFile(missing))).toBe(`file not found: ${missing}`);
    expect(await dataError(readTableFile(dir))).toBe(`${dir} is a directory, not a data file`);
    const zip = await write('book.xlsx', new Uint8Array([0x50, 0x4b, 3, 4, 0, 0, 1]));
    expect(await dataError(readTableFile(zip))).toBe(`${zip} is a binary file, not CSV, TSV or JSON text`);
    const latin1 = await write('l1.csv', new Uint8Array([0x61, 0x0a, 0xe9, 0x0a]));
    expect(await dataError(readTableFile(latin1))).toBe(
      `${latin1} is not valid UTF-8 text; save it as UTF-8 and try again`,
    );
    if (process.getuid?.() !== 0) {
      const locked = await write('locked.csv', 'x\n1\n');
      await chmod(locked, 0o000);
      expect(await dataError(readTableFile(locked))).toBe(`cannot read ${locked}: permission denied`);
    }
  });

  it('passes on parse errors with the path', async () => {
    const p = await write('bad.csv', 'a,b\n1,2\n3\n');
    expect(await dataError(readTableFile(p))).toBe(`${p} line 3 has 1 field, the header has 2`);
  });
});

describe('penguins.json', () => {
  it('reads 344 records with 7 columns and infers the target kinds', async () => {
    const t = await readTableFile(PENGUINS);
    expect(t.source).toBe(PENGUINS);
    expect(t.rowCount).toBe(344);
    expect(t.columns).toEqual([
      'Species',
      'Island',
      'Beak Length (mm)',
      'Beak Depth (mm)',
      'Flipper Length (mm)',
      'Body Mass (g)',
      'Sex',
    ]);
    // 'Sex' is 'MALE', 'FEMALE', null or '.': '.' is a missing token
    const sexes = new Set(t.cells['Sex']);
    expect(sexes).toEqual(new Set(['MALE', 'FEMALE', null]));
    expect(t.cells['Sex']!.filter((s) => s === null)).toHaveLength(11);
    expect(inferTargetKind(t, 'Sex')).toBe('binary');
    expect(inferTargetKind(t, 'Species')).toBe('classification');
    expect(inferTargetKind(t, 'Body Mass (g)')).toBe('regression');
    expect(inferColumnKind(t, 'Island')).toBe('categorical');
    expect(inferColumnKind(t, 'Beak Length (mm)')).toBe('numeric');
    expect(t.cells['Body Mass (g)']!.filter((v) => v === null)).toHaveLength(2);
  });

  it('preprocesses end to end', async () => {
    const t = await readTableFile(PENGUINS);
    const split = splitRows(t.rowCount, { validation: 0.15, test: 0.15, seed: 0 });
    const features = ['Island', 'Beak Length (mm)', 'Beak Depth (mm)', 'Flipper Length (mm)'].map((name) => ({
      name,
      kind: inferColumnKind(t, name),
    }));
    const targets = ['Species', 'Body Mass (g)', 'Sex'].map((name) => ({
      name,
      kind: inferTargetKind(t, name),
    }));
    const state = fitPreprocess(t, features, targets, split.train);
    expect(state.inputNames.slice(0, 3)).toEqual(['Island=Biscoe', 'Island=Dream', 'Island=Torgersen']);
    expect(state.targets[0]).toMatchObject({ classes: ['Adelie', 'Chinstrap', 'Gentoo'] });
    expect(state.targets[2]).toMatchObject({ kind: 'binary', classes: ['FEMALE', 'MALE'] });
    const enc = encodeFeatures(state, t, split.validation);
    expect(enc.rows).toBe(split.validation.length);
    expect(enc.x.every(Number.isFinite)).toBe(true);
    const [, mass, sex] = encodeTargets(state, t, split.train);
    expect(mass!.values.every(Number.isFinite)).toBe(true);
    expect(Array.from(sex!.mask).filter((m) => m === 0).length).toBeGreaterThan(0);
  });
});
