// Reads what an assertion expected out of its expression, so the page can put it beside the
// actual value the executor recorded: `status == 201` expected 201 where `status` was 500.

import type { AssertionOutcome } from "./types";
import { formatValue } from "./format";

const OPERATORS = ["==", "!=", ">=", "<=", ">", "<", " not contains ", " contains ", " matches ", " startsWith ", " endsWith ", " not in ", " in "];

export interface Comparison {
  left: string;
  operator: string;
  right: string;
}

/** Splits `left OP right` at the first top-level operator (outside quotes and brackets). */
export function parseComparison(expression: string): Comparison | null {
  let depth = 0;
  let quote: string | null = null;
  for (let i = 0; i < expression.length; i++) {
    const char = expression[i];
    if (quote) {
      if (char === "\\") i++;
      else if (char === quote) quote = null;
      continue;
    }
    if (char === '"' || char === "'" || char === "`") {
      quote = char;
      continue;
    }
    if (char === "(" || char === "[" || char === "{") depth++;
    if (char === ")" || char === "]" || char === "}") depth--;
    if (depth !== 0) continue;
    const rest = expression.slice(i);
    if (/^\s*(&&|\|\|)/.test(rest) || /^ (and|or) /.test(rest)) return null;
    for (const operator of OPERATORS) {
      if (rest.startsWith(operator)) {
        const left = expression.slice(0, i).trim();
        const right = expression.slice(i + operator.length).trim();
        if (left === "" || right === "" || /(&&|\|\|| and | or )/.test(right)) return null;
        return { left, operator: operator.trim(), right };
      }
    }
  }
  return null;
}

export interface AssertionRow {
  path: string;
  expected: string;
  actual: string;
}

/** One row per value the assertion read: the compared path gets the expectation beside it. */
export function assertionRows(assertion: AssertionOutcome): AssertionRow[] {
  const comparison = parseComparison(assertion.expression);
  const expected = comparison ? (comparison.operator === "==" ? comparison.right : `${comparison.operator} ${comparison.right}`) : assertion.expression;
  const actual = assertion.actual ?? {};
  const paths = Object.keys(actual);
  if (paths.length === 0) {
    return [{ path: comparison?.left ?? "", expected, actual: "—" }];
  }
  return paths.map((path) => ({
    path,
    expected: comparison && normalise(comparison.left) === normalise(path) ? expected : paths.length === 1 ? expected : "",
    actual: formatValue(actual[path]),
  }));
}

function normalise(path: string): string {
  return path.replace(/\s+/g, "").replace(/\["([^"]+)"\]/g, ".$1").replace(/\['([^']+)'\]/g, ".$1");
}
