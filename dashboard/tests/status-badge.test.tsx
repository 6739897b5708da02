import { render, screen } from "@testing-library/react";
import { StatusBadge } from "@/components/status-badge";

describe("StatusBadge", () => {
  it.each([
    ["passed", "Passed"],
    ["failed", "Failed"],
    ["error", "Error"],
    ["running", "Running"],
    ["queued", "Queued"],
    ["timed_out", "Timed out"],
    ["skipped", "Skipped"],
    ["cancelled", "Cancelled"],
  ])("shows %s as %s", (status, label) => {
    render(<StatusBadge status={status} />);
    const badge = screen.getByText(label).parentElement!;
    expect(badge).toHaveAttribute("data-status", status);
  });

  it("says a flow that never ran never ran", () => {
    render(<StatusBadge status={null} />);
    expect(screen.getByText("Never run")).toBeInTheDocument();
  });

  it("shows a status it does not know by its own name", () => {
    render(<StatusBadge status="paused" />);
    expect(screen.getByText("paused")).toBeInTheDocument();
  });

  it("keeps the label for screen readers and as a tooltip when compact", () => {
    render(<StatusBadge status="failed" compact />);
    const label = screen.getByText("Failed");
    expect(label).toHaveClass("sr-only");
    expect(label.parentElement).toHaveAttribute("title", "Failed");
  });
});
