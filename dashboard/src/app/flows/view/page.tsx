// One flow: its graph with the last run's step results, its run history and its trend.
"use client";

import Link from "next/link";
import { useSearchParams } from "next/navigation";
import { Suspense } from "react";
import { PageHeader } from "@/components/app-shell";
import { FlowGraph } from "@/components/flow-graph";
import { EmptyState, ErrorState, LoadingState } from "@/components/page-states";
import { NotReadyPanel } from "@/components/flow-readiness";
import { StatusBadge } from "@/components/status-badge";
import { TrendChart } from "@/components/trend-chart";
import { Badge } from "@/components/ui/badge";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { formatDuration, formatPercent, formatRelative, formatTime } from "@/lib/format";
import { editorHref, executionHref, flowExecutionsHref } from "@/lib/links";
import { useExecution, useFlow } from "@/lib/queries";

function FlowView() {
  const params = useSearchParams();
  const namespace = params.get("ns") ?? "";
  const name = params.get("name") ?? "";
  const flow = useFlow(namespace, name);
  const lastRunId = flow.data?.history[0]?.runId ?? flow.data?.lastRun?.runId ?? "";
  const lastRun = useExecution(lastRunId);

  if (namespace === "" || name === "") {
    return <EmptyState title="No flow chosen">Open a flow from the flows list.</EmptyState>;
  }
  if (flow.isPending) return <LoadingState rows={8} />;
  if (flow.isError) return <ErrorState error={flow.error} onRetry={() => flow.refetch()} />;
  const data = flow.data;
  return (
    <>
      <PageHeader
        title={data.displayName || data.name}
        description={
          <span className="flex flex-wrap items-center gap-2">
            <span>
              {data.namespace}/{data.name}
            </span>
            {data.tags.map((tag) => (
              <Badge key={tag} variant="outline">
                {tag}
              </Badge>
            ))}
          </span>
        }
        actions={
          <span className="flex items-center gap-3">
            <Link href={editorHref(data.namespace, data.name)} className="text-sm font-medium hover:underline" data-testid="edit-a-copy">
              Edit a copy
            </Link>
            <Link href={flowExecutionsHref(data.namespace, data.name)} className="text-sm text-muted-foreground hover:underline">
              All runs →
            </Link>
          </span>
        }
      />
      <NotReadyPanel flow={data} />
      {data.spec.description && <p className="mb-4 text-sm text-muted-foreground">{data.spec.description}</p>}
      <div className="mb-4 grid grid-cols-3 gap-3">
        <Card>
          <CardHeader>
            <CardDescription>Last run</CardDescription>
          </CardHeader>
          <CardContent>
            <StatusBadge status={data.lastRun?.status} />
          </CardContent>
        </Card>
        <Card>
          <CardHeader>
            <CardDescription>Pass rate</CardDescription>
          </CardHeader>
          <CardContent className="text-xl font-semibold tabular-nums" data-testid="flow-pass-rate">
            {formatPercent(data.passRate)}
          </CardContent>
        </Card>
        <Card>
          <CardHeader>
            <CardDescription>Runs</CardDescription>
          </CardHeader>
          <CardContent className="text-xl font-semibold tabular-nums">{data.runs}</CardContent>
        </Card>
      </div>
      <Card className="mb-4">
        <CardHeader>
          <CardTitle>Steps</CardTitle>
          <CardDescription>{lastRunId ? "Status and duration from the last run" : "Not run yet"}</CardDescription>
        </CardHeader>
        <CardContent>
          <FlowGraph spec={data.spec} lastRun={lastRun.data?.steps} />
        </CardContent>
      </Card>
      <div className="grid gap-4 lg:grid-cols-2">
        <Card>
          <CardHeader>
            <CardTitle>Trend</CardTitle>
            <CardDescription>Pass rate and duration per bucket</CardDescription>
          </CardHeader>
          <CardContent>{data.trend.length === 0 ? <EmptyState title="No trend yet">It fills in as the flow runs.</EmptyState> : <TrendChart buckets={data.trend} />}</CardContent>
        </Card>
        <Card>
          <CardHeader>
            <CardTitle>Run history</CardTitle>
          </CardHeader>
          <CardContent>
            {data.history.length === 0 ? (
              <EmptyState title="No runs yet" />
            ) : (
              <Table data-testid="history-table">
                <TableHeader>
                  <TableRow>
                    <TableHead>Status</TableHead>
                    <TableHead>Started</TableHead>
                    <TableHead className="text-right">Duration</TableHead>
                  </TableRow>
                </TableHeader>
                <TableBody>
                  {data.history.map((run) => (
                    <TableRow key={run.runId}>
                      <TableCell>
                        <Link href={executionHref(run.runId)} aria-label={`Run ${run.runId}`}>
                          <StatusBadge status={run.status} />
                        </Link>
                      </TableCell>
                      <TableCell title={formatTime(run.startedAt)}>
                        <Link href={executionHref(run.runId)} className="hover:underline">
                          {formatRelative(run.startedAt)}
                        </Link>
                      </TableCell>
                      <TableCell className="text-right tabular-nums">{formatDuration(run.durationMs)}</TableCell>
                    </TableRow>
                  ))}
                </TableBody>
              </Table>
            )}
          </CardContent>
        </Card>
      </div>
    </>
  );
}

export default function FlowViewPage() {
  return (
    <Suspense fallback={<LoadingState rows={8} />}>
      <FlowView />
    </Suspense>
  );
}
