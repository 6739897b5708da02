import { render, screen } from "@testing-library/react";
import { NotReadyBadge, NotReadyPanel } from "@/components/flow-readiness";
import type { FlowCondition } from "@/lib/types";

const invalid: FlowCondition[] = [
  { type: "Validated", status: "False", reason: "ValidationFailed", message: "step `ping`: spec.steps[0].action: unknown action `htp`" },
  { type: "Ready", status: "False", reason: "ValidationFailed", message: "the flow is not valid: step `ping`: spec.steps[0].action: unknown action `htp`" },
  { type: "Stalled", status: "True", reason: "ValidationFailed", message: "fix the flow; nothing runs until it is valid" },
];

describe("flow readiness", () => {
  it("marks an invalid flow with the validator's message as tooltip", () => {
    render(<NotReadyBadge flow={{ ready: false, notReadyReason: invalid[1].message, conditions: invalid }} />);
    const badge = screen.getByTestId("flow-not-ready");
    expect(badge).toHaveTextContent("Invalid");
    expect(badge).toHaveAttribute("title", expect.stringContaining("unknown action `htp`"));
  });

  it("says 'Not ready' when the flow is valid but cannot run (no environment)", () => {
    const missing: FlowCondition[] = [{ type: "Ready", status: "False", reason: "EnvironmentNotFound", message: "TestEnvironment qa/staging not found" }];
    render(<NotReadyBadge flow={{ ready: false, notReadyReason: missing[0].message, conditions: missing }} />);
    expect(screen.getByTestId("flow-not-ready")).toHaveTextContent("Not ready");
  });

  it("shows nothing for a ready flow or one only the store knows", () => {
    const { container } = render(
      <>
        <NotReadyBadge flow={{ ready: true, conditions: [] }} />
        <NotReadyPanel flow={{ ready: null }} />
      </>,
    );
    expect(container).toBeEmptyDOMElement();
  });

  it("lists every failing condition with its message on the flow page", () => {
    render(<NotReadyPanel flow={{ ready: false, notReadyReason: invalid[1].message, conditions: invalid }} />);
    const panel = screen.getByRole("alert");
    expect(panel).toHaveTextContent("Validated=False (ValidationFailed): step `ping`: spec.steps[0].action: unknown action `htp`");
    expect(panel).toHaveTextContent("Stalled=True");
    expect(screen.getAllByRole("listitem")).toHaveLength(3);
  });
});
