import { existsSync } from 'node:fs';
import { TrainingDivergedError } from '../train/options.js';

/** An error whose message is meant for the user as is: printed without a stack trace. */
export class UsageError extends Error {
  override name = 'UsageError';
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
  }
}

/**
 * A diverged run as the CLI reports it: the loop's one line, plus that no model was written and where
 * the last good checkpoint is (when there is one); exit code 1. Other errors pass through unchanged.
 */
export function reportDivergence(err: unknown, checkpointDir: string): unknown {
  if (!(err instanceof TrainingDivergedError)) return err;
  const kept = existsSync(checkpointDir) ? `; the last good checkpoint is kept in ${checkpointDir}` : '';
  return new UsageError(`${err.message} (--lr); no model was written${kept}`, 1);
}
