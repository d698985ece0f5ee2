/** A small canvas 2D chart: axes with ticks, lines, points, bands and reference lines. No dependencies. */

export interface Line {
  label?: string;
  color: string;
  xs: ArrayLike<number>;
  ys: ArrayLike<number>;
  width?: number;
  dash?: number[];
}

export interface Points {
  color: string;
  xs: ArrayLike<number>;
  ys: ArrayLike<number>;
  radius?: number;
}

export interface Band {
  color: string;
  xs: ArrayLike<number>;
  lower: ArrayLike<number>;
  upper: ArrayLike<number>;
}

export interface RefLine {
  label?: string;
  color: string;
  y: number;
}

export interface ChartSpec {
  xLabel: string;
  yLabel: string;
  logY?: boolean;
  lines?: Line[];
  points?: Points[];
  bands?: Band[];
  refLines?: RefLine[];
  /** Fixed x range; default: the data's. */
  xDomain?: [number, number];
  /** Text drawn when there is nothing to plot yet. */
  empty?: string;
}

const MARGIN = { left: 58, right: 14, top: 26, bottom: 38 };
const FONT = '12px system-ui, -apple-system, "Segoe UI", sans-serif';

/** "Nice" tick values covering [lo, hi]. */
function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step)
    out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

/** Ticks for a log axis spanning exponents [e0, e1]: powers of ten, plus 2× and 5× when the span is short. */
function logTicks(e0: number, e1: number): number[] {
  const out: number[] = [];
  const mults = e1 - e0 < 1.5 ? [1, 2, 5] : [1];
  for (let e = Math.floor(e0); e <= Math.ceil(e1); e++) {
    for (const m of mults) {
      const v = m * 10 ** e;
      const l = Math.log10(v);
      if (l >= e0 && l <= e1) out.push(v);
    }
  }
  return out;
}

function formatTick(v: number): string {
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a >= 1e4 || a < 1e-3) return v.toExponential(0);
  return String(Number(v.toPrecision(4)));
}

function extent(values: Iterable<number>, positiveOnly: boolean): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v) || (positiveOnly && v <= 0)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

function* each(a: ArrayLike<number>): Generator<number> {
  for (let i = 0; i < a.length; i++) yield a[i]!;
}

export class Chart {
  private readonly ctx: CanvasRenderingContext2D;

  constructor(private readonly canvas: HTMLCanvasElement) {
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('canvas 2D is not available');
    this.ctx = ctx;
  }

  draw(spec: ChartSpec): void {
    const { canvas, ctx } = this;
    const dpr = window.devicePixelRatio || 1;
    const cssW = canvas.clientWidth || 400;
    const cssH = canvas.clientHeight || 260;
    if (canvas.width !== Math.round(cssW * dpr) || canvas.height !== Math.round(cssH * dpr)) {
      canvas.width = Math.round(cssW * dpr);
      canvas.height = Math.round(cssH * dpr);
    }
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, cssW, cssH);
    ctx.font = FONT;

    const logY = spec.logY ?? false;
    const lines = spec.lines ?? [];
    const points = spec.points ?? [];
    const bands = spec.bands ?? [];
    const refs = spec.refLines ?? [];
    const allX = [
      ...lines.flatMap((l) => [...each(l.xs)]),
      ...points.flatMap((p) => [...each(p.xs)]),
      ...bands.flatMap((b) => [...each(b.xs)]),
    ];
    const allY = [
      ...lines.flatMap((l) => [...each(l.ys)]),
      ...points.flatMap((p) => [...each(p.ys)]),
      ...bands.flatMap((b) => [...each(b.lower), ...each(b.upper)]),
      ...refs.map((r) => r.y),
    ];
    let [x0, x1] = spec.xDomain ?? extent(allX, false);
    let [y0, y1] = extent(allY, logY);
    const plotW = cssW - MARGIN.left - MARGIN.right;
    const plotH = cssH - MARGIN.top - MARGIN.bottom;

    ctx.fillStyle = '#444';
    ctx.textAlign = 'center';
    ctx.textBaseline = 'alphabetic';
    ctx.fillText(spec.xLabel, MARGIN.left + plotW / 2, cssH - 6);
    ctx.save();
    ctx.translate(13, MARGIN.top + plotH / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.fillText(spec.yLabel + (logY ? ' (log)' : ''), 0, 0);
    ctx.restore();

    if (!Number.isFinite(x0) || !Number.isFinite(y0)) {
      ctx.fillStyle = '#999';
      ctx.fillText(spec.empty ?? 'no data yet', MARGIN.left + plotW / 2, MARGIN.top + plotH / 2);
      return;
    }
    if (x1 === x0) [x0, x1] = [x0 - 1, x1 + 1];
    if (logY) {
      let [l0, l1] = [Math.log10(y0), Math.log10(y1)];
      if (l1 - l0 < 0.3) [l0, l1] = [l0 - 0.15, l1 + 0.15];
      [y0, y1] = [l0, l1];
    } else {
      if (y1 === y0) [y0, y1] = [y0 - 1, y1 + 1];
      const pad = (y1 - y0) * 0.05;
      [y0, y1] = [y0 - pad, y1 + pad];
    }
    const tx = (v: number) => MARGIN.left + ((v - x0) / (x1 - x0)) * plotW;
    const ty = (v: number) => {
      const u = logY ? Math.log10(v) : v;
      return MARGIN.top + (1 - (u - y0) / (y1 - y0)) * plotH;
    };

    // grid and ticks
    ctx.strokeStyle = '#e6e6e6';
    ctx.lineWidth = 1;
    ctx.fillStyle = '#555';
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    for (const v of niceTicks(x0, x1, Math.max(3, Math.round(plotW / 90)))) {
      const px = tx(v);
      ctx.beginPath();
      ctx.moveTo(px, MARGIN.top);
      ctx.lineTo(px, MARGIN.top + plotH);
      ctx.stroke();
      ctx.fillText(formatTick(v), px, MARGIN.top + plotH + 4);
    }
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    const yTicks = logY ? logTicks(y0, y1) : niceTicks(y0, y1, Math.max(3, Math.round(plotH / 45)));
    for (const v of yTicks) {
      const py = ty(v);
      ctx.beginPath();
      ctx.moveTo(MARGIN.left, py);
      ctx.lineTo(MARGIN.left + plotW, py);
      ctx.stroke();
      ctx.fillText(formatTick(v), MARGIN.left - 5, py);
    }
    ctx.strokeStyle = '#999';
    ctx.strokeRect(MARGIN.left, MARGIN.top, plotW, plotH);

    ctx.save();
    ctx.beginPath();
    ctx.rect(MARGIN.left, MARGIN.top, plotW, plotH);
    ctx.clip();
    for (const b of bands) {
      ctx.fillStyle = b.color;
      ctx.beginPath();
      for (let i = 0; i < b.xs.length; i++) {
        const px = tx(b.xs[i]!);
        const py = ty(b.upper[i]!);
        if (i === 0) ctx.moveTo(px, py);
        else ctx.lineTo(px, py);
      }
      for (let i = b.xs.length - 1; i >= 0; i--) ctx.lineTo(tx(b.xs[i]!), ty(b.lower[i]!));
      ctx.closePath();
      ctx.fill();
    }
    for (const p of points) {
      ctx.fillStyle = p.color;
      const r = p.radius ?? 2.5;
      for (let i = 0; i < p.xs.length; i++) {
        ctx.beginPath();
        ctx.arc(tx(p.xs[i]!), ty(p.ys[i]!), r, 0, 2 * Math.PI);
        ctx.fill();
      }
    }
    for (const r of refs) {
      ctx.strokeStyle = r.color;
      ctx.lineWidth = 1.5;
      ctx.setLineDash([6, 4]);
      ctx.beginPath();
      ctx.moveTo(MARGIN.left, ty(r.y));
      ctx.lineTo(MARGIN.left + plotW, ty(r.y));
      ctx.stroke();
    }
    for (const l of lines) {
      ctx.strokeStyle = l.color;
      ctx.lineWidth = l.width ?? 2;
      ctx.setLineDash(l.dash ?? []);
      ctx.beginPath();
      let started = false;
      for (let i = 0; i < l.xs.length; i++) {
        const y = l.ys[i]!;
        if (!Number.isFinite(y) || (logY && y <= 0)) {
          started = false;
          continue;
        }
        const px = tx(l.xs[i]!);
        const py = ty(y);
        if (started) ctx.lineTo(px, py);
        else ctx.moveTo(px, py);
        started = true;
      }
      ctx.stroke();
    }
    ctx.restore();
    ctx.setLineDash([]);

    // legend, top right, one row
    const entries = [
      ...lines.filter((l) => l.label).map((l) => ({ label: l.label!, color: l.color, dash: l.dash ?? [] })),
      ...refs.filter((r) => r.label).map((r) => ({ label: r.label!, color: r.color, dash: [6, 4] })),
    ];
    ctx.textAlign = 'left';
    ctx.textBaseline = 'middle';
    let lx = MARGIN.left + plotW;
    for (const e of [...entries].reverse()) {
      const w = ctx.measureText(e.label).width + 26;
      lx -= w;
      ctx.strokeStyle = e.color;
      ctx.lineWidth = 2;
      ctx.setLineDash(e.dash);
      ctx.beginPath();
      ctx.moveTo(lx, MARGIN.top - 12);
      ctx.lineTo(lx + 16, MARGIN.top - 12);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.fillStyle = '#333';
      ctx.fillText(e.label, lx + 20, MARGIN.top - 12);
      lx -= 6;
    }
  }
}
