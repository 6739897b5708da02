// The editor's keyboard shortcuts, listed.
"use client";

import { Dialog } from "../ui/dialog";

export const SHORTCUTS: [string, string][] = [
  ["Ctrl/⌘ Z", "Undo"],
  ["Ctrl/⌘ Shift Z, Ctrl/⌘ Y", "Redo"],
  ["Delete, Backspace", "Delete the selected step"],
  ["Ctrl/⌘ D", "Duplicate the selected step"],
  ["Ctrl/⌘ C", "Copy the selected step"],
  ["Ctrl/⌘ V", "Paste the copied step after the selection (or at the end)"],
  ["Alt ←, Alt →", "Move the selected step left or right"],
  ["Escape", "Clear the selection"],
  ["?", "Show these shortcuts"],
];

export function ShortcutsDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  return (
    <Dialog title="Keyboard shortcuts" open={open} onClose={onClose}>
      <table className="w-full text-sm">
        <tbody>
          {SHORTCUTS.map(([keys, what]) => (
            <tr key={keys} className="border-b border-border last:border-0">
              <td className="py-1 pr-4 font-mono text-xs">{keys}</td>
              <td className="py-1">{what}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Dialog>
  );
}
