// Overview: what someone checks first in the morning — pass rate, failing flows, recent runs,
// flaky flows — refreshed by the live feed of runs.
"use client";

import Link from "next/link";
import { PageHeader } from "@/components/app-shell";
import { ExecutionsTable } from "@/components/executions-table";
import { FlakyTable } from "@/components/flaky-table";
import { EmptyState, ErrorState, LoadingState } from "@/components/page-states";
import { StatusBadge } from "@/components/status-badge";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { formatPercent, formatRelative } from "@/lib/format";
import { executionHref, flowHref } from "@/lib/links";
import { useLiveRuns, useOverview } from "@/lib/queries";
import { cn } from "@/lib/utils";

const FLAKY_THRESHOLD = 0.1;

function Stat({ label, value, tone }: { label: string; value: string; tone?: "good" | "bad" | "warn" }) {
  return (
    <Card>
      <CardHeader>
        <CardDescription>{label}</CardDescription>
      </CardHeader>
      <CardContent>
        <p
          data-testid={`stat-${label.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`}
          className={cn(
            "text-2xl font-semibold tabular-nums",
            tone === "good" && "text-emerald-600 dark:text-emerald-400",
            tone === "bad" && "text-red-600 dark:text-red-400",
            tone === "warn" && "text-amber-600 dark:text-amber-400",
          )}
        >
          {value}
        </p>
      </CardContent>
    </Card>
  );
}

export default function OverviewPage() {
  const overview = useOverview();
  useLiveRuns();
  return (
    <>
      <PageHeader title="Overview" description="The last 24 hours across every namespace" />
      {overview.isPending && <LoadingState rows={6} />}
      {overview.isError && <ErrorState error={overview.error} onRetry={() => overview.refetch()} />}
      {overview.data && (
        <div className="flex flex-col gap-4">
          <div className="grid grid-cols-2 gap-3 lg:grid-cols-4">
            <Stat
              label="Pass rate (24h)"
              value={formatPercent(overview.data.passRate24h, 1)}
              tone={overview.data.passRate24h === null ? undefined : overview.data.passRate24h >= 0.95 ? "good" : overview.data.passRate24h >= 0.8 ? "warn" : "bad"}
            />
            <Stat label="Runs (24h)" value={String(overview.data.runs24h)} />
            <Stat label="Failing flows" value={String(overview.data.failingFlows.length)} tone={overview.data.failingFlows.length > 0 ? "bad" : "good"} />
            <Stat label="Flaky flows" value={String(overview.data.flakyFlows.length)} tone={overview.data.flakyFlows.length > 0 ? "warn" : "good"} />
          </div>
          <div className="grid gap-4 lg:grid-cols-2">
            <Card>
              <CardHeader>
                <CardTitle>Failing flows</CardTitle>
                <CardDescription>Flows whose last run did not pass</CardDescription>
              </CardHeader>
              <CardContent>
                {overview.data.failingFlows.length === 0 ? (
                  <EmptyState title="No failing flows">Every flow passed its last run.</EmptyState>
                ) : (
                  <ul className="flex flex-col divide-y divide-border" data-testid="failing-flows">
                    {overview.data.failingFlows.map((flow) => (
                      <li key={`${flow.namespace}/${flow.name}`} className="flex items-center justify-between gap-2 py-2">
                        <div className="min-w-0">
                          <Link href={flowHref(flow.namespace, flow.name)} className="block truncate text-sm font-medium hover:underline">
                            {flow.name}
                          </Link>
                          <span className="text-xs text-muted-foreground">{flow.namespace}</span>
                        </div>
                        {flow.lastRun ? (
                          <Link href={executionHref(flow.lastRun.runId)} className="flex shrink-0 items-center gap-2 text-xs text-muted-foreground hover:underline">
                            {formatRelative(flow.lastRun.startedAt)}
                            <StatusBadge status={flow.lastRun.status} />
                          </Link>
                        ) : (
                          <StatusBadge status={null} />
                        )}
                      </li>
                    ))}
                  </ul>
                )}
              </CardContent>
            </Card>
            <Card>
              <CardHeader>
                <CardTitle>Flaky flows</CardTitle>
                <CardDescription>Flakiness ≥ {FLAKY_THRESHOLD.toFixed(2)} over the last 7 days</CardDescription>
              </CardHeader>
              <CardContent>
                {overview.data.flakyFlows.length === 0 ? (
                  <EmptyState title="No flaky flows">No flow flipped between pass and fail often enough to count.</EmptyState>
                ) : (
                  <FlakyTable items={overview.data.flakyFlows} threshold={FLAKY_THRESHOLD} />
                )}
              </CardContent>
            </Card>
          </div>
          <Card>
            <CardHeader className="flex-row items-center justify-between">
              <CardTitle>Recent runs</CardTitle>
              <Link href="/executions/" className="text-xs text-muted-foreground hover:underline">
                All executions →
              </Link>
            </CardHeader>
            <CardContent>
              {overview.data.recentRuns.length === 0 ? <EmptyState title="No runs yet">Runs appear here as soon as a flow runs.</EmptyState> : <ExecutionsTable runs={overview.data.recentRuns} />}
            </CardContent>
          </Card>
        </div>
      )}
    </>
  );
}
