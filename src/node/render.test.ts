import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TopLevelSpec } from 'vega-lite';
import { lossCurveSpec, scatterSpec, sigmaTrajectorySpec } from '../plot/specs.js';
import { writeFileAtomic } from './atomic-write.js';
import { renderSvg, svgToPng, writePlot } from './render.js';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function pngSize(png: Uint8Array): { width: number; height: number } {
  expect([...png.subarray(0, 8)]).toEqual(PNG_SIGNATURE);
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  // the first chunk must be IHDR; its data starts with big-endian width and height
  expect(new TextDecoder().decode(png.subarray(12, 16))).toBe('IHDR');
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

function svgSize(svg: string): { width: number; height: number } {
  const m = /<svg[^>]*\swidth="([\d.]+)"[^>]*\sheight="([\d.]+)"/.exec(svg);
  expect(m).not.toBeNull();
  return { width: Number(m![1]), height: Number(m![2]) };
}

/** Deterministic noise so the test data look like a real run without depending on Math.random. */
function noise(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648 - 0.5;
  };
}

const rnd = noise(7);
const epochs = Array.from({ length: 2000 }, (_, i) => i + 1);
const x = Array.from({ length: 100 }, () => 4 * rnd());
/** [name, title, x-axis title, spec] */
const specs: [string, string, string, TopLevelSpec][] = [
  [
    'scatter',
    'Toy data',
    'x',
    scatterSpec({
      title: 'Toy data',
      series: [
        { name: 'y1', x, y: x.map((v) => 2 * v + 8 + 20 * rnd()) },
        { name: 'y2', x, y: x.map((v) => 3 * v + 3 + 2 * rnd()) },
      ],
    }),
  ],
  [
    'loss',
    'Training loss',
    'epoch',
    lossCurveSpec({
      epochs,
      logY: true,
      series: [
        { name: 'total', values: epochs.map((e) => 30 * Math.exp(-e / 200) - 3 + rnd()) },
        { name: 'y1', values: epochs.map((e) => 100 + 120 * Math.exp(-e / 150) + 10 * rnd()) },
        { name: 'y2', values: epochs.map((e) => 1 + 15 * Math.exp(-e / 100) + 0.5 * rnd()) },
      ],
    }),
  ],
  [
    'sigma',
    'Learned task σ',
    'epoch',
    sigmaTrajectorySpec({
      epochs,
      tasks: [
        { name: 'y1', sigma: epochs.map((e) => 8.6 - 7.6 * Math.exp(-e / 300)), trueSigma: 10 },
        { name: 'y2', sigma: epochs.map((e) => 0.9 + 0.1 * Math.exp(-e / 200)), trueSigma: 1 },
      ],
    }),
  ],
];

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tfjs-mtl-render-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('renderSvg / svgToPng', () => {
  it.each(specs)('renders the %s spec to SVG and PNG', async (_name, title, xTitle, spec) => {
    const svg = await renderSvg(spec);
    expect(svg).toContain('<svg');
    expect(svg).toContain(`>${title}</text>`);
    expect(svg).toContain(`>${xTitle}</text>`);

    const size = svgSize(svg);
    expect(size.width).toBeGreaterThan(560);
    expect(size.width).toBeLessThan(900);
    expect(size.height).toBeGreaterThan(300);
    expect(size.height).toBeLessThan(500);

    const png = svgToPng(svg);
    expect(pngSize(png)).toEqual({ width: Math.round(2 * size.width), height: Math.round(2 * size.height) });
    const small = svgToPng(svg, { scale: 1 });
    expect(pngSize(small)).toEqual({ width: Math.round(size.width), height: Math.round(size.height) });
  });

  it('draws the true-σ rules dashed', async () => {
    const svg = await renderSvg(specs[2]![3]);
    expect(svg).toMatch(/stroke-dasharray="6,\s?4"/);
  });

  it('rejects a non-positive scale', () => {
    expect(() =>
      svgToPng('<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>', { scale: 0 }),
    ).toThrow(RangeError);
  });
});

describe('writePlot', () => {
  it('writes the SVG and PNG atomically into a missing directory and leaves no temp file', async () => {
    const base = join(dir, 'plots', 'nested', 'sigma');
    const paths = await writePlot(specs[2]![3], base);
    expect(paths).toEqual({ svg: `${base}.svg`, png: `${base}.png` });
    expect(await readFile(paths.svg, 'utf8')).toContain('<svg');
    expect(pngSize(await readFile(paths.png)).width).toBeGreaterThan(1000);
    expect((await readdir(join(dir, 'plots', 'nested'))).sort()).toEqual(['sigma.png', 'sigma.svg']);
  });
});

describe('writeFileAtomic', () => {
  it('replaces an existing file', async () => {
    const target = join(dir, 'replace.txt');
    await writeFile(target, 'old');
    await writeFileAtomic(target, 'new');
    await writeFileAtomic(target, new Uint8Array([0x41, 0x42]));
    expect(await readFile(target, 'utf8')).toBe('AB');
    expect(await readdir(dir)).not.toContain(`replace.txt.${process.pid}.tmp`);
  });

  it('keeps the old file when the temp file cannot be written', async () => {
    // a directory squatting on the temp name makes the write fail even for root
    const target = join(dir, 'keep.txt');
    await writeFile(target, 'old');
    await mkdir(`${target}.${process.pid}.tmp`);
    await expect(writeFileAtomic(target, 'new')).rejects.toThrow();
    expect(await readFile(target, 'utf8')).toBe('old');
    await rm(`${target}.${process.pid}.tmp`, { recursive: true });
  });

  it('removes the temp file when the final rename fails', async () => {
    // renaming a file over a non-empty directory fails with EISDIR / ENOTEMPTY
    const target = join(dir, 'occupied');
    await mkdir(target);
    await writeFile(join(target, 'inner'), 'keep');
    await expect(writeFileAtomic(target, 'new')).rejects.toThrow();
    expect(await readFile(join(target, 'inner'), 'utf8')).toBe('keep');
    expect(await readdir(dir)).not.toContain(`occupied.${process.pid}.tmp`);
  });
});
