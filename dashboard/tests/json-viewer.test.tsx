import { fireEvent, render, screen } from "@testing-library/react";
import { JsonViewer } from "@/components/json-viewer";

const response = {
  status: 500,
  body: { state: "pending", error: { code: "inventory_locked", retryable: true } },
  items: [1, 2, 3],
};

describe("JsonViewer", () => {
  it("shows the first levels unfolded and folds deeper ones to a summary", () => {
    render(<JsonViewer value={response} openDepth={2} />);
    expect(screen.getByText('"pending"')).toBeInTheDocument();
    expect(screen.getByText("500")).toBeInTheDocument();
    expect(screen.queryByText('"inventory_locked"')).not.toBeInTheDocument();
    expect(screen.getByText("2 keys")).toBeInTheDocument();
  });

  it("unfolds a folded object and folds it again", () => {
    render(<JsonViewer value={response} openDepth={2} />);
    fireEvent.click(screen.getByRole("button", { name: "Unfold error" }));
    expect(screen.getByText('"inventory_locked"')).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Fold error" })).toHaveAttribute("aria-expanded", "true");
    fireEvent.click(screen.getByRole("button", { name: "Fold error" }));
    expect(screen.queryByText('"inventory_locked"')).not.toBeInTheDocument();
  });

  it("folds the whole document to a count of its keys", () => {
    render(<JsonViewer value={response} />);
    fireEvent.click(screen.getByRole("button", { name: "Fold value" }));
    expect(screen.getByText("3 keys")).toBeInTheDocument();
    expect(screen.queryByText("500")).not.toBeInTheDocument();
  });

  it("counts array items and shows scalars, null and empty containers", () => {
    render(<JsonViewer value={{ list: ["a", "b"], none: null, empty: {}, ok: false }} openDepth={1} />);
    expect(screen.getByText("2 items")).toBeInTheDocument();
    expect(screen.getByText("null")).toBeInTheDocument();
    expect(screen.getByText("false")).toBeInTheDocument();
  });
});

describe("JsonViewer with onPick", () => {
  it("answers the JSONPath of the key clicked, for captures", () => {
    const picked: string[] = [];
    render(<JsonViewer value={{ status: 200, body: { items: [{ id: "ord-1" }], "x-ray": true } }} openDepth={5} onPick={(path) => picked.push(path)} />);
    fireEvent.click(screen.getByTitle("Capture $.body.items[0].id"));
    fireEvent.click(screen.getByTitle('Capture $.body["x-ray"]'));
    fireEvent.click(screen.getByTitle("Capture $.status"));
    expect(picked).toEqual(["$.body.items[0].id", '$.body["x-ray"]', "$.status"]);
  });
});
