/** A failure the CLI reports in one line (no stack trace: it is the user's, the disk's or the network's), with its exit code. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** Local wall-clock time, HH:MM, for "until HH:MM". */
export function clock(ms: number): string {
  const at = new Date(ms);
  return `${String(at.getHours()).padStart(2, '0')}:${String(at.getMinutes()).padStart(2, '0')}`;
}

export const errorMessage = (error: unknown): string => (error instanceof Error ? error.message : String(error));
