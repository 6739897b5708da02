#!/usr/bin/env python3
"""The load driver of bench/api_auth.sh: requests one path of two API servers in alternating
rounds (4 clients with keep-alive connections each round, a bounded count and time), the second
with a bearer token, and prints requests per second and p50/p99 of each and the overhead ratio.
Only 127.0.0.1.

  api_auth_load.py PATH REQUESTS_PER_ROUND ROUNDS BASELINE_URL MEASURED_URL TOKEN
"""

import http.client
import sys
import threading
import time
import urllib.parse

CLIENTS = 4
ROUND_SECONDS = 60


def percentile(samples, q):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def worker(host, port, path, headers, count, deadline, samples, errors):
    conn = http.client.HTTPConnection(host, port, timeout=30)
    for _ in range(count):
        if time.monotonic() > deadline:
            break
        start = time.perf_counter()
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
        samples.append((time.perf_counter() - start) * 1000)
        if response.status != 200:
            errors.append(response.status)
    conn.close()


def round_of(base, path, headers, requests):
    url = urllib.parse.urlsplit(base)
    assert url.hostname == "127.0.0.1", "the driver only talks to 127.0.0.1"
    samples, errors = [], []
    deadline = time.monotonic() + ROUND_SECONDS
    threads = [threading.Thread(target=worker, args=(url.hostname, url.port, path, headers,
                                                     requests // CLIENTS, deadline, samples, errors))
               for _ in range(CLIENTS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise SystemExit(f"{base}{path}: {len(errors)} answers were not 200 (first: {errors[0]})")
    return samples, elapsed


def main():
    path, requests, rounds, baseline, measured, token = sys.argv[1:7]
    requests, rounds = int(requests), int(rounds)
    servers = {"none": (baseline, {}), "kubernetes": (measured, {"Authorization": f"Bearer {token}"})}
    for name, (base, headers) in servers.items():  # warm up: connections, caches, the review
        round_of(base, path, headers, CLIENTS * 10)
    results = {name: ([], 0.0) for name in servers}
    for _ in range(rounds):
        for name, (base, headers) in servers.items():
            samples, elapsed = round_of(base, path, headers, requests)
            total, seconds = results[name]
            results[name] = (total + samples, seconds + elapsed)
    print(f"{'auth':<12}{'requests':>10}{'rps':>10}{'p50 ms':>10}{'p99 ms':>10}")
    summary = {}
    for name, (samples, seconds) in results.items():
        rps = len(samples) / seconds
        summary[name] = (rps, percentile(samples, 0.99))
        print(f"{name:<12}{len(samples):>10}{rps:>10.0f}{percentile(samples, 0.5):>10.2f}"
              f"{percentile(samples, 0.99):>10.2f}")
    (base_rps, base_p99), (rps, p99) = summary["none"], summary["kubernetes"]
    print(f"overhead: rps x{base_rps / rps:.3f} (none/kubernetes), p99 x{p99 / base_p99:.3f} "
          f"(kubernetes/none); the goal is under 1.10")


main()
