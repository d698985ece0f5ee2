/** Node-only rendering of the Vega-Lite specs from `src/plot/specs.ts` to SVG and PNG files. */
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { writeFileAtomic } from './atomic-write.js';

/** Renders a Vega-Lite spec to an SVG string, headless (no canvas or DOM needed). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    // releases the dataflow's timers and listeners so a long CLI run doesn't accumulate views
    view.finalize();
  }
}

/** Rasterises an SVG to PNG at `scale`× its nominal size (default 2, for crisp text). */
export function svgToPng(svg: string, opts: { scale?: number } = {}): Buffer {
  const scale = opts.scale ?? 2;
  if (!(Number.isFinite(scale) && scale > 0)) throw new RangeError(`scale must be > 0, got ${scale}`);
  const resvg = new Resvg(svg, {
    background: 'white',
    fitTo: { mode: 'zoom', value: scale },
    // vega emits generic `sans-serif`; pin it to a font that is actually installed so text renders
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' },
  });
  return resvg.render().asPng();
}

/** Writes `${basePath}.svg` and `${basePath}.png` atomically, creating the directory if missing. */
export async function writePlot(spec: TopLevelSpec, basePath: string): Promise<{ svg: string; png: string }> {
  const svg = await renderSvg(spec);
  const png = svgToPng(svg);
  const paths = { svg: `${basePath}.svg`, png: `${basePath}.png` };
  await writeFileAtomic(paths.svg, svg);
  await writeFileAtomic(paths.png, png);
  return paths;
}
