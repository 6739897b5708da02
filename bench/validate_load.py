"""Times POST /api/v1/validate with a flow of N steps, each request followed by the baseline
GET /healthz on the same keep-alive connection; prints p50/p99 of both and their ratio."""

import http.client
import json
import sys
import time
from urllib.parse import urlparse


def flow(steps: int) -> str:
    lines = ["# bench flow", "name: Validate bench", "env:", "  BASE_URL: http://127.0.0.1:1", "steps:"]
    for i in range(steps):
        lines += [
            f"  - id: step_{i}",
            "    action: http_request",
            "    config:",
            f"      url: ${{BASE_URL}}/items/{i}",
            "      headers: {Accept: application/json}",
            "    assert:",
            "      - status == 200",
            f'      - body.id == "{i}"',
            "    output:",
            f"      item_{i}: $.body.id",
        ]
    return "\n".join(lines) + "\n"


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


def main() -> int:
    base, steps, requests = urlparse(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    body = flow(steps).encode()
    conn = http.client.HTTPConnection(base.hostname, base.port)
    validate, health = [], []
    for i in range(requests + 20):
        started = time.perf_counter()
        conn.request("POST", "/api/v1/validate", body, {"content-type": "application/yaml"})
        answer = conn.getresponse()
        report = json.loads(answer.read())
        middle = time.perf_counter()
        conn.request("GET", "/healthz")
        conn.getresponse().read()
        ended = time.perf_counter()
        if answer.status != 200 or not report["valid"]:
            print(f"unexpected answer {answer.status}: {report}", file=sys.stderr)
            return 1
        if i >= 20:  # warm-up
            validate.append((middle - started) * 1000)
            health.append((ended - middle) * 1000)
    for name, samples in (("validate", validate), ("healthz (baseline)", health)):
        print(f"{name:>20}: p50 {percentile(samples, 0.5):7.2f} ms  p99 {percentile(samples, 0.99):7.2f} ms")
    print(f"{'ratio p99':>20}: {percentile(validate, 0.99) / percentile(health, 0.99):.1f}x the baseline")
    return 0


if __name__ == "__main__":
    sys.exit(main())
