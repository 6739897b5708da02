// What the editor exports, for Git: the flow file as edited, or a TestFlow manifest (camelCase
// spec, as the CRD's schema wants it, comments kept) with an optional TestSchedule beside it, and
// the `kubectl apply -f` line. The editor never writes to the cluster.

import { Document, isMap, isScalar, type Node, type YAMLMap } from "yaml";
import { parseFlow } from "./document";

export interface ManifestOptions {
  namespace: string;
  name: string;
  environment: string;
  /** A cron expression; empty for no TestSchedule. */
  schedule: string;
  timeZone: string;
}

/** Multi-word fields of a flow, a step and a retry policy, as flow files and manifests spell them. */
const CAMEL: Record<string, string> = {
  data_source: "dataSource",
  env_file: "envFile",
  fail_fast: "failFast",
  max_attempts: "maxAttempts",
  max_delay: "maxDelay",
  on_error: "onError",
};

function renameKeys(node: unknown) {
  if (!isMap(node)) return;
  for (const pair of node.items) {
    if (isScalar(pair.key) && typeof pair.key.value === "string" && pair.key.value in CAMEL) {
      pair.key.value = CAMEL[pair.key.value];
    }
  }
}

function camelCaseSteps(steps: unknown) {
  const list = steps as { items?: unknown[] } | null;
  for (const step of list?.items ?? []) {
    renameKeys(step);
    if (isMap(step)) renameKeys(step.get("retry", true));
  }
}

/** A Kubernetes object name made from a display name. */
export function resourceName(name: string): string {
  const out = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 63)
    .replace(/-+$/, "");
  return out === "" ? "flow" : out;
}

/** The flow file: the editor's text with a manifest's `spec` lifted out when it is one. */
export function flowFile(text: string): string {
  const parsed = parseFlow(text);
  if (!parsed.ok || parsed.flow.root[0] !== "spec") return text;
  const doc = new Document(parsed.flow.doc.getIn(["spec"], true) as Node);
  return doc.toString({ lineWidth: 0 });
}

/** The TestFlow manifest (and TestSchedule) for the editor's flow. */
export function manifest(text: string, options: ManifestOptions): string {
  const parsed = parseFlow(text);
  if (!parsed.ok) return "";
  const flowNode = (parsed.flow.root.length > 0 ? parsed.flow.doc.getIn(parsed.flow.root, true) : parsed.flow.doc.contents) as YAMLMap;
  const spec = flowNode.clone() as YAMLMap;
  renameKeys(spec);
  renameKeys(spec.get("config", true));
  for (const list of ["setup", "steps", "teardown"]) camelCaseSteps(spec.get(list, true));
  if (options.environment.trim() !== "") spec.set("environmentRef", { name: options.environment.trim() });
  else spec.delete("environmentRef");
  const name = options.name.trim() || resourceName(parsed.flow.spec.name ?? "");
  const doc = new Document({
    apiVersion: "testmesh.io/v1alpha1",
    kind: "TestFlow",
    metadata: { name, namespace: options.namespace.trim() || "default" },
  });
  (doc.contents as YAMLMap).set("spec", spec);
  doc.commentBefore = parsed.flow.doc.commentBefore;
  let out = doc.toString({ lineWidth: 0 });
  if (options.schedule.trim() !== "") {
    const schedule = new Document({
      apiVersion: "testmesh.io/v1alpha1",
      kind: "TestSchedule",
      metadata: { name: `${name}-schedule`, namespace: options.namespace.trim() || "default" },
      spec: {
        schedule: options.schedule.trim(),
        ...(options.timeZone.trim() ? { timeZone: options.timeZone.trim() } : {}),
        flowRef: { name },
      },
    });
    out += `---\n${schedule.toString({ lineWidth: 0 })}`;
  }
  return out;
}

/** The command that applies an exported file. */
export function kubectlLine(file: string): string {
  return `kubectl apply -f ${file}`;
}
