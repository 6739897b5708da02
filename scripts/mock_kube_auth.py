#!/usr/bin/env python3
"""A small stand-in for the Kubernetes API, for bench/api_auth.sh only.

Answers TokenReviews (TOKEN is user `bench` in group `bench-readers`; any other token is
refused) and SubjectAccessReviews (`bench` may get TestFlows in each namespace ns0..ns9, but not
in every namespace at once, so the API asks per namespace), serves empty lists of the
definitions the API watches and holds their watches open. GET /stats returns how many reviews
of each kind it answered.

    python3 bench/mock_auth_api.py PORT TOKEN
"""

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port, token, user = int(sys.argv[1]), sys.argv[2], sys.argv[3]
READABLE = set(sys.argv[4].split(","))
counts = {"TokenReview": 0, "SubjectAccessReview": 0}
lock = threading.Lock()


def token_review(review):
    if review["spec"].get("token") == token:
        return {"authenticated": True, "user": {"username": user, "groups": ["testmesh-readers"]}}
    return {"authenticated": False, "error": "unknown token"}


def access_review(review):
    spec = review["spec"]
    attributes = spec.get("resourceAttributes", {})
    allowed = (spec.get("user") == user and attributes.get("verb") == "get"
               and attributes.get("group") == "testmesh.io"
               and attributes.get("resource") == "testflows"
               and attributes.get("namespace") in READABLE)
    return {"allowed": allowed}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, body, status=200):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        try:
            self.wfile.write(data)
        except BrokenPipeError:
            pass  # the API dropped the request (its caller went away)

    def do_POST(self):
        review = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
        kind = review.get("kind")
        if kind == "TokenReview":
            review["status"] = token_review(review)
        elif kind == "SubjectAccessReview":
            review["status"] = access_review(review)
        else:
            self.answer({"kind": "Status", "code": 404}, 404)
            return
        with lock:
            counts[kind] += 1
        self.answer(review, 201)

    def do_GET(self):
        if self.path == "/stats":
            with lock:
                self.answer(dict(counts))
            return
        # The definitions are not served: the API's cluster catalog never fills and its
        # answers come from the store, where the seeded runs are.
        self.answer({"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "Forbidden",
                     "message": "this stand-in serves reviews only", "code": 403}, 403)


ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
