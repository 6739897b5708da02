// Schedules: each TestSchedule's cron lines, its flow, and its next run times.
"use client";

import Link from "next/link";
import { PageHeader } from "@/components/app-shell";
import { EmptyState, ErrorState, LoadingState } from "@/components/page-states";
import { Badge } from "@/components/ui/badge";
import { Card } from "@/components/ui/card";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { formatRelative, formatTime } from "@/lib/format";
import { flowHref } from "@/lib/links";
import { useSchedules } from "@/lib/queries";

export default function SchedulesPage() {
  const schedules = useSchedules();
  return (
    <>
      <PageHeader title="Schedules" description="When each flow runs next" />
      {schedules.isPending && <LoadingState rows={6} />}
      {schedules.isError && <ErrorState error={schedules.error} onRetry={() => schedules.refetch()} />}
      {schedules.data && schedules.data.items.length === 0 && <EmptyState title="No schedules">Apply a TestSchedule to run a flow on a timetable.</EmptyState>}
      {schedules.data && schedules.data.items.length > 0 && (
        <Card>
          <Table data-testid="schedules-table">
            <TableHeader>
              <TableRow>
                <TableHead>Schedule</TableHead>
                <TableHead>Flow</TableHead>
                <TableHead className="hidden sm:table-cell">When</TableHead>
                <TableHead>Next runs</TableHead>
                <TableHead className="hidden md:table-cell">Last run</TableHead>
              </TableRow>
            </TableHeader>
            <TableBody>
              {schedules.data.items.map((schedule) => (
                <TableRow key={`${schedule.namespace}/${schedule.name}`}>
                  <TableCell className="max-w-[12rem]">
                    <span className="block truncate font-medium">{schedule.name}</span>
                    <span className="block truncate text-xs text-muted-foreground">{schedule.namespace}</span>
                    {schedule.suspended && (
                      <Badge variant="secondary" className="mt-1">
                        suspended
                      </Badge>
                    )}
                  </TableCell>
                  <TableCell>
                    <Link href={flowHref(schedule.namespace, schedule.flow)} className="hover:underline">
                      {schedule.flow}
                    </Link>
                  </TableCell>
                  <TableCell className="hidden sm:table-cell">
                    <div className="flex flex-col gap-0.5 font-mono text-xs">
                      {schedule.schedules.map((cron) => (
                        <span key={cron}>{cron}</span>
                      ))}
                    </div>
                    <span className="text-xs text-muted-foreground">{schedule.timeZone ?? "UTC"}</span>
                  </TableCell>
                  <TableCell>
                    {schedule.suspended || schedule.nextRuns.length === 0 ? (
                      <span className="text-xs text-muted-foreground">none</span>
                    ) : (
                      <ul className="flex flex-col gap-0.5 text-xs">
                        {schedule.nextRuns.slice(0, 3).map((time) => (
                          <li key={time} title={formatTime(time)}>
                            <span className="font-medium">{formatRelative(time)}</span> <span className="hidden text-muted-foreground lg:inline">· {formatTime(time)}</span>
                          </li>
                        ))}
                      </ul>
                    )}
                  </TableCell>
                  <TableCell className="hidden md:table-cell text-xs text-muted-foreground" title={formatTime(schedule.lastScheduleTime)}>
                    {formatRelative(schedule.lastScheduleTime)}
                  </TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        </Card>
      )}
    </>
  );
}
