// One run: summary, the step waterfall, and the chosen step's details; follows the run live
// while it is queued or running.
"use client";

import Link from "next/link";
import { useSearchParams } from "next/navigation";
import { Suspense, useState } from "react";
import { PageHeader } from "@/components/app-shell";
import { EmptyState, ErrorState, LoadingState } from "@/components/page-states";
import { StatusBadge } from "@/components/status-badge";
import { StepDetail } from "@/components/step-detail";
import { stepKey, Waterfall } from "@/components/waterfall";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { formatDuration, formatTime, formatValue } from "@/lib/format";
import { flowHref } from "@/lib/links";
import { useExecution, useExecutionEvents } from "@/lib/queries";
import type { ExecutionStep } from "@/lib/types";

/** The step to open first: the first that did not pass, else the first. */
function firstInteresting(steps: ExecutionStep[]): ExecutionStep | undefined {
  return steps.find((s) => s.status === "failed" || s.status === "error") ?? steps[0];
}

function Fact({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div className="min-w-0">
      <dt className="text-xs text-muted-foreground">{label}</dt>
      <dd className="truncate text-sm">{children}</dd>
    </div>
  );
}

function ExecutionView() {
  const params = useSearchParams();
  const runId = params.get("id") ?? "";
  const run = useExecution(runId);
  const live = useExecutionEvents(runId, run.data?.status);
  const [selected, setSelected] = useState<string | undefined>(undefined);

  if (runId === "") return <EmptyState title="No run chosen">Open a run from the executions list.</EmptyState>;
  if (run.isPending) return <LoadingState rows={8} />;
  if (run.isError) return <ErrorState error={run.error} onRetry={() => run.refetch()} />;
  const data = run.data;
  const chosen = data.steps.find((s) => stepKey(s) === selected) ?? firstInteresting(data.steps);
  const captured = data.steps.flatMap((s) => Object.entries(s.captured ?? {}));

  return (
    <>
      <PageHeader
        title={
          <span className="flex flex-wrap items-center gap-2">
            <Link href={flowHref(data.namespace, data.flowName)} className="hover:underline">
              {data.flowName}
            </Link>
            <StatusBadge status={data.status} className="text-sm" />
            {live === "live" && (
              <span className="inline-flex items-center gap-1 text-xs font-normal text-sky-600 dark:text-sky-400" data-testid="live">
                <span className="size-2 animate-pulse rounded-full bg-sky-500" />
                live
              </span>
            )}
          </span>
        }
        description={<span className="font-mono text-xs break-all">{data.runId}</span>}
      />
      <Card className="mb-4">
        <CardContent className="pt-4">
          <dl className="grid grid-cols-2 gap-3 sm:grid-cols-3 lg:grid-cols-6">
            <Fact label="Namespace">{data.namespace}</Fact>
            <Fact label="Trigger">{data.trigger}</Fact>
            <Fact label="Environment">{data.environment ?? "—"}</Fact>
            <Fact label="Started">{formatTime(data.startedAt ?? data.queuedAt)}</Fact>
            <Fact label="Duration">{formatDuration(data.durationMs)}</Fact>
            <Fact label="Steps">
              <span className="text-emerald-700 dark:text-emerald-400">{data.passedSteps} passed</span>,{" "}
              <span className={data.failedSteps > 0 ? "text-red-700 dark:text-red-400" : ""}>{data.failedSteps} failed</span>
            </Fact>
          </dl>
          {data.error && (
            <p role="alert" className="mt-3 rounded-md border border-red-300 bg-red-50 p-3 text-sm text-red-900 dark:border-red-900 dark:bg-red-950/40 dark:text-red-200">
              {data.error}
            </p>
          )}
        </CardContent>
      </Card>
      {data.steps.length === 0 ? (
        <EmptyState title={data.status === "queued" ? "Waiting for an executor" : "No steps recorded"}>
          {data.status === "queued" || data.status === "running" ? "Steps appear here as they run." : "This run ended before any step ran."}
        </EmptyState>
      ) : (
        <div className="grid gap-4 xl:grid-cols-[minmax(0,5fr)_minmax(0,6fr)]">
          <Card className="self-start">
            <CardHeader>
              <CardTitle>Timeline</CardTitle>
              <CardDescription>Each step attempt where it ran; pick one to see its details</CardDescription>
            </CardHeader>
            <CardContent>
              <Waterfall steps={data.steps} selected={chosen ? stepKey(chosen) : undefined} onSelect={setSelected} />
            </CardContent>
          </Card>
          <div className="flex flex-col gap-4">
            <Card>
              <CardContent className="pt-4">{chosen && <StepDetail key={stepKey(chosen)} step={chosen} />}</CardContent>
            </Card>
            <Card>
              <CardHeader>
                <CardTitle>Captured variables</CardTitle>
                <CardDescription>Every value the run captured, in order</CardDescription>
              </CardHeader>
              <CardContent>
                {captured.length === 0 ? (
                  <p className="text-xs text-muted-foreground">No values captured.</p>
                ) : (
                  <dl className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-1 font-mono text-xs" data-testid="run-captured">
                    {captured.map(([name, value], index) => (
                      <div key={`${name}-${index}`} className="contents">
                        <dt className="text-muted-foreground">{name}</dt>
                        <dd className="break-all">{formatValue(value)}</dd>
                      </div>
                    ))}
                  </dl>
                )}
              </CardContent>
            </Card>
          </div>
        </div>
      )}
    </>
  );
}

export default function ExecutionViewPage() {
  return (
    <Suspense fallback={<LoadingState rows={8} />}>
      <ExecutionView />
    </Suspense>
  );
}
