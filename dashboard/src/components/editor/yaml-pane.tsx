// The YAML pane (CodeMirror 6 with YAML highlighting), synced both ways with the canvas: what is
// typed goes to the editor's store (the canvas follows once it parses), and a canvas or form edit
// replaces the pane's text. A YAML error is shown below it, with its line.
"use client";

import { yaml } from "@codemirror/lang-yaml";
import { EditorState } from "@codemirror/state";
import { EditorView } from "@codemirror/view";
import { basicSetup } from "codemirror";
import { useEffect, useRef } from "react";
import { useEditorStore } from "@/lib/editor/store";
import { useThemeStore } from "@/lib/store";

export function YamlPane() {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const text = useEditorStore((s) => s.text);
  const parseError = useEditorStore((s) => s.parseError);
  const theme = useThemeStore((s) => s.theme);

  useEffect(() => {
    if (!host.current) return;
    const editor = new EditorView({
      parent: host.current,
      state: EditorState.create({
        doc: useEditorStore.getState().text,
        extensions: [
          basicSetup,
          yaml(),
          EditorView.lineWrapping,
          EditorView.updateListener.of((update) => {
            if (update.docChanged && update.transactions.some((t) => t.isUserEvent("input") || t.isUserEvent("delete") || t.isUserEvent("undo") || t.isUserEvent("redo") || t.isUserEvent("move"))) {
              useEditorStore.getState().setText(update.state.doc.toString(), "yaml-pane");
            }
          }),
        ],
      }),
    });
    view.current = editor;
    return () => {
      editor.destroy();
      view.current = null;
    };
  }, []);

  useEffect(() => {
    const editor = view.current;
    if (!editor) return;
    const current = editor.state.doc.toString();
    if (current !== text) editor.dispatch({ changes: { from: 0, to: current.length, insert: text } });
  }, [text]);

  return (
    <div className="flex h-full flex-col">
      <div ref={host} data-testid="yaml-pane" className={`min-h-0 flex-1 overflow-auto rounded-md border border-border text-xs ${theme === "dark" ? "bg-zinc-950" : "bg-white"}`} />
      {parseError && (
        <p role="alert" data-testid="yaml-error" className="mt-1 text-xs text-red-700 dark:text-red-300">
          Invalid YAML{parseError.line ? ` (line ${parseError.line})` : ""}: {parseError.message}. The canvas keeps the last valid flow.
        </p>
      )}
    </div>
  );
}
