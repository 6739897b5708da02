// The flow editor: a new flow, or a copy of a TestFlow (?namespace=&name=). Palette, canvas,
// properties and YAML stay in sync through one YAML document; the validator is asked after each
// pause in editing; the work is kept in local storage until it is exported for Git.
"use client";

import { useQuery } from "@tanstack/react-query";
import { useSearchParams } from "next/navigation";
import { Suspense, useCallback, useEffect, useMemo, useRef, useState } from "react";
import { PageHeader } from "@/components/app-shell";
import { EditorCanvas, nodeMarks } from "@/components/editor/canvas";
import { DraftRunPanel, useDraftRun } from "@/components/editor/draft-run";
import { ExportDialog } from "@/components/editor/export-dialog";
import { Palette } from "@/components/editor/palette";
import { FlowSettings, StepForm } from "@/components/editor/properties";
import { ShortcutsDialog } from "@/components/editor/shortcuts-dialog";
import { YamlPane } from "@/components/editor/yaml-pane";
import { ErrorState, LoadingState } from "@/components/page-states";
import { Button } from "@/components/ui/button";
import { Select } from "@/components/ui/input";
import { apiGet, apiPost } from "@/lib/api";
import { type ActionCatalogue, findAction, newStep } from "@/lib/editor/catalogue";
import { duplicateStep, insertStep, moveStep, pasteStep, removeStep, setField, pathOfStepId, specToYaml, type StepPath, stepAt, stepsAt, uniqueId } from "@/lib/editor/document";
import { useEditorStore, type ValidationReport } from "@/lib/editor/store";
import { BLANK, TEMPLATES } from "@/lib/editor/templates";
import { useFlow } from "@/lib/queries";

const VALIDATE_AFTER_MS = 300;
const SAVE_AFTER_MS = 500;

function draftKey(namespace: string, name: string): string {
  return namespace && name ? `testmesh-editor:${namespace}/${name}` : "testmesh-editor:new";
}

function isTyping(target: EventTarget | null): boolean {
  const element = target as HTMLElement | null;
  return !!element && (element.tagName === "INPUT" || element.tagName === "TEXTAREA" || element.tagName === "SELECT" || element.isContentEditable);
}

function Editor() {
  const params = useSearchParams();
  const namespace = params.get("namespace") ?? "";
  const name = params.get("name") ?? "";
  const source = useFlow(namespace, name);
  const catalogue = useQuery({ queryKey: ["actions"], queryFn: ({ signal }) => apiGet<ActionCatalogue>("/actions", {}, signal), staleTime: Infinity });
  const store = useEditorStore();
  const { text, goodText, spec, selected, report, parseError } = store;
  const [loadedFrom, setLoadedFrom] = useState<string | null>(null);
  const [restorable, setRestorable] = useState<string | null>(null);
  const [showExport, setShowExport] = useState(false);
  const [showShortcuts, setShowShortcuts] = useState(false);
  const [loadMs, setLoadMs] = useState<number | null>(null);
  const [runId, setRunId] = useState("");
  const draft = useDraftRun(runId);
  const key = draftKey(namespace, name);
  const initial = useRef<string>("");

  // Load the starting flow once: the copied TestFlow, or a blank one; offer a saved draft.
  useEffect(() => {
    if (loadedFrom === key) return;
    if (namespace && name && !source.data) return;
    const start = source.data ? `# A copy of the TestFlow ${namespace}/${name}: export it to Git when done.\n${specToYaml(source.data.spec)}` : BLANK;
    const began = performance.now();
    initial.current = start;
    store.load(start);
    setLoadedFrom(key);
    const saved = window.localStorage.getItem(key);
    setRestorable(saved && saved !== start ? saved : null);
    requestAnimationFrame(() => setLoadMs(Math.round(performance.now() - began)));
  }, [key, loadedFrom, namespace, name, source.data, store]);

  // Keep unsaved work in local storage.
  useEffect(() => {
    if (loadedFrom !== key || restorable !== null) return;
    const timer = setTimeout(() => {
      if (text !== initial.current) window.localStorage.setItem(key, text);
    }, SAVE_AFTER_MS);
    return () => clearTimeout(timer);
  }, [text, key, loadedFrom, restorable]);

  // Ask the validator after each pause in editing.
  useEffect(() => {
    if (loadedFrom !== key || parseError) return;
    const controller = new AbortController();
    const timer = setTimeout(() => {
      apiPost<ValidationReport>("/validate", goodText, controller.signal)
        .then((answer) => useEditorStore.getState().setReport(answer))
        .catch(() => undefined);
    }, VALIDATE_AFTER_MS);
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
  }, [goodText, key, loadedFrom, parseError]);

  const apply = useCallback((next: string, coalesce?: string) => useEditorStore.getState().setText(next, coalesce), []);

  const add = useCallback(
    (action: string, list: StepPath, index: number) => {
      const info = findAction(catalogue.data, action);
      if (!info) return;
      const state = useEditorStore.getState();
      const length = stepsAt(state.spec, list).length;
      const at = index < 0 || index > length ? length : index;
      const id = uniqueId(state.spec, info.name.replace(/[^a-z0-9]+/gi, "_"));
      apply(insertStep(state.goodText, list, at, newStep(info, id)));
      state.select([...list, at]);
    },
    [apply, catalogue.data],
  );

  const move = useCallback((path: StepPath, toList: StepPath, index: number) => {
    const state = useEditorStore.getState();
    apply(moveStep(state.goodText, path, toList, index));
    state.select([...toList, index]);
  }, [apply]);

  const shift = useCallback(
    (delta: number) => {
      const state = useEditorStore.getState();
      if (!state.selected) return;
      const index = Number(state.selected[state.selected.length - 1]) + delta;
      if (index < 0) return;
      move(state.selected, state.selected.slice(0, -1), index);
    },
    [move],
  );

  const remove = useCallback(() => {
    const state = useEditorStore.getState();
    if (!state.selected) return;
    apply(removeStep(state.goodText, state.selected));
    state.select(null);
  }, [apply]);

  const duplicate = useCallback(() => {
    const state = useEditorStore.getState();
    if (!state.selected) return;
    apply(duplicateStep(state.goodText, state.selected));
  }, [apply]);

  const edit = useCallback(
    (path: StepPath, field: StepPath, value: unknown) => {
      const state = useEditorStore.getState();
      apply(setField(state.goodText, path, field, value), `${path.join("/")}:${field.join("/")}`);
      if (path.length > 0 && field.length === 1 && field[0] === "id") state.select(path);
    },
    [apply],
  );

  // Keyboard shortcuts (see the shortcuts dialog); typing in a field keeps its own keys.
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (isTyping(event.target) || (event.target as HTMLElement | null)?.closest?.(".cm-editor")) return;
      const state = useEditorStore.getState();
      const mod = event.ctrlKey || event.metaKey;
      const k = event.key.toLowerCase();
      const handled = () => event.preventDefault();
      if (mod && k === "z" && !event.shiftKey) (handled(), state.undo());
      else if (mod && (k === "y" || (k === "z" && event.shiftKey))) (handled(), state.redo());
      else if (mod && k === "d") (handled(), duplicate());
      else if (mod && k === "c" && state.selected) state.copy(stepAt(state.spec, state.selected) ?? null);
      else if (mod && k === "v" && state.clipboard) {
        handled();
        const list = state.selected ? state.selected.slice(0, -1) : ["steps"];
        const index = state.selected ? Number(state.selected[state.selected.length - 1]) + 1 : -1;
        apply(pasteStep(state.goodText, list, index, state.clipboard));
      } else if ((k === "delete" || k === "backspace") && state.selected) (handled(), remove());
      else if (event.altKey && k === "arrowleft") (handled(), shift(-1));
      else if (event.altKey && k === "arrowright") (handled(), shift(1));
      else if (k === "escape") state.select(null);
      else if (event.key === "?") setShowShortcuts(true);
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [apply, duplicate, remove, shift]);

  const marks = useMemo(() => nodeMarks(report?.diagnostics ?? [], draft.statuses, spec), [report, draft.statuses, spec]);

  const capture = useCallback(
    (stepId: string, captureName: string, path: string) => {
      const state = useEditorStore.getState();
      const at = pathOfStepId(state.spec, stepId);
      if (!at) return;
      apply(setField(state.goodText, at, ["output", captureName], path));
      state.select(at);
    },
    [apply],
  );

  if (namespace && name && source.isPending) return <LoadingState rows={6} />;
  if (namespace && name && source.isError) return <ErrorState error={source.error} onRetry={() => source.refetch()} />;
  if (catalogue.isPending) return <LoadingState rows={6} />;
  if (catalogue.isError) return <ErrorState error={catalogue.error} onRetry={() => catalogue.refetch()} />;

  return (
    <>
      <PageHeader
        title={namespace && name ? `Edit a copy of ${namespace}/${name}` : "New flow"}
        description={
          <span data-testid="editor-summary">
            {report ? (report.valid ? `Valid (${report.warnings} warnings)` : `${report.errors} errors, ${report.warnings} warnings`) : "Checking…"}
            {loadMs !== null && <span className="ml-2 text-xs text-muted-foreground" data-testid="editor-load-ms">loaded in {loadMs} ms</span>}
          </span>
        }
        actions={
          <div className="flex flex-wrap items-center gap-2">
            <Select
              aria-label="Start from a template"
              className="w-44"
              value=""
              onChange={(e) => {
                const template = TEMPLATES.find((t) => t.id === e.target.value);
                if (template) store.load(template.yaml);
              }}
            >
              <option value="">Templates…</option>
              {TEMPLATES.map((t) => (
                <option key={t.id} value={t.id} title={t.description}>
                  {t.label}
                </option>
              ))}
            </Select>
            <Button size="sm" variant="outline" onClick={store.undo} disabled={store.past.length === 0}>
              Undo
            </Button>
            <Button size="sm" variant="outline" onClick={store.redo} disabled={store.future.length === 0}>
              Redo
            </Button>
            <Button size="sm" variant="outline" onClick={() => setShowShortcuts(true)}>
              Shortcuts
            </Button>
            <Button size="sm" onClick={() => setShowExport(true)}>
              Export
            </Button>
          </div>
        }
      />
      {restorable !== null && (
        <div role="status" className="mb-3 flex items-center gap-2 rounded-md border border-amber-300 bg-amber-50 p-2 text-sm dark:border-amber-800 dark:bg-amber-950">
          An unsaved draft of this flow is kept in this browser.
          <Button
            size="sm"
            onClick={() => {
              store.load(restorable);
              setRestorable(null);
            }}
          >
            Restore it
          </Button>
          <Button
            size="sm"
            variant="outline"
            onClick={() => {
              window.localStorage.removeItem(key);
              setRestorable(null);
            }}
          >
            Discard it
          </Button>
        </div>
      )}
      <div className="grid gap-3 lg:grid-cols-[15rem_1fr_22rem]">
        <aside className="h-[75vh] rounded-md border border-border p-2">
          <Palette catalogue={catalogue.data} onPick={(action) => add(action, ["steps"], -1)} />
        </aside>
        <div className="flex h-[75vh] flex-col gap-2">
          <div className="min-h-0 flex-[3] rounded-md border border-border">
            <EditorCanvas marks={marks} onAdd={add} onMove={move} />
          </div>
          <div className="min-h-0 flex-[2]">
            <YamlPane />
          </div>
        </div>
        <aside className="h-[75vh] overflow-y-auto rounded-md border border-border p-3" data-testid="properties">
          <h2 className="mb-2 text-sm font-semibold">{selected ? "Step" : "Flow settings"}</h2>
          {selected ? (
            <StepForm path={selected} catalogue={catalogue.data} onEdit={edit} onMove={shift} onDuplicate={duplicate} onDelete={remove} pickedCapture={null} />
          ) : (
            <FlowSettings onEdit={edit} />
          )}
          <details className="mt-4 border-t border-border pt-2" open={runId !== ""}>
            <summary className="cursor-pointer text-sm font-semibold">Draft run</summary>
            <DraftRunPanel flowText={goodText} namespace={namespace} runId={runId} onStarted={setRunId} onCapture={capture} />
          </details>
        </aside>
      </div>
      <ExportDialog open={showExport} onClose={() => setShowExport(false)} initial={{ namespace: namespace || "default", name }} />
      <ShortcutsDialog open={showShortcuts} onClose={() => setShowShortcuts(false)} />
    </>
  );
}

export default function NewFlowPage() {
  return (
    <Suspense fallback={<LoadingState rows={6} />}>
      <Editor />
    </Suspense>
  );
}
