import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Flags that give headless Chromium a WebGPU adapter: Dawn on SwiftShader's Vulkan (a CPU rasteriser).
 * Without them Debian's Chromium 156 exposes navigator.gpu but requestAdapter() returns null.
 */
export const WEBGPU_ARGS = [
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-webgpu-adapter=swiftshader',
];

/** Debian's Chromium, headless; fails (never skips) when it is not installed. `extraArgs` are appended. */
export async function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM}: install it with \`apt-get install -y chromium\` ` +
        "(npm test's pretest step does) or point CHROMIUM_PATH at a Chromium binary.",
    );
  }
  return chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, ...extraArgs] });
}

export interface PlotItem {
  tag: string;
  width: number;
  height: number;
  natural: number;
  marks: number;
}

export interface ReportPageState {
  /** Console errors and warnings, and uncaught page errors. */
  problems: string[];
  /** Every URL the page requested (the page itself included). */
  requests: string[];
  ok: boolean;
  title: string;
  scripts: number;
  duplicateIds: string[];
  figures: number;
  items: PlotItem[];
  text: string;
}

/** Opens a report page and reads what a person would see: problems, requests and each plot's size. */
export async function inspectReport(page: Page, url: string): Promise<ReportPageState> {
  const problems: string[] = [];
  const requests: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error' || msg.type() === 'warning')
      problems.push(`console ${msg.type()}: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('request', (req) => requests.push(req.url()));
  const response = await page.goto(url, { waitUntil: 'load' });
  const state = await page.evaluate(() => {
    const items = Array.from(document.querySelectorAll('figure.plot > svg, figure.plot > img'));
    const ids = Array.from(document.querySelectorAll('[id]'), (el) => el.id);
    return {
      title: document.title,
      scripts: document.querySelectorAll('script').length,
      duplicateIds: ids.filter((id, i) => ids.indexOf(id) !== i),
      figures: document.querySelectorAll('figure.plot').length,
      items: items.map((el) => {
        const box = el.getBoundingClientRect();
        return {
          tag: el.tagName.toLowerCase(),
          width: box.width,
          height: box.height,
          natural: el instanceof HTMLImageElement ? el.naturalWidth : (el as SVGSVGElement).getBBox().width,
          marks: el.querySelectorAll('path, line, text, rect').length,
        };
      }),
      text: document.body.innerText,
    };
  });
  return { problems, requests, ok: response?.ok() ?? false, ...state };
}
