// A table of runs; on a phone the less important columns step aside.
import Link from "next/link";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { formatDuration, formatRelative, formatTime } from "@/lib/format";
import { executionHref, flowHref } from "@/lib/links";
import type { Execution } from "@/lib/types";
import { StatusBadge } from "./status-badge";

export function ExecutionsTable({ runs, showFlow = true }: { runs: Execution[]; showFlow?: boolean }) {
  return (
    <Table data-testid="executions-table">
      <TableHeader>
        <TableRow>
          <TableHead>Status</TableHead>
          {showFlow && <TableHead>Flow</TableHead>}
          <TableHead className="hidden sm:table-cell">Trigger</TableHead>
          <TableHead className="hidden lg:table-cell">Environment</TableHead>
          <TableHead>Started</TableHead>
          <TableHead className="text-right">Duration</TableHead>
          <TableHead className="hidden md:table-cell text-right">Steps</TableHead>
        </TableRow>
      </TableHeader>
      <TableBody>
        {runs.map((run) => (
          <TableRow key={run.runId} data-testid="execution-row">
            <TableCell>
              <Link href={executionHref(run.runId)} className="hover:underline" aria-label={`Run ${run.runId}`}>
                <StatusBadge status={run.status} compact className="sm:hidden" />
                <StatusBadge status={run.status} className="hidden sm:inline-flex" />
              </Link>
            </TableCell>
            {showFlow && (
              <TableCell className="max-w-[14rem]">
                <Link href={flowHref(run.namespace, run.flowName)} className="block truncate font-medium hover:underline">
                  {run.flowName}
                </Link>
                <span className="block truncate text-xs text-muted-foreground">{run.namespace}</span>
              </TableCell>
            )}
            <TableCell className="hidden sm:table-cell text-muted-foreground">
              {run.trigger}
              {run.draft && (
                <span data-testid="draft-badge" className="ml-1 rounded bg-violet-100 px-1 text-[10px] font-medium text-violet-800 dark:bg-violet-950 dark:text-violet-300">
                  draft
                </span>
              )}
            </TableCell>
            <TableCell className="hidden lg:table-cell text-muted-foreground">{run.environment ?? "—"}</TableCell>
            <TableCell className="whitespace-nowrap" title={formatTime(run.startedAt ?? run.queuedAt)}>
              <Link href={executionHref(run.runId)} className="hover:underline">
                {formatRelative(run.startedAt ?? run.queuedAt)}
              </Link>
            </TableCell>
            <TableCell className="text-right tabular-nums">{formatDuration(run.durationMs)}</TableCell>
            <TableCell className="hidden md:table-cell text-right tabular-nums">
              <span className="text-emerald-700 dark:text-emerald-400">{run.passedSteps}</span>
              {" / "}
              <span className={run.failedSteps > 0 ? "text-red-700 dark:text-red-400" : "text-muted-foreground"}>{run.failedSteps}</span>
            </TableCell>
          </TableRow>
        ))}
      </TableBody>
    </Table>
  );
}
