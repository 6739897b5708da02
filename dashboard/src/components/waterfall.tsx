// The run's step timeline: one row per step attempt, a bar placed where it ran on the time axis.
import { formatDuration } from "@/lib/format";
import type { ExecutionStep } from "@/lib/types";
import { cn } from "@/lib/utils";
import { waterfallBars } from "@/lib/waterfall";
import { statusColor, StatusBadge } from "./status-badge";

export function stepKey(step: Pick<ExecutionStep, "stepIndex" | "attempt">): string {
  return `${step.stepIndex}:${step.attempt}`;
}

export function Waterfall({ steps, selected, onSelect }: { steps: ExecutionStep[]; selected?: string; onSelect?: (key: string) => void }) {
  const { totalMs, bars } = waterfallBars(steps.map((step) => ({ key: stepKey(step), startedAt: step.startedAt, durationMs: step.durationMs })));
  return (
    <div data-testid="waterfall" className="flex flex-col gap-1">
      <div className="grid grid-cols-[1fr_4.5rem] text-[10px] text-muted-foreground sm:grid-cols-[40%_1fr_4.5rem] sm:gap-2">
        <span className="hidden sm:block" />
        <span className="flex justify-between">
          <span>0</span>
          <span>{formatDuration(totalMs)}</span>
        </span>
      </div>
      {steps.map((step, index) => {
        const bar = bars[index];
        const key = stepKey(step);
        return (
          <button
            type="button"
            key={key}
            onClick={() => onSelect?.(key)}
            data-testid="waterfall-row"
            className={cn(
              "grid grid-cols-[1fr_4.5rem] items-center gap-x-2 gap-y-1 rounded px-1 py-1 text-left text-xs hover:bg-muted sm:grid-cols-[40%_1fr_4.5rem]",
              selected === key && "bg-muted ring-1 ring-ring",
            )}
          >
            <span className="col-span-2 flex min-w-0 items-center gap-2 sm:col-span-1">
              <StatusBadge status={step.status} compact className="shrink-0" />
              <span className="truncate font-medium">{step.name ?? step.stepId}</span>
              {step.phase !== "main" && <span className="shrink-0 rounded bg-muted px-1 text-[10px] uppercase text-muted-foreground">{step.phase}</span>}
              {step.attempt > 1 && <span className="shrink-0 text-[10px] text-muted-foreground">try {step.attempt}</span>}
            </span>
            <span className="relative flex h-5 items-center rounded bg-muted/60">
              <span
                data-testid="waterfall-bar"
                className={cn("absolute h-3 rounded-sm", statusColor(step.status))}
                style={{ left: `${bar.offsetPct}%`, width: `${bar.widthPct}%` }}
              />
            </span>
            <span className="text-right text-[10px] tabular-nums text-muted-foreground">{formatDuration(step.durationMs)}</span>
          </button>
        );
      })}
    </div>
  );
}
