// How numbers and times read on screen: durations, rates, flakiness, timestamps.

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms % 60_000) / 1000);
  if (minutes < 60) return `${minutes}m ${seconds}s`;
  return `${Math.floor(minutes / 60)}h ${minutes % 60}m`;
}

export function formatPercent(rate: number | null | undefined, digits = 0): string {
  if (rate === null || rate === undefined || Number.isNaN(rate)) return "—";
  return `${(rate * 100).toFixed(digits)}%`;
}

/** flakiness = transition rate × (1 − 2·|pass rate − 0.5|): 0 for a steady flow, 1 for a coin that flips every run. */
export function flakiness(passRate: number, transitionRate: number): number {
  return transitionRate * (1 - 2 * Math.abs(passRate - 0.5));
}

export interface FlakinessLabel {
  score: string;
  flaky: boolean;
  label: string;
}

export function formatFlakiness(value: number, threshold = 0.1): FlakinessLabel {
  const clamped = Math.min(Math.max(value, 0), 1);
  const flaky = clamped >= threshold;
  return { score: clamped.toFixed(2), flaky, label: flaky ? "flaky" : "stable" };
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString(undefined, { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

/** "3 min ago", "in 2 h": relative to `now` (a parameter so tests are steady). */
export function formatRelative(iso: string | null | undefined, now: number = Date.now()): string {
  if (!iso) return "—";
  const time = new Date(iso).getTime();
  if (Number.isNaN(time)) return iso;
  const seconds = Math.round((time - now) / 1000);
  const abs = Math.abs(seconds);
  const units: [number, string][] = [
    [86_400, "d"],
    [3_600, "h"],
    [60, "min"],
    [1, "s"],
  ];
  if (abs < 5) return "just now";
  for (const [size, unit] of units) {
    if (abs >= size) {
      const count = Math.floor(abs / size);
      return seconds < 0 ? `${count} ${unit} ago` : `in ${count} ${unit}`;
    }
  }
  return "just now";
}

export function formatValue(value: unknown): string {
  if (value === undefined) return "undefined";
  if (typeof value === "string") return JSON.stringify(value);
  return JSON.stringify(value) ?? String(value);
}
