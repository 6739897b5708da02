// The shapes the TestMesh API answers with (/api/v1, camelCase), exactly as the contract states.

export type RunStatus = "queued" | "running" | "passed" | "failed" | "error" | "cancelled" | "timed_out";
export type StepStatus = "passed" | "failed" | "error" | "skipped" | "cancelled" | "running";
export type Trigger = "schedule" | "annotation" | "change" | "manual";
export type Phase = "setup" | "main" | "teardown";

export interface RunSummary {
  runId: string;
  status: RunStatus;
  startedAt: string | null;
  durationMs: number | null;
}

export interface FlowListItem {
  namespace: string;
  name: string;
  displayName: string;
  tags: string[];
  lastRun: RunSummary | null;
  passRate: number | null;
  runs: number;
  /** False when the operator found the flow invalid or not runnable; null when unknown. */
  ready?: boolean | null;
  /** The validator's findings when it is not ready. */
  notReadyReason?: string | null;
  conditions?: FlowCondition[];
}

/** A TestFlow status condition (`Ready`, `Validated`, `Stalled`). */
export interface FlowCondition {
  type: string;
  status: "True" | "False" | "Unknown";
  reason: string;
  message: string;
}

export interface TrendBucket {
  start: string;
  runs: number;
  passRate: number | null;
  p50Ms: number | null;
  p95Ms: number | null;
}

export type SpecAssertion = string | { expression: string; message?: string };

export interface SpecStep {
  id?: string;
  name?: string;
  description?: string;
  action: string;
  config?: Record<string, unknown>;
  assert?: SpecAssertion[];
  output?: Record<string, string>;
  timeout?: string;
  when?: string;
  onError?: string;
}

export interface FlowSpec {
  name: string;
  description?: string;
  tags?: string[];
  env?: Record<string, string>;
  setup?: SpecStep[];
  steps: SpecStep[];
  teardown?: SpecStep[];
}

export interface FlowDetail extends FlowListItem {
  spec: FlowSpec;
  history: RunSummary[];
  trend: TrendBucket[];
}

export interface Execution {
  runId: string;
  namespace: string;
  flowName: string;
  generation: number;
  environment: string | null;
  trigger: Trigger;
  status: RunStatus;
  queuedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  passedSteps: number;
  failedSteps: number;
  error: string | null;
  /** A draft run from the flow editor, not a run of a TestFlow. */
  draft?: boolean;
}

export interface AssertionOutcome {
  expression: string;
  passed: boolean;
  message?: string | null;
  actual?: Record<string, unknown>;
  error?: string | null;
}

export interface ExecutionStep {
  stepIndex: number;
  stepId: string;
  name: string | null;
  action: string;
  phase: Phase;
  status: StepStatus;
  attempt: number;
  startedAt: string | null;
  durationMs: number | null;
  assertions: AssertionOutcome[];
  captured: Record<string, unknown>;
  request: unknown;
  response: unknown;
  error: string | null;
}

export interface ExecutionDetail extends Execution {
  steps: ExecutionStep[];
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface FlakyFlow {
  namespace: string;
  flowName: string;
  runs: number;
  passRate: number;
  transitionRate: number;
  flakiness: number;
}

export interface FlakyReport {
  threshold: number;
  items: FlakyFlow[];
}

export interface Schedule {
  namespace: string;
  name: string;
  schedules: string[];
  timeZone: string | null;
  suspended: boolean;
  flow: string;
  nextRuns: string[];
  lastScheduleTime: string | null;
}

export interface SecretRef {
  kind: string;
  name: string;
  key: string;
}

export interface Environment {
  namespace: string;
  name: string;
  variables: Record<string, string>;
  secretRefs: SecretRef[];
  flows: string[] | number;
}

export interface FailingFlow {
  namespace: string;
  name: string;
  lastRun: RunSummary | Execution | null;
}

export interface Overview {
  runs24h: number;
  passRate24h: number | null;
  failingFlows: FailingFlow[];
  recentRuns: Execution[];
  flakyFlows: FlakyFlow[];
}

export interface Items<T> {
  items: T[];
}

/** GET /session: who the API takes this tab to be. */
export interface Session {
  /** The Kubernetes user; null when the API does not sign callers in with Kubernetes. */
  user: string | null;
  groups: string[];
  /** The namespaces this caller may see; null for every namespace. */
  namespaces: string[] | null;
}
