import { describe, expect, it } from 'vitest';
import {
  decodeRegression,
  encodeFeatures,
  encodeTargets,
  fitPreprocess,
  inferTargetKind,
  scaleSigma,
  type FeatureColumn,
  type PreprocessState,
  type TargetColumn,
  type TargetState,
} from './preprocess.js';
import { DataError, parseCsv } from './table.js';

function dataError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DataError);
    expect((err as Error).message).not.toContain('\n');
    return (err as Error).message;
  }
  throw new Error('expected a DataError');
}

// lines 2..7; the last row (line 7) is the "validation" row with an extreme mass
const birds = parseCsv(
  [
    'island,len,sex,species,mass,gender',
    'Biscoe,1,M,A,10,M',
    'Dream,2,F,B,20,F',
    'Biscoe,,F,C,30,F',
    'Torgersen,4,,A,40,',
    'Biscoe,5,M,,,M',
    'Dream,1000,F,B,100000,F',
  ].join('\n'),
  'birds.csv',
);
const features: FeatureColumn[] = [
  { name: 'island', kind: 'categorical' },
  { name: 'len', kind: 'numeric' },
  { name: 'sex', kind: 'categorical' },
];
const targets: TargetColumn[] = [
  { name: 'species', kind: 'classification' },
  { name: 'mass', kind: 'regression' },
  { name: 'gender', kind: 'binary' },
];
const train = [0, 1, 2, 3, 4];

describe('inferTargetKind', () => {
  const t = parseCsv(
    'num,two,twonum,cat,one,none,typo\n1,a,0,x,k,,1\n2,b,1,y,k,,2\n3,a,1,z,k,,heavy\n4,,0,x,,,4\n',
    'k.csv',
  );

  it('infers regression, binary and classification', () => {
    expect(inferTargetKind(t, 'num')).toBe('regression');
    expect(inferTargetKind(t, 'two')).toBe('binary');
    expect(inferTargetKind(t, 'twonum')).toBe('binary');
    expect(inferTargetKind(t, 'cat')).toBe('classification');
  });

  it('rejects unusable targets', () => {
    expect(dataError(() => inferTargetKind(t, 'nope'))).toBe(
      "k.csv: target column 'nope' not found; columns are: 'num', 'two', 'twonum', 'cat', 'one', 'none', 'typo'",
    );
    expect(dataError(() => inferTargetKind(t, 'one'))).toBe(
      "k.csv: target 'one' has only one value ('k'); there is nothing to predict",
    );
    expect(dataError(() => inferTargetKind(t, 'none'))).toBe(
      "k.csv: target column 'none' has no values (every row is missing)",
    );
    // mostly numbers with a typo: not silently 4 classes
    expect(dataError(() => inferTargetKind(t, 'typo'))).toMatch(
      /^k\.csv line 4, column 'typo': expected a number, got 'heavy' \(/,
    );
  });
});

describe('fitPreprocess + encodeFeatures', () => {
  const state = fitPreprocess(birds, features, targets, train);

  it('fits on the training rows only (the extreme validation row does not move the mean)', () => {
    const len = state.features[1]!;
    expect(len.kind).toBe('numeric');
    if (len.kind !== 'numeric') return;
    // training values 1, 2, 4, 5 (line 4 missing); line 7's 1000 is not a training row
    expect(len.mean).toBe(3);
    expect(len.std).toBeCloseTo(Math.sqrt(2.5), 12);
    expect(len.impute).toBe(3);
    expect(len.missingIndicator).toBe(true);
    const mass = state.targets[1]!;
    expect(mass).toEqual({ name: 'mass', kind: 'regression', mean: 25, std: Math.sqrt(125) });
  });

  it('one-hots sorted training categories, imputes the mode and adds missing indicators', () => {
    expect(state.features[0]).toEqual({
      name: 'island',
      kind: 'categorical',
      categories: ['Biscoe', 'Dream', 'Torgersen'],
      impute: 'Biscoe',
      missingIndicator: false,
    });
    expect(state.features[2]).toEqual({
      name: 'sex',
      kind: 'categorical',
      categories: ['F', 'M'],
      impute: 'F',
      missingIndicator: true,
    });
    expect(state.inputNames).toEqual([
      'island=Biscoe',
      'island=Dream',
      'island=Torgersen',
      'len',
      'len=missing',
      'sex=F',
      'sex=M',
      'sex=missing',
    ]);
  });

  it('encodes rows in the order given', () => {
    const enc = encodeFeatures(state, birds, [2, 3, 5]);
    expect(enc.rows).toBe(3);
    expect(enc.cols).toBe(8);
    expect(enc.warnings).toEqual([]);
    const z = (v: number) => Math.fround((v - 3) / Math.sqrt(2.5));
    expect(Array.from(enc.x.subarray(0, 8))).toEqual([1, 0, 0, 0, 1, 1, 0, 0]); // len imputed → 0, indicator 1
    expect(Array.from(enc.x.subarray(8, 16))).toEqual([0, 0, 1, z(4), 0, 1, 0, 1]); // sex imputed 'F' + indicator
    expect(Array.from(enc.x.subarray(16, 24))).toEqual([0, 1, 0, z(1000), 0, 1, 0, 0]);
    expect(encodeFeatures(state, birds).rows).toBe(6);
  });

  it('warns once per column and unknown category and encodes it as zeros', () => {
    const fresh = parseCsv(
      'island,len,sex\nAtlantis,1,M\nDream,2,F\nAtlantis,3,X\nAtlantis,4,M\n',
      'new.csv',
    );
    const enc = encodeFeatures(state, fresh);
    expect(enc.warnings).toEqual([
      "new.csv column 'island': unknown category 'Atlantis' in 3 rows (first: line 2), not seen in training; encoded as all zeros",
      "new.csv column 'sex': unknown category 'X' in 1 row (first: line 4), not seen in training; encoded as all zeros",
    ]);
    expect(Array.from(enc.x.subarray(0, 3))).toEqual([0, 0, 0]);
    expect(Array.from(enc.x.subarray(16 + 5, 16 + 8))).toEqual([0, 0, 0]);
  });

  it('rejects a missing feature column and text in a numeric feature at encode time', () => {
    const noLen = parseCsv('island,sex\nDream,F\n', 'new.csv');
    expect(dataError(() => encodeFeatures(state, noLen))).toBe(
      "new.csv: feature column 'len' is missing (the model was trained with it)",
    );
    const text = parseCsv('island,len,sex\nDream,1,F\nDream,long,F\n', 'new.csv');
    expect(dataError(() => encodeFeatures(state, text))).toBe(
      "new.csv line 3, column 'len': expected a number, got 'long'",
    );
  });

  it('round-trips through JSON', () => {
    const copy = JSON.parse(JSON.stringify(state)) as PreprocessState;
    expect(copy).toEqual(state);
    expect(encodeFeatures(copy, birds).x).toEqual(encodeFeatures(state, birds).x);
  });
});

describe('encodeTargets', () => {
  const state = fitPreprocess(birds, features, targets, train);

  it('encodes classes, standardised values and 0/1 with masks for missing values', () => {
    const [species, mass, sex] = encodeTargets(state, birds);
    expect(species!.values).toBeInstanceOf(Int32Array);
    expect(Array.from(species!.values)).toEqual([0, 1, 2, 0, 0, 1]);
    expect(Array.from(species!.mask)).toEqual([1, 1, 1, 1, 0, 1]);
    expect(mass!.values).toBeInstanceOf(Float32Array);
    expect(mass!.values[0]).toBeCloseTo((10 - 25) / Math.sqrt(125), 6);
    expect(Array.from(mass!.mask)).toEqual([1, 1, 1, 1, 0, 1]);
    expect(mass!.values[4]).toBe(0);
    expect(sex!.values).toBeInstanceOf(Float32Array);
    expect(state.targets[2]).toEqual({ name: 'gender', kind: 'binary', classes: ['F', 'M'] });
    expect(Array.from(sex!.values)).toEqual([1, 0, 0, 0, 1, 0]);
    expect(Array.from(sex!.mask)).toEqual([1, 1, 1, 0, 1, 1]);
    for (const t of [species, mass, sex]) expect(t!.warnings).toEqual([]);
  });

  it('masks labels the model was not trained on, with one warning per label', () => {
    const fresh = parseCsv('species,mass,gender\nD,1,M\nA,2,F\nD,3,F\n', 'new.csv');
    const [species] = encodeTargets(state, fresh);
    expect(Array.from(species!.mask)).toEqual([0, 1, 0]);
    expect(Array.from(species!.values)).toEqual([0, 0, 0]);
    expect(species!.warnings).toEqual([
      "new.csv column 'species': label 'D' in 2 rows (first: line 2) is not one of the trained classes ('A', 'B', 'C'); those rows are left out",
    ]);
  });

  it('rejects text in a regression target and a missing target column at encode time', () => {
    const text = parseCsv('species,mass,gender\nA,1,M\nA,lots,F\n', 'new.csv');
    expect(dataError(() => encodeTargets(state, text))).toBe(
      "new.csv line 3, column 'mass': expected a number, got 'lots'",
    );
    const none = parseCsv('species,gender\nA,M\n', 'new.csv');
    expect(dataError(() => encodeTargets(state, none))).toBe(
      "new.csv: target column 'mass' not found; columns are: 'species', 'gender'",
    );
  });
});

describe('fitPreprocess errors', () => {
  const t = parseCsv(
    ['f,g,reg,cls,bin,const,empty', '1,a,1,A,x,5,', '2,b,2,A,y,5,', '3,a,heavy,A,z,5,', '4,b,4,B,x,5,'].join(
      '\n',
    ),
    'e.csv',
  );
  const f: FeatureColumn[] = [{ name: 'f', kind: 'numeric' }];
  const fit =
    (ts: TargetColumn[], fs: FeatureColumn[] = f, rows = [0, 1]) =>
    () =>
      fitPreprocess(t, fs, ts, rows);

  it('names missing columns and columns used twice', () => {
    expect(dataError(fit([{ name: 'nope', kind: 'binary' }]))).toBe(
      "e.csv: target column 'nope' not found; columns are: 'f', 'g', 'reg', 'cls', 'bin', 'const', 'empty'",
    );
    expect(dataError(fit([{ name: 'cls', kind: 'binary' }], [{ name: 'x', kind: 'numeric' }]))).toMatch(
      /^e\.csv: feature column 'x' not found; columns are: 'f'/,
    );
    expect(dataError(fit([{ name: 'f', kind: 'regression' }]))).toBe(
      "e.csv: column 'f' is both a feature and a target",
    );
  });

  it('names the first text cell of a regression target', () => {
    expect(dataError(fit([{ name: 'reg', kind: 'regression' }]))).toBe(
      "e.csv line 4, column 'reg': expected a number, got 'heavy'",
    );
  });

  it('rejects a numeric feature with text', () => {
    expect(dataError(fit([{ name: 'cls', kind: 'binary' }], [{ name: 'g', kind: 'numeric' }], [0, 3]))).toBe(
      "e.csv line 2, column 'g': expected a number, got 'a'",
    );
  });

  it('rejects a constant regression target and one-class or non-binary class targets', () => {
    expect(dataError(fit([{ name: 'const', kind: 'regression' }]))).toBe(
      "e.csv: target 'const' is constant in the training rows (every value is 5)",
    );
    expect(dataError(fit([{ name: 'cls', kind: 'classification' }], f, [0, 1, 2]))).toBe(
      "e.csv: target 'cls' has only one class ('A') in the training rows",
    );
    expect(dataError(fit([{ name: 'bin', kind: 'binary' }], f, [0, 1, 2]))).toBe(
      "e.csv: binary target 'bin' has 3 classes in the training rows ('x', 'y', 'z'); a binary target needs exactly 2 (make it a classification target)",
    );
    expect(dataError(fit([{ name: 'cls', kind: 'binary' }], f, [0, 1]))).toBe(
      "e.csv: target 'cls' has only one class ('A') in the training rows",
    );
  });

  it('rejects training rows without any target value', () => {
    expect(dataError(fit([{ name: 'empty', kind: 'binary' }]))).toBe(
      "e.csv: no training row has any target value ('empty' is missing in all 2 training rows)",
    );
    // one target labelled, the other never: that target alone is named
    expect(
      dataError(
        fit(
          [
            { name: 'cls', kind: 'classification' },
            { name: 'empty', kind: 'regression' },
          ],
          f,
          [0, 3],
        ),
      ),
    ).toBe("e.csv: target 'empty' has no values in the training rows");
  });

  it('picks classes from the training rows only, numbers in numeric order', () => {
    const n = parseCsv('x,y\n1,10\n2,2\n3,9\n4,100\n', 'n.csv');
    const s = fitPreprocess(
      n,
      [{ name: 'x', kind: 'numeric' }],
      [{ name: 'y', kind: 'classification' }],
      [0, 1, 2],
    );
    expect(s.targets[0]).toEqual({ name: 'y', kind: 'classification', classes: ['2', '9', '10'] });
  });

  it('uses std 1 for a constant feature', () => {
    const s = fitPreprocess(
      t,
      [{ name: 'const', kind: 'numeric' }],
      [{ name: 'cls', kind: 'binary' }],
      [0, 3],
    );
    expect(s.features[0]).toMatchObject({ mean: 5, std: 1, missingIndicator: false });
    expect(Array.from(encodeFeatures(s, t).x)).toEqual([0, 0, 0, 0]);
  });
});

describe('decodeRegression and scaleSigma', () => {
  it('invert the standardisation', () => {
    const state = { name: 'm', kind: 'regression', mean: 4200, std: 800 } satisfies TargetState;
    const table = parseCsv('m,x\n3000,1\n5000,2\n4200,3\n', 'd.csv');
    const s = fitPreprocess(
      table,
      [{ name: 'x', kind: 'numeric' }],
      [{ name: 'm', kind: 'regression' }],
      [0, 1, 2],
    );
    const target = s.targets[0]!;
    if (target.kind !== 'regression') throw new Error('regression expected');
    const [enc] = encodeTargets(s, table);
    const back = Array.from(enc!.values, (v) => decodeRegression(target, v));
    back.forEach((v, i) => expect(v).toBeCloseTo(table.cells['m']![i] as number, 2));
    expect(decodeRegression(state, 1.5)).toBe(5400);
    expect(scaleSigma(state, 0.5)).toBe(400);
  });
});

describe('row indices', () => {
  it('rejects rows outside the table', () => {
    const state = fitPreprocess(birds, features, targets, train);
    expect(() => encodeFeatures(state, birds, [0, 6])).toThrow(RangeError);
    expect(() => encodeTargets(state, birds, [-1])).toThrow(RangeError);
  });
});

describe('missing values', () => {
  it('imputes without an indicator when the training rows had no missing value', () => {
    const t = parseCsv('x,c,y\n1,a,1\n3,b,2\n,,3\n', 'm.csv');
    const s = fitPreprocess(
      t,
      [
        { name: 'x', kind: 'numeric' },
        { name: 'c', kind: 'categorical' },
      ],
      [{ name: 'y', kind: 'regression' }],
      [0, 1],
    );
    expect(s.inputNames).toEqual(['x', 'c=a', 'c=b']);
    expect(Array.from(encodeFeatures(s, t, [2]).x)).toEqual([0, 1, 0]);
  });

  it("names the indicator '(missing)' when a category is called 'missing'", () => {
    const t = parseCsv('c,y\nmissing,1\nother,2\n,3\n', 'm.csv');
    const s = fitPreprocess(
      t,
      [{ name: 'c', kind: 'categorical' }],
      [{ name: 'y', kind: 'regression' }],
      [0, 1, 2],
    );
    expect(s.inputNames).toEqual(['c=missing', 'c=other', 'c=(missing)']);
  });
});
