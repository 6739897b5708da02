import { render, screen } from "@testing-library/react";
import { AssertionDiff } from "@/components/assertion-diff";
import { assertionRows, parseComparison } from "@/lib/expectation";

describe("parseComparison", () => {
  it("splits a comparison at its operator", () => {
    expect(parseComparison("status == 201")).toEqual({ left: "status", operator: "==", right: "201" });
    expect(parseComparison("duration_ms < 500")).toEqual({ left: "duration_ms", operator: "<", right: "500" });
    expect(parseComparison('headers["Content-Type"] contains "json"')).toEqual({ left: 'headers["Content-Type"]', operator: "contains", right: '"json"' });
  });

  it("ignores operators inside quotes and brackets", () => {
    expect(parseComparison('body.note == "a == b"')).toEqual({ left: "body.note", operator: "==", right: '"a == b"' });
    expect(parseComparison("len(filter(body.items, .qty > 1)) >= 2")).toEqual({ left: "len(filter(body.items, .qty > 1))", operator: ">=", right: "2" });
  });

  it("gives up on combined conditions rather than guess", () => {
    expect(parseComparison("status == 200 && body.ok == true")).toBeNull();
    expect(parseComparison("value != nil or ok")).toBeNull();
    expect(parseComparison("body.ok")).toBeNull();
  });
});

describe("AssertionDiff", () => {
  it("puts the expected value beside the actual one for a failed assertion", () => {
    render(<AssertionDiff assertion={{ expression: "status == 201", passed: false, message: "the order is created", actual: { status: 500 } }} />);
    expect(screen.getByText("status == 201")).toBeInTheDocument();
    expect(screen.getByText("the order is created")).toBeInTheDocument();
    expect(screen.getByTestId("expected")).toHaveTextContent("201");
    expect(screen.getByTestId("actual")).toHaveTextContent("500");
    expect(screen.getByTestId("assertion")).toHaveAttribute("data-passed", "false");
  });

  it("quotes string values so an empty string or a number-like text is visible", () => {
    render(<AssertionDiff assertion={{ expression: 'body.state == "confirmed"', passed: false, actual: { "body.state": "pending" } }} />);
    expect(screen.getByTestId("expected")).toHaveTextContent('"confirmed"');
    expect(screen.getByTestId("actual")).toHaveTextContent('"pending"');
  });

  it("shows the operator when the expectation is not equality", () => {
    const rows = assertionRows({ expression: "duration_ms < 500", passed: false, actual: { duration_ms: 812 } });
    expect(rows).toEqual([{ path: "duration_ms", expected: "< 500", actual: "812" }]);
  });

  it("shows an evaluation error and no table for a passed assertion", () => {
    const { rerender } = render(<AssertionDiff assertion={{ expression: "body.items[0].id == 3", passed: false, actual: {}, error: "body.items is null" }} />);
    expect(screen.getByText("body.items is null")).toBeInTheDocument();
    expect(screen.getByTestId("actual")).toHaveTextContent("—");
    rerender(<AssertionDiff assertion={{ expression: "status == 200", passed: true, actual: { status: 200 } }} />);
    expect(screen.queryByTestId("expected")).not.toBeInTheDocument();
  });
});
