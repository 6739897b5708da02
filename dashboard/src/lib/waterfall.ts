// Places each step on the run's time axis: where its bar starts and how wide it is, in percent.

export interface TimedItem {
  key: string;
  startedAt: string | null;
  durationMs: number | null;
}

export interface Bar {
  key: string;
  offsetPct: number;
  widthPct: number;
}

/** The narrowest bar drawn, so a 0 ms step still shows. */
export const MIN_WIDTH_PCT = 0.5;

export function waterfallBars(items: TimedItem[]): { totalMs: number; bars: Bar[] } {
  const timed = items
    .filter((item) => item.startedAt !== null)
    .map((item) => ({ ...item, start: new Date(item.startedAt as string).getTime(), duration: Math.max(item.durationMs ?? 0, 0) }));
  if (timed.length === 0) {
    return { totalMs: 0, bars: items.map((item) => ({ key: item.key, offsetPct: 0, widthPct: 0 })) };
  }
  const runStart = Math.min(...timed.map((item) => item.start));
  const runEnd = Math.max(...timed.map((item) => item.start + item.duration));
  const totalMs = runEnd - runStart;
  const byKey = new Map(timed.map((item) => [item.key, item]));
  const bars = items.map((item) => {
    const found = byKey.get(item.key);
    if (!found) return { key: item.key, offsetPct: 0, widthPct: 0 };
    if (totalMs === 0) return { key: item.key, offsetPct: 0, widthPct: 100 };
    const offsetPct = ((found.start - runStart) / totalMs) * 100;
    const widthPct = Math.min(Math.max((found.duration / totalMs) * 100, MIN_WIDTH_PCT), 100 - offsetPct);
    return { key: item.key, offsetPct, widthPct: Math.max(widthPct, 0) };
  });
  return { totalMs, bars };
}
