"""A tiny service for Prometheus to scrape in the tests: `POST /orders` counts an order,
`GET /metrics` exposes the count as `testmesh_example_orders_total` in the text format.
Usage: python3 metrics_target.py PORT (binds 127.0.0.1)."""

import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

orders = 0
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path != "/metrics":
            self.send_error(404)
            return
        with lock:
            count = orders
        body = (
            "# TYPE testmesh_example_orders_total counter\n"
            f'testmesh_example_orders_total{{service="orders"}} {count}\n'
            "# TYPE testmesh_example_build_info gauge\n"
            'testmesh_example_build_info{service="orders",version="1.4.2"} 1\n'
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        global orders
        if self.path != "/orders":
            self.send_error(404)
            return
        with lock:
            orders += 1
            count = orders
        body = f'{{"orders": {count}}}'.encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
