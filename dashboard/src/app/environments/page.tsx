// Environments: each TestEnvironment's variables, and its secrets by reference only — the API
// never sends secret values and this page has nowhere to show one.
"use client";

import { KeyRound } from "lucide-react";
import { PageHeader } from "@/components/app-shell";
import { EmptyState, ErrorState, LoadingState } from "@/components/page-states";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { useEnvironments } from "@/lib/queries";

function flowCount(flows: string[] | number): string {
  const count = Array.isArray(flows) ? flows.length : flows;
  return `${count} flow${count === 1 ? "" : "s"}`;
}

export default function EnvironmentsPage() {
  const environments = useEnvironments();
  return (
    <>
      <PageHeader title="Environments" description="Variables and secret references that flows run with" />
      {environments.isPending && <LoadingState rows={6} />}
      {environments.isError && <ErrorState error={environments.error} onRetry={() => environments.refetch()} />}
      {environments.data && environments.data.items.length === 0 && <EmptyState title="No environments">Apply a TestEnvironment to share variables between flows.</EmptyState>}
      {environments.data && environments.data.items.length > 0 && (
        <div className="grid gap-4 lg:grid-cols-2">
          {environments.data.items.map((env) => {
            const variables = Object.entries(env.variables);
            return (
              <Card key={`${env.namespace}/${env.name}`} data-testid="environment">
                <CardHeader>
                  <CardTitle>{env.name}</CardTitle>
                  <CardDescription>
                    {env.namespace} · used by {flowCount(env.flows)}
                  </CardDescription>
                </CardHeader>
                <CardContent className="flex flex-col gap-3">
                  <section>
                    <h3 className="mb-1 text-xs font-medium text-muted-foreground">Variables</h3>
                    {variables.length === 0 ? (
                      <p className="text-xs text-muted-foreground">None.</p>
                    ) : (
                      <dl className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-1 font-mono text-xs">
                        {variables.map(([name, value]) => (
                          <div key={name} className="contents">
                            <dt className="text-muted-foreground">{name}</dt>
                            <dd className="break-all">{value}</dd>
                          </div>
                        ))}
                      </dl>
                    )}
                  </section>
                  <section>
                    <h3 className="mb-1 text-xs font-medium text-muted-foreground">Secrets (by reference; values are never shown)</h3>
                    {env.secretRefs.length === 0 ? (
                      <p className="text-xs text-muted-foreground">None.</p>
                    ) : (
                      <ul className="flex flex-col gap-1 text-xs" data-testid="secret-refs">
                        {env.secretRefs.map((ref) => (
                          <li key={`${ref.kind}/${ref.name}/${ref.key}`} className="flex items-center gap-2 font-mono">
                            <KeyRound className="size-3.5 text-muted-foreground" aria-hidden />
                            <span>
                              {ref.kind}/{ref.name}
                            </span>
                            <span className="text-muted-foreground">key {ref.key}</span>
                          </li>
                        ))}
                      </ul>
                    )}
                  </section>
                </CardContent>
              </Card>
            );
          })}
        </div>
      )}
    </>
  );
}
