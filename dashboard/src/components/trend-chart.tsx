// A flow's trend per time bucket: pass rate (left axis) and duration p50/p95 (right axis).
"use client";

import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { formatDuration } from "@/lib/format";
import type { TrendBucket } from "@/lib/types";

function shortDate(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString(undefined, { month: "short", day: "numeric", hour: "2-digit" });
}

export function TrendChart({ buckets }: { buckets: TrendBucket[] }) {
  const data = buckets.map((bucket) => ({
    start: shortDate(bucket.start),
    passRate: bucket.passRate === null ? null : Math.round(bucket.passRate * 1000) / 10,
    p50: bucket.p50Ms,
    p95: bucket.p95Ms,
    runs: bucket.runs,
  }));
  return (
    <div className="h-64 w-full" data-testid="trend-chart">
      <ResponsiveContainer width="100%" height="100%">
        <LineChart data={data} margin={{ top: 8, right: 8, bottom: 0, left: -8 }}>
          <CartesianGrid strokeDasharray="3 3" stroke="var(--color-border)" />
          <XAxis dataKey="start" tick={{ fontSize: 10, fill: "var(--color-muted-foreground)" }} minTickGap={24} />
          <YAxis yAxisId="rate" domain={[0, 100]} unit="%" tick={{ fontSize: 10, fill: "var(--color-muted-foreground)" }} width={44} />
          <YAxis yAxisId="ms" orientation="right" tickFormatter={(v: number) => formatDuration(v)} tick={{ fontSize: 10, fill: "var(--color-muted-foreground)" }} width={64} />
          <Tooltip
            contentStyle={{ background: "var(--color-card)", borderColor: "var(--color-border)", fontSize: 12 }}
            formatter={(value, name) => (name === "Pass rate" ? `${value}%` : formatDuration(Number(value)))}
          />
          <Legend wrapperStyle={{ fontSize: 11 }} />
          <Line yAxisId="rate" type="monotone" dataKey="passRate" name="Pass rate" stroke="#10b981" strokeWidth={2} dot={false} connectNulls isAnimationActive={false} />
          <Line yAxisId="ms" type="monotone" dataKey="p50" name="p50" stroke="#0ea5e9" strokeWidth={1.5} dot={false} connectNulls isAnimationActive={false} />
          <Line yAxisId="ms" type="monotone" dataKey="p95" name="p95" stroke="#f59e0b" strokeWidth={1.5} dot={false} connectNulls isAnimationActive={false} />
        </LineChart>
      </ResponsiveContainer>
    </div>
  );
}
