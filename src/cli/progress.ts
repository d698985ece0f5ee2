import cliProgress from 'cli-progress';

export interface Progress {
  update(done: number, fields: Record<string, string>): void;
  stop(): void;
}

/**
 * A progress bar on stderr when it is a terminal; elsewhere (CI, pipes) a plain line every 10 %.
 * `quiet` silences both.
 */
export function createProgress(label: string, total: number, fieldNames: string[], quiet: boolean): Progress {
  if (quiet) return { update() {}, stop() {} };
  const fieldsText = (f: Record<string, string>) => fieldNames.map((k) => `${k} ${f[k] ?? ''}`).join(' | ');
  if (!process.stderr.isTTY) {
    let nextTenth = 1;
    return {
      update(done, fields) {
        if (done * 10 >= nextTenth * total) {
          while (done * 10 >= nextTenth * total) nextTenth++;
          process.stderr.write(`${label} ${done}/${total} | ${fieldsText(fields)}\n`);
        }
      },
      stop() {},
    };
  }
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${label} |{bar}| {value}/{total} | ${fieldNames.map((k) => `${k} {${k}}`).join(' | ')} | ETA {eta_formatted}`,
      hideCursor: true,
      clearOnComplete: false,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, Object.fromEntries(fieldNames.map((k) => [k, '…'])));
  return {
    update: (done, fields) => bar.update(done, fields),
    stop: () => bar.stop(),
  };
}
