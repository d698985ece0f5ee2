export { setupBackend, NODE_BACKENDS, type NodeBackend } from './backend.js';
export { writeFileAtomic } from './atomic-write.js';
export { renderSvg, svgToPng, writePlot } from './render.js';
export { writeSeedToyReport, type SeedToyReportFiles } from './seed-toy-report.js';
