// A run's or a step's status as a coloured label with an icon, so it reads without colour too.
import { Ban, CheckCircle2, CircleDashed, Clock, Loader2, MinusCircle, TimerOff, TriangleAlert, XCircle } from "lucide-react";
import type { ComponentType } from "react";
import { cn } from "@/lib/utils";

interface Look {
  label: string;
  className: string;
  Icon: ComponentType<{ className?: string }>;
}

const LOOKS: Record<string, Look> = {
  passed: { label: "Passed", className: "bg-emerald-100 text-emerald-800 dark:bg-emerald-950 dark:text-emerald-300", Icon: CheckCircle2 },
  failed: { label: "Failed", className: "bg-red-100 text-red-800 dark:bg-red-950 dark:text-red-300", Icon: XCircle },
  error: { label: "Error", className: "bg-orange-100 text-orange-800 dark:bg-orange-950 dark:text-orange-300", Icon: TriangleAlert },
  running: { label: "Running", className: "bg-sky-100 text-sky-800 dark:bg-sky-950 dark:text-sky-300", Icon: Loader2 },
  queued: { label: "Queued", className: "bg-slate-100 text-slate-700 dark:bg-slate-800 dark:text-slate-300", Icon: Clock },
  cancelled: { label: "Cancelled", className: "bg-zinc-100 text-zinc-700 dark:bg-zinc-800 dark:text-zinc-300", Icon: Ban },
  timed_out: { label: "Timed out", className: "bg-amber-100 text-amber-800 dark:bg-amber-950 dark:text-amber-300", Icon: TimerOff },
  skipped: { label: "Skipped", className: "bg-zinc-100 text-zinc-600 dark:bg-zinc-800 dark:text-zinc-400", Icon: MinusCircle },
};

export function statusLook(status: string | null | undefined): Look {
  if (!status) return { label: "Never run", className: "bg-muted text-muted-foreground", Icon: CircleDashed };
  return LOOKS[status] ?? { label: status, className: "bg-muted text-muted-foreground", Icon: CircleDashed };
}

/** `compact` shows the icon alone (the label stays for screen readers and as a tooltip). */
export function StatusBadge({ status, className, compact = false }: { status: string | null | undefined; className?: string; compact?: boolean }) {
  const look = statusLook(status);
  return (
    <span
      data-status={status ?? "none"}
      title={compact ? look.label : undefined}
      className={cn(
        "inline-flex items-center gap-1 rounded-full text-xs font-medium whitespace-nowrap",
        compact ? "p-0.5" : "px-2 py-0.5",
        look.className,
        className,
      )}
    >
      <look.Icon className={cn("size-3.5", status === "running" && "animate-spin")} aria-hidden />
      <span className={cn(compact && "sr-only")}>{look.label}</span>
    </span>
  );
}

/** The bar colour of a status in charts and the waterfall. */
export function statusColor(status: string | null | undefined): string {
  switch (status) {
    case "passed":
      return "bg-emerald-500";
    case "failed":
      return "bg-red-500";
    case "error":
      return "bg-orange-500";
    case "running":
      return "bg-sky-500";
    case "timed_out":
      return "bg-amber-500";
    default:
      return "bg-zinc-400";
  }
}
