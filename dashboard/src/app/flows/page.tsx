// Flows: every flow with its last run and pass rate; search by name, filter by namespace and tag.
"use client";

import { Search } from "lucide-react";
import Link from "next/link";
import { useMemo } from "react";
import { PageHeader } from "@/components/app-shell";
import { EmptyState, ErrorState, LoadingState } from "@/components/page-states";
import { NotReadyBadge } from "@/components/flow-readiness";
import { StatusBadge } from "@/components/status-badge";
import { Badge } from "@/components/ui/badge";
import { Card, CardContent } from "@/components/ui/card";
import { Input, Select } from "@/components/ui/input";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { formatDuration, formatPercent, formatRelative } from "@/lib/format";
import { editorHref, flowHref } from "@/lib/links";
import { useAllFlows, useFlows } from "@/lib/queries";
import { useFilterStore } from "@/lib/store";

export default function FlowsPage() {
  const filters = useFilterStore((state) => state.flows);
  const setFilter = useFilterStore((state) => state.setFlowFilter);
  const flows = useFlows(filters);
  const all = useAllFlows();
  const namespaces = useMemo(() => [...new Set((all.data?.items ?? []).map((f) => f.namespace))].sort(), [all.data]);
  const tags = useMemo(() => [...new Set((all.data?.items ?? []).flatMap((f) => f.tags))].sort(), [all.data]);
  const filtered = filters.q !== "" || filters.namespace !== "" || filters.tag !== "";

  return (
    <>
      <PageHeader
        title="Flows"
        description="Every TestFlow, with its last run and pass rate"
        actions={
          <Link href={editorHref()} className="text-sm font-medium hover:underline">
            New flow
          </Link>
        }
      />
      <Card className="mb-4">
        <CardContent className="grid gap-2 pt-4 sm:grid-cols-[1fr_12rem_12rem]">
          <label className="relative">
            <span className="sr-only">Search flows</span>
            <Search className="pointer-events-none absolute top-2.5 left-2.5 size-4 text-muted-foreground" aria-hidden />
            <Input placeholder="Search flows" value={filters.q} onChange={(e) => setFilter("q", e.target.value)} className="pl-8" />
          </label>
          <Select aria-label="Namespace" value={filters.namespace} onChange={(e) => setFilter("namespace", e.target.value)}>
            <option value="">All namespaces</option>
            {namespaces.map((ns) => (
              <option key={ns}>{ns}</option>
            ))}
          </Select>
          <Select aria-label="Tag" value={filters.tag} onChange={(e) => setFilter("tag", e.target.value)}>
            <option value="">All tags</option>
            {tags.map((tag) => (
              <option key={tag}>{tag}</option>
            ))}
          </Select>
        </CardContent>
      </Card>
      {flows.isPending && <LoadingState rows={8} />}
      {flows.isError && <ErrorState error={flows.error} onRetry={() => flows.refetch()} />}
      {flows.data && flows.data.items.length === 0 && (
        <EmptyState title={filtered ? "No flow matches these filters" : "No flows yet"}>
          {filtered ? "Clear the search or pick another namespace or tag." : "Apply a TestFlow to the cluster and it appears here."}
        </EmptyState>
      )}
      {flows.data && flows.data.items.length > 0 && (
        <Card>
          <Table data-testid="flows-table">
            <TableHeader>
              <TableRow>
                <TableHead>Flow</TableHead>
                <TableHead className="hidden md:table-cell">Tags</TableHead>
                <TableHead>Last run</TableHead>
                <TableHead className="hidden sm:table-cell text-right">Duration</TableHead>
                <TableHead className="text-right">Pass rate</TableHead>
                <TableHead className="hidden sm:table-cell text-right">Runs</TableHead>
              </TableRow>
            </TableHeader>
            <TableBody>
              {flows.data.items.map((flow) => (
                <TableRow key={`${flow.namespace}/${flow.name}`} data-testid="flow-row">
                  <TableCell className="max-w-[16rem]">
                    <Link href={flowHref(flow.namespace, flow.name)} className="block truncate font-medium hover:underline">
                      {flow.displayName || flow.name}
                    </Link>
                    <span className="block truncate text-xs text-muted-foreground">
                      {flow.namespace}/{flow.name}
                    </span>
                  </TableCell>
                  <TableCell className="hidden md:table-cell">
                    <div className="flex flex-wrap gap-1">
                      {flow.tags.map((tag) => (
                        <Badge key={tag} variant="outline">
                          {tag}
                        </Badge>
                      ))}
                    </div>
                  </TableCell>
                  <TableCell>
                    <div className="flex flex-col items-start gap-0.5">
                      {flow.ready === false && !flow.lastRun ? <NotReadyBadge flow={flow} /> : <StatusBadge status={flow.lastRun?.status} />}
                      {flow.ready === false && flow.lastRun && <NotReadyBadge flow={flow} />}
                      {flow.lastRun && <span className="text-xs text-muted-foreground">{formatRelative(flow.lastRun.startedAt)}</span>}
                    </div>
                  </TableCell>
                  <TableCell className="hidden sm:table-cell text-right tabular-nums">{formatDuration(flow.lastRun?.durationMs)}</TableCell>
                  <TableCell className="text-right tabular-nums">{formatPercent(flow.passRate)}</TableCell>
                  <TableCell className="hidden sm:table-cell text-right tabular-nums">{flow.runs}</TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        </Card>
      )}
    </>
  );
}
