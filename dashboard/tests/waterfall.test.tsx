import { render, screen } from "@testing-library/react";
import { Waterfall } from "@/components/waterfall";
import type { ExecutionStep } from "@/lib/types";
import { MIN_WIDTH_PCT, waterfallBars } from "@/lib/waterfall";

const T0 = Date.parse("2026-01-15T09:00:00.000Z");
const at = (ms: number) => new Date(T0 + ms).toISOString();

describe("waterfallBars", () => {
  it("places each step by its start and sizes it by its duration", () => {
    const { totalMs, bars } = waterfallBars([
      { key: "a", startedAt: at(0), durationMs: 250 },
      { key: "b", startedAt: at(250), durationMs: 500 },
      { key: "c", startedAt: at(750), durationMs: 250 },
    ]);
    expect(totalMs).toBe(1000);
    expect(bars).toEqual([
      { key: "a", offsetPct: 0, widthPct: 25 },
      { key: "b", offsetPct: 25, widthPct: 50 },
      { key: "c", offsetPct: 75, widthPct: 25 },
    ]);
  });

  it("keeps a 0 ms step visible and a step that never started empty", () => {
    const { bars } = waterfallBars([
      { key: "a", startedAt: at(0), durationMs: 1000 },
      { key: "b", startedAt: at(1000), durationMs: 0 },
      { key: "c", startedAt: null, durationMs: null },
    ]);
    expect(bars[1].widthPct).toBe(0);
    expect(bars[2]).toEqual({ key: "c", offsetPct: 0, widthPct: 0 });
    const { bars: early } = waterfallBars([
      { key: "a", startedAt: at(0), durationMs: 0 },
      { key: "b", startedAt: at(0), durationMs: 1000 },
    ]);
    expect(early[0].widthPct).toBe(MIN_WIDTH_PCT);
  });

  it("fills the whole axis when every step took no time", () => {
    expect(waterfallBars([{ key: "a", startedAt: at(0), durationMs: 0 }]).bars[0].widthPct).toBe(100);
    expect(waterfallBars([]).totalMs).toBe(0);
  });
});

function step(stepIndex: number, start: number, duration: number, status: ExecutionStep["status"] = "passed"): ExecutionStep {
  return {
    stepIndex,
    stepId: `step_${stepIndex + 1}`,
    name: null,
    action: "http_request",
    phase: "main",
    status,
    attempt: 1,
    startedAt: at(start),
    durationMs: duration,
    assertions: [],
    captured: {},
    request: null,
    response: null,
    error: null,
  };
}

describe("Waterfall", () => {
  it("draws bars with the widths and offsets of the steps", () => {
    render(<Waterfall steps={[step(0, 0, 100), step(1, 100, 300, "failed")]} />);
    const bars = screen.getAllByTestId("waterfall-bar");
    expect(bars[0].style.left).toBe("0%");
    expect(bars[0].style.width).toBe("25%");
    expect(bars[1].style.left).toBe("25%");
    expect(bars[1].style.width).toBe("75%");
    expect(bars[1]).toHaveClass("bg-red-500");
    expect(screen.getByText("400 ms")).toBeInTheDocument();
    expect(screen.getByText("step_2")).toBeInTheDocument();
  });
});
