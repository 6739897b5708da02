// The properties panel: the selected step's form, generated from the action catalogue (one field
// per config key, typed, with its docs), with builders for assertions (completing result fields
// and names in scope), captures, retry, timeout, `when` and `on_error`; or, with no step
// selected, the flow's settings. Each finding of the validator shows under its field.
"use client";

import { ArrowLeft, ArrowRight, Copy, Plus, Trash2, X } from "lucide-react";
import { useEffect, useId, useState } from "react";
import { parse as parseYaml, stringify } from "yaml";
import { type ActionCatalogue, fieldValue, findAction, type FormField, formFields } from "@/lib/editor/catalogue";
import { pathKey, type StepPath, stepAt } from "@/lib/editor/document";
import { assertionCompletions } from "@/lib/editor/scope";
import { type Finding, useEditorStore } from "@/lib/editor/store";
import type { SpecAssertion, SpecStep } from "@/lib/types";
import { Button } from "../ui/button";
import { Input, Select } from "../ui/input";

export interface FieldEdit {
  (path: StepPath, field: StepPath, value: unknown): void;
}

function Problems({ findings }: { findings: Finding[] }) {
  if (findings.length === 0) return null;
  return (
    <ul className="mt-0.5 space-y-0.5" data-testid="field-problems">
      {findings.map((f, i) => (
        <li key={i} className={f.severity === "error" ? "text-[11px] text-red-700 dark:text-red-300" : "text-[11px] text-amber-700 dark:text-amber-300"}>
          {f.message}
        </li>
      ))}
    </ul>
  );
}

function Row({ label, help, required, children, findings = [] }: { label: string; help?: string; required?: boolean; children: React.ReactNode; findings?: Finding[] }) {
  return (
    <div className="space-y-0.5">
      <div className="flex items-baseline justify-between gap-2">
        <span className="font-mono text-xs font-medium">
          {label}
          {required && <span className="text-red-600"> *</span>}
        </span>
      </div>
      {children}
      {help && <p className="text-[10px] leading-tight text-muted-foreground">{help}</p>}
      <Problems findings={findings} />
    </div>
  );
}

/** A YAML value edited as text, applied when the field loses focus (half-typed YAML is not applied). */
function YamlField({ label, value, onCommit, placeholder }: { label: string; value: unknown; onCommit: (value: unknown) => void; placeholder?: string }) {
  const shown = value === undefined ? "" : stringify(value, { lineWidth: 0 }).trimEnd();
  const [text, setText] = useState(shown);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => setText(shown), [shown]);
  return (
    <>
      <textarea
        aria-label={label}
        className="min-h-16 w-full rounded-md border border-input bg-transparent px-2 py-1 font-mono text-xs"
        value={text}
        placeholder={placeholder}
        onChange={(e) => setText(e.target.value)}
        onBlur={() => {
          try {
            onCommit(text.trim() === "" ? undefined : parseYaml(text));
            setError(null);
          } catch (cause) {
            setError(cause instanceof Error ? cause.message.split("\n")[0] : "invalid YAML");
          }
        }}
      />
      {error && <p className="text-[11px] text-red-700">{error}</p>}
    </>
  );
}

function ConfigField({ field, value, onChange, findings }: { field: FormField; value: unknown; onChange: (value: unknown) => void; findings: Finding[] }) {
  const label = `config.${field.key}`;
  return (
    <Row label={field.label} help={field.help} required={field.required} findings={findings}>
      {field.input === "checkbox" ? (
        <input type="checkbox" aria-label={label} checked={value === true} onChange={(e) => onChange(fieldValue("checkbox", e.target.checked, parseYaml))} />
      ) : field.input === "yaml" ? (
        <YamlField label={label} value={value} placeholder={field.placeholder} onCommit={onChange} />
      ) : (
        <Input
          aria-label={label}
          type="text"
          inputMode={field.input === "number" ? "numeric" : undefined}
          placeholder={field.placeholder}
          value={value === undefined || value === null ? "" : typeof value === "object" ? JSON.stringify(value) : String(value)}
          onChange={(e) => onChange(fieldValue(field.input, e.target.value, parseYaml))}
        />
      )}
    </Row>
  );
}

function assertionText(assertion: SpecAssertion): string {
  return typeof assertion === "string" ? assertion : assertion.expression;
}

/** The key a step uses for a multi-word field: the manifest's camelCase when it has it. */
function spelled(step: SpecStep, snake: string, camel: string): string {
  return camel in step ? camel : snake;
}

interface StepFormProps {
  path: StepPath;
  catalogue: ActionCatalogue;
  onEdit: FieldEdit;
  onMove: (delta: number) => void;
  onDuplicate: () => void;
  onDelete: () => void;
  /** The capture the user picked from the draft run's response, to add as a row. */
  pickedCapture: string | null;
}

export function StepForm({ path, catalogue, onEdit, onMove, onDuplicate, onDelete, pickedCapture }: StepFormProps) {
  const spec = useEditorStore((s) => s.spec);
  const report = useEditorStore((s) => s.report);
  const completionId = useId();
  const step = stepAt(spec, path);
  const [captureName, setCaptureName] = useState("");
  if (!step) return <p className="text-sm text-muted-foreground">The selected step is gone.</p>;
  const action = findAction(catalogue, step.action);
  const key = pathKey(path);
  const findings = (report?.diagnostics ?? []).filter((f) => f.stepPath === key);
  const at = (prefix: string) => findings.filter((f) => f.stepField === prefix || f.stepField?.startsWith(`${prefix}.`) || f.stepField?.startsWith(`${prefix}[`));
  const config = (step.config ?? {}) as Record<string, unknown>;
  const assertions = step.assert ?? [];
  const output = (step.output ?? {}) as Record<string, string>;
  const set = (field: StepPath, coalesce: unknown) => onEdit(path, field, coalesce);
  const record = step as unknown as Record<string, unknown>;
  const retryKey = "retry";
  const retry = (record.retry ?? {}) as Record<string, unknown>;
  const onErrorKey = spelled(step, "on_error", "onError");
  const attemptsKey = "maxAttempts" in retry ? "maxAttempts" : "max_attempts";
  const completions = assertionCompletions(spec, path, action?.name ?? step.action);

  return (
    <div className="space-y-3" data-testid="step-form">
      <div className="flex flex-wrap gap-1">
        <Button size="sm" variant="outline" onClick={() => onMove(-1)} aria-label="Move left">
          <ArrowLeft className="size-3.5" />
        </Button>
        <Button size="sm" variant="outline" onClick={() => onMove(1)} aria-label="Move right">
          <ArrowRight className="size-3.5" />
        </Button>
        <Button size="sm" variant="outline" onClick={onDuplicate}>
          <Copy className="size-3.5" /> Duplicate
        </Button>
        <Button size="sm" variant="outline" onClick={onDelete}>
          <Trash2 className="size-3.5" /> Delete
        </Button>
      </div>
      <Problems findings={findings.filter((f) => !f.stepField)} />
      <Row label="id" findings={at("id")}>
        <Input aria-label="id" value={step.id ?? ""} onChange={(e) => set(["id"], e.target.value)} />
      </Row>
      <Row label="name">
        <Input aria-label="name" value={step.name ?? ""} onChange={(e) => set(["name"], e.target.value)} />
      </Row>
      <Row label="action" help={action?.description} findings={at("action")}>
        <Select aria-label="action" value={action?.name ?? step.action} onChange={(e) => set(["action"], e.target.value)}>
          {!action && <option value={step.action}>{step.action} (unknown)</option>}
          {catalogue.actions.map((a) => (
            <option key={a.name} value={a.name}>
              {a.name}
            </option>
          ))}
        </Select>
      </Row>
      {action && (
        <fieldset className="space-y-2 rounded-md border border-border p-2">
          <legend className="px-1 text-xs font-semibold">config</legend>
          {formFields(action).map((field) => (
            <ConfigField key={field.key} field={field} value={config[field.key]} onChange={(value) => set(["config", field.key], value)} findings={at(`config.${field.key}`)} />
          ))}
          {action.nestedStepKeys.length > 0 && <p className="text-[10px] text-muted-foreground">Nested steps ({action.nestedStepKeys.join(", ")}): drop actions into the container on the canvas.</p>}
        </fieldset>
      )}
      <fieldset className="space-y-1 rounded-md border border-border p-2" data-testid="assertions">
        <legend className="px-1 text-xs font-semibold">assert</legend>
        <datalist id={completionId}>
          {completions.map((name) => (
            <option key={name} value={name} />
          ))}
        </datalist>
        {assertions.map((assertion, index) => (
          <div key={index}>
            <div className="flex gap-1">
              <Input
                aria-label={`assert[${index}]`}
                list={completionId}
                className="font-mono text-xs"
                value={assertionText(assertion)}
                onChange={(e) => set(["assert", index, ...(typeof assertion === "string" ? [] : ["expression"])], e.target.value === "" ? " " : e.target.value)}
              />
              <Button size="sm" variant="ghost" aria-label={`Remove assertion ${index + 1}`} onClick={() => set(["assert"], assertions.filter((_, i) => i !== index))}>
                <X className="size-3.5" />
              </Button>
            </div>
            <Problems findings={at(`assert[${index}]`)} />
          </div>
        ))}
        <Button size="sm" variant="outline" onClick={() => set(["assert"], [...assertions, completions[0] ? `${completions[0]} == ` : ""])}>
          <Plus className="size-3.5" /> Assertion
        </Button>
        <p className="text-[10px] text-muted-foreground">Completes: {completions.slice(0, 8).join(", ")}…</p>
      </fieldset>
      <fieldset className="space-y-1 rounded-md border border-border p-2" data-testid="captures">
        <legend className="px-1 text-xs font-semibold">output (captures)</legend>
        {Object.entries(output).map(([name, source]) => (
          <div key={name} className="flex items-center gap-1">
            <span className="w-24 truncate font-mono text-xs">{name}</span>
            <Input aria-label={`output.${name}`} className="font-mono text-xs" value={String(source)} onChange={(e) => set(["output", name], e.target.value)} />
            <Button size="sm" variant="ghost" aria-label={`Remove capture ${name}`} onClick={() => set(["output", name], undefined)}>
              <X className="size-3.5" />
            </Button>
          </div>
        ))}
        <Problems findings={at("output")} />
        <div className="flex gap-1">
          <Input aria-label="New capture name" placeholder="name" className="w-24 font-mono text-xs" value={captureName} onChange={(e) => setCaptureName(e.target.value)} />
          <Button
            size="sm"
            variant="outline"
            disabled={captureName.trim() === ""}
            onClick={() => {
              set(["output", captureName.trim()], pickedCapture ?? "$.body");
              setCaptureName("");
            }}
          >
            <Plus className="size-3.5" /> {pickedCapture ? `Capture ${pickedCapture}` : "Capture"}
          </Button>
        </div>
      </fieldset>
      <fieldset className="grid grid-cols-2 gap-2 rounded-md border border-border p-2">
        <legend className="px-1 text-xs font-semibold">control</legend>
        <Row label="timeout" findings={at("timeout")}>
          <Input aria-label="timeout" placeholder="e.g. 5s" value={String(record.timeout ?? "")} onChange={(e) => set(["timeout"], e.target.value)} />
        </Row>
        <Row label={onErrorKey} findings={at(onErrorKey)}>
          <Select aria-label="on_error" value={String(record[onErrorKey] ?? "")} onChange={(e) => set([onErrorKey], e.target.value)}>
            <option value="">fail (default)</option>
            <option value="continue">continue</option>
          </Select>
        </Row>
        <Row label={`retry.${attemptsKey}`} findings={at(retryKey)}>
          <Input aria-label="retry attempts" inputMode="numeric" value={String(retry[attemptsKey] ?? "")} onChange={(e) => set([retryKey, attemptsKey], /^\d+$/.test(e.target.value) ? Number(e.target.value) : e.target.value)} />
        </Row>
        <Row label="retry.delay">
          <Input aria-label="retry delay" placeholder="e.g. 500ms" value={String(retry.delay ?? "")} onChange={(e) => set([retryKey, "delay"], e.target.value)} />
        </Row>
        <div className="col-span-2">
          <Row label="when" help="An expression; the step is skipped when it is false." findings={at("when")}>
            <Input aria-label="when" list={completionId} className="font-mono text-xs" value={String(record.when ?? "")} onChange={(e) => set(["when"], e.target.value)} />
          </Row>
        </div>
      </fieldset>
    </div>
  );
}

/** The flow's settings: name, description, tags, env, config and data source. */
export function FlowSettings({ onEdit }: { onEdit: FieldEdit }) {
  const spec = useEditorStore((s) => s.spec);
  const report = useEditorStore((s) => s.report);
  const record = spec as unknown as Record<string, unknown>;
  const general = (report?.diagnostics ?? []).filter((f) => !f.stepPath);
  const at = (key: string) => general.filter((f) => f.field === key || f.field?.startsWith(`${key}.`) || f.field === `spec.${key}`);
  const dataKey = "dataSource" in record ? "dataSource" : "data_source";
  return (
    <div className="space-y-3" data-testid="flow-settings">
      <Row label="name" required findings={at("name")}>
        <Input aria-label="flow name" value={spec.name ?? ""} onChange={(e) => onEdit([], ["name"], e.target.value)} />
      </Row>
      <Row label="description">
        <Input aria-label="description" value={spec.description ?? ""} onChange={(e) => onEdit([], ["description"], e.target.value)} />
      </Row>
      <Row label="tags" help="Comma-separated.">
        <Input
          aria-label="tags"
          value={(spec.tags ?? []).join(", ")}
          onChange={(e) =>
            onEdit(
              [],
              ["tags"],
              e.target.value
                .split(",")
                .map((t) => t.trim())
                .filter(Boolean),
            )
          }
        />
      </Row>
      <Row label="env" help="Variables, as a YAML map." findings={at("env")}>
        <YamlField label="env" value={spec.env} placeholder="BASE_URL: http://svc" onCommit={(v) => onEdit([], ["env"], v)} />
      </Row>
      <Row label="config" help="timeout, fail_fast…, as a YAML map." findings={at("config")}>
        <YamlField label="config" value={record.config} onCommit={(v) => onEdit([], ["config"], v)} />
      </Row>
      <Row label={dataKey} help="Run the flow once per row of a CSV or JSON file." findings={at(dataKey)}>
        <YamlField label="data source" value={record[dataKey]} placeholder="file: data/rows.csv" onCommit={(v) => onEdit([], [dataKey], v)} />
      </Row>
      {general.length > 0 && (
        <div>
          <h3 className="text-xs font-semibold">Other findings</h3>
          <Problems findings={general} />
        </div>
      )}
    </div>
  );
}
