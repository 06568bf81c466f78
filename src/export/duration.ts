// A length of time as the config file writes it: "500ms", "1s", "15m", "1h", "1d".

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION = /^(\d+)(ms|s|m|h|d)$/;

/** Milliseconds, or undefined when `text` is not a positive whole number of one unit. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text.trim());
  if (!match) return undefined;
  const ms = Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  return ms > 0 && Number.isSafeInteger(ms) ? ms : undefined;
}

export const DURATION_HINT = 'a whole number and a unit: ms, s, m, h or d, e.g. "1s", "15m", "1h"';
