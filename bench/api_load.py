#!/usr/bin/env python3
"""A small load driver for bench/api.sh: requests each target path interleaved with a baseline
path (the same connection pool, the same moment), and prints p50/p99 of both and the ratio.
Only 127.0.0.1; bounded by a request count and a time limit per target.

  api_load.py BASE_URL BASELINE_PATH REQUESTS SECONDS NAME=PATH...
"""

import http.client
import statistics
import sys
import threading
import time
import urllib.parse

CLIENTS = 4
TARGET_MS = 50.0


def percentile(samples, q):
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def worker(host, port, paths, count, deadline, results, errors):
    conn = http.client.HTTPConnection(host, port, timeout=30)
    for i in range(count):
        if time.monotonic() > deadline:
            break
        path = paths[i % len(paths)]
        start = time.perf_counter()
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        elapsed = (time.perf_counter() - start) * 1000
        if response.status != 200:
            errors.append(f"{response.status} for {path}")
        results.setdefault(path, []).append(elapsed)
    conn.close()


def measure(base, baseline, path, requests, seconds):
    url = urllib.parse.urlsplit(base)
    assert url.hostname == "127.0.0.1", "the driver only talks to 127.0.0.1"
    deadline = time.monotonic() + seconds
    per_client = [dict() for _ in range(CLIENTS)]
    errors = []
    threads = [
        threading.Thread(target=worker, args=(url.hostname, url.port, [path, baseline], requests * 2 // CLIENTS, deadline, per_client[i], errors))
        for i in range(CLIENTS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    merged = {}
    for results in per_client:
        for key, samples in results.items():
            merged.setdefault(key, []).extend(samples)
    return merged.get(path, []), merged.get(baseline, []), errors


def main():
    base, baseline, requests, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    print(f"{'endpoint':<26} {'n':>6} {'p50 ms':>8} {'p99 ms':>8}   {'baseline p99':>12} {'ratio':>6}   target p99 < {TARGET_MS:.0f} ms")
    failed = False
    for spec in sys.argv[5:]:
        name, path = spec.split("=", 1)
        # Warm-up: plans cached, pages in memory.
        measure(base, baseline, path, 20, 10)
        samples, base_samples, errors = measure(base, baseline, path, requests, seconds)
        if errors or not samples:
            print(f"{name:<26} errors: {errors[:3]}")
            failed = True
            continue
        p50, p99 = percentile(samples, 0.5), percentile(samples, 0.99)
        b99 = percentile(base_samples, 0.99)
        verdict = "meets" if p99 < TARGET_MS else "MISSES"
        print(f"{name:<26} {len(samples):>6} {p50:>8.1f} {p99:>8.1f}   {b99:>12.1f} {p99 / b99:>6.1f}x  {verdict} the target")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
