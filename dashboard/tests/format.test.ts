import { flakiness, formatDuration, formatFlakiness, formatPercent, formatRelative } from "@/lib/format";

describe("flakiness", () => {
  it("is the transition rate scaled by how close the pass rate is to a coin toss", () => {
    expect(flakiness(0.5, 1)).toBe(1);
    expect(flakiness(1, 0)).toBe(0);
    expect(flakiness(0, 0.5)).toBe(0);
    expect(flakiness(0.75, 0.4)).toBeCloseTo(0.2);
  });
});

describe("formatFlakiness", () => {
  it("shows two decimals and calls a flow flaky at the threshold or above", () => {
    expect(formatFlakiness(0.54)).toEqual({ score: "0.54", flaky: true, label: "flaky" });
    expect(formatFlakiness(0.1)).toEqual({ score: "0.10", flaky: true, label: "flaky" });
    expect(formatFlakiness(0.0999)).toEqual({ score: "0.10", flaky: false, label: "stable" });
    expect(formatFlakiness(0.05, 0.2).flaky).toBe(false);
    expect(formatFlakiness(0.3, 0.2).flaky).toBe(true);
  });

  it("keeps the score within 0..1", () => {
    expect(formatFlakiness(-0.2).score).toBe("0.00");
    expect(formatFlakiness(1.7).score).toBe("1.00");
  });
});

describe("formatDuration and formatPercent", () => {
  it("reads as a person would say it", () => {
    expect(formatDuration(null)).toBe("—");
    expect(formatDuration(230)).toBe("230 ms");
    expect(formatDuration(1690)).toBe("1.69 s");
    expect(formatDuration(12_500)).toBe("12.5 s");
    expect(formatDuration(125_000)).toBe("2m 5s");
    expect(formatDuration(3_900_000)).toBe("1h 5m");
    expect(formatPercent(0.7812, 1)).toBe("78.1%");
    expect(formatPercent(null)).toBe("—");
  });
});

describe("formatRelative", () => {
  const now = Date.parse("2026-01-15T09:00:00Z");
  it("says how long ago or how soon", () => {
    expect(formatRelative("2026-01-15T08:57:00Z", now)).toBe("3 min ago");
    expect(formatRelative("2026-01-15T09:15:00Z", now)).toBe("in 15 min");
    expect(formatRelative("2026-01-13T09:00:00Z", now)).toBe("2 d ago");
    expect(formatRelative("2026-01-15T09:00:02Z", now)).toBe("just now");
    expect(formatRelative(null, now)).toBe("—");
  });
});
