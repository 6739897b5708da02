#!/usr/bin/env python3
"""A small stand-in for the Kubernetes API, for bench/operator.sh only.

Serves FLOWS TestFlows and SCHEDULES TestSchedules (and empty lists of everything else the
operator watches) to list and watch requests, accepts status patches, Events and the leader
Lease, and counts the status patches per kind. GET /stats returns the counts and the time the
last expected patch arrived, so the bench can time a full resync; POST /stats/reset zeroes them.

The objects are shaped like a real API server's: `uid`, `resourceVersion`, `generation`,
`creationTimestamp`, labels, `managedFields` for the applying manager, the client-side
`kubectl apply` annotation (a copy of the object) on every other one, and, once the operator
has written it, the status with the status manager's own managedFields entry. A status
write is kept and served by later lists, as a real server keeps it.

    python3 bench/mock_kube_api.py PORT FLOWS SCHEDULES
"""

import json
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port, flows, schedules = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
GROUP = "/apis/testmesh.io/v1alpha1"


APPLY_TIME = "2026-03-01T09:00:00Z"


def fields_of(value):
    """The FieldsV1 set of a JSON value, as server-side apply records it."""
    if isinstance(value, dict):
        return {f"f:{key}": fields_of(child) for key, child in value.items()}
    if isinstance(value, list):
        return {f'k:{{"index":{i}}}': fields_of(child) for i, child in enumerate(value)}
    return {}


def real_shaped(kind, name, namespace, uid, index, spec, labels):
    applied = {"apiVersion": "testmesh.io/v1alpha1", "kind": kind,
               "metadata": {"name": name, "namespace": namespace, "labels": labels}, "spec": spec}
    annotations = {}
    if index % 2 == 0:
        annotations["kubectl.kubernetes.io/last-applied-configuration"] = json.dumps(applied) + "\n"
    metadata = {"name": name, "namespace": namespace, "uid": uid, "generation": 1,
                "resourceVersion": "1", "creationTimestamp": APPLY_TIME, "labels": labels,
                "managedFields": [{"manager": "kubectl", "operation": "Apply",
                                   "apiVersion": "testmesh.io/v1alpha1", "time": APPLY_TIME,
                                   "fieldsType": "FieldsV1",
                                   "fieldsV1": {"f:metadata": {"f:labels": fields_of(labels)},
                                                "f:spec": fields_of(spec)}}]}
    if annotations:
        metadata["annotations"] = annotations
    return {"apiVersion": "testmesh.io/v1alpha1", "kind": kind, "metadata": metadata, "spec": spec}


def flow(i):
    spec = {
        "name": f"Flow {i}",
        "tags": ["bench"],
        "steps": [
            {"id": "create", "action": "http_request",
             "config": {"method": "POST", "url": "http://svc/orders", "body": {"sku": i}},
             "assert": ["status == 201"], "output": {"order_id": "$.body.id"}},
            {"id": "read", "action": "http_request",
             "config": {"url": "http://svc/orders/${order_id}"},
             "assert": ["body.id == order_id"]},
        ],
    }
    return real_shaped("TestFlow", f"flow-{i}", f"ns-{i % 20}", f"uid-flow-{i:08d}", i, spec,
                       {"suite": f"s{i % 50}", "app.kubernetes.io/part-of": "shop"})


def schedule(i):
    target = i * 5 % max(flows, 1)
    spec = {"schedule": "0 3 1 1 *", "timeZone": "Europe/Berlin", "flowRef": {"name": f"flow-{target}"}}
    return real_shaped("TestSchedule", f"schedule-{i}", f"ns-{target % 20}", f"uid-sched-{i:08d}", i,
                       spec, {"suite": f"s{i % 50}"})


def listing(kind, items):
    return (kind, items)


def page(listed, query):
    """One page of a list, as a real API server answers `limit` and `continue`."""
    kind, items = listed
    params = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
    start = int(params.get("continue") or 0)
    limit = int(params.get("limit") or 0) or len(items) or 1
    end = start + limit
    metadata = {"resourceVersion": str(version[0])}
    if end < len(items):
        metadata["continue"] = str(end)
    return json.dumps({"apiVersion": "v1", "kind": kind + "List", "metadata": metadata,
                       "items": items[start:end]}).encode()


FLOWS = [flow(i) for i in range(flows)]
SCHEDULES = [schedule(i) for i in range(schedules)]
OBJECTS = {f"{GROUP}/namespaces/{o['metadata']['namespace']}/{plural}/{o['metadata']['name']}": o
           for plural, items in (("testflows", FLOWS), ("testschedules", SCHEDULES)) for o in items}
LISTS = {
    f"{GROUP}/testflows": listing("TestFlow", FLOWS),
    f"{GROUP}/testschedules": listing("TestSchedule", SCHEDULES),
    f"{GROUP}/testenvironments": listing("TestEnvironment", []),
    "/api/v1/secrets": listing("Secret", []),
    "/api/v1/configmaps": listing("ConfigMap", []),
}
STATUS = re.compile(GROUP + r"/namespaces/([^/]+)/(testflows|testschedules|testenvironments)/([^/]+)/status$")
NOT_FOUND = json.dumps({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                        "reason": "NotFound", "message": "not found", "code": 404}).encode()
KINDS = {"testflows": "TestFlow", "testschedules": "TestSchedule", "testenvironments": "TestEnvironment"}

lock = threading.Lock()
patched = {"testflows": set(), "testschedules": set()}
stats = {"patches": 0, "events": 0, "first_request": None, "done": None}
version = [1]
lease = {}


def reset_stats():
    patched["testflows"].clear()
    patched["testschedules"].clear()
    stats.update(patches=0, events=0, first_request=None, done=None)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, code, body):
        # Headers and body in one write, so no delayed ACK stalls a keep-alive client.
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self._headers_buffer.append(b"\r\n" + body)
        self.flush_headers()

    def body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or ""):
            data = b""
            while True:
                size = int(self.rfile.readline().strip().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_GET(self):
        path, _, query = self.path.partition("?")
        with lock:
            if stats["first_request"] is None:
                stats["first_request"] = time.time()
        if path == "/stats":
            with lock:
                out = dict(stats, flows=len(patched["testflows"]), schedules=len(patched["testschedules"]))
            return self.reply(200, json.dumps(out).encode())
        if path in LISTS:
            if "watch=true" in query or "watch=1" in query:
                # Hold the watch open with no events until the client gives up.
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                self.wfile.flush()
                time.sleep(290)
                return
            with lock:
                body = page(LISTS[path], query)
            return self.reply(200, body)
        if path in OBJECTS:
            with lock:
                body = json.dumps(OBJECTS[path]).encode()
            return self.reply(200, body)
        if path.endswith("/leases/testmesh-operator"):
            with lock:
                if lease:
                    return self.reply(200, json.dumps(lease).encode())
        self.reply(404, NOT_FOUND)

    def do_POST(self):
        body = self.body()
        if self.path == "/stats/reset":
            with lock:
                reset_stats()
            return self.reply(200, b"{}")
        if self.path.split("?")[0].endswith("/leases"):
            with lock:
                lease.update(json.loads(body))
                lease.setdefault("metadata", {})["resourceVersion"] = "1"
            return self.reply(201, json.dumps(lease).encode())
        with lock:
            stats["events"] += 1
        self.reply(201, body)

    def do_PUT(self):
        body = self.body()
        with lock:
            lease.clear()
            lease.update(json.loads(body))
        self.reply(200, body)

    def do_PATCH(self):
        body = self.body()
        path = self.path.split("?")[0]
        match = STATUS.match(path)
        if not match:
            return self.reply(200, body)  # an Event series
        namespace, plural, name = match.groups()
        key = f"{GROUP}/namespaces/{namespace}/{plural}/{name}"
        status = json.loads(body).get("status")
        with lock:
            stats["patches"] += 1
            if plural in patched:
                patched[plural].add((namespace, name))
                if stats["done"] is None and len(patched["testflows"]) >= flows \
                        and len(patched["testschedules"]) >= schedules:
                    stats["done"] = time.time()
            stored = OBJECTS.get(key)
            if stored is None:
                answer = {"apiVersion": "testmesh.io/v1alpha1", "kind": KINDS[plural],
                          "metadata": {"name": name, "namespace": namespace}, "spec": {}}
            else:
                version[0] += 1
                stored["status"] = status
                stored["metadata"]["resourceVersion"] = str(version[0])
                stored["metadata"]["managedFields"] = stored["metadata"]["managedFields"][:1] + [
                    {"manager": "testmesh-operator", "operation": "Apply", "subresource": "status",
                     "apiVersion": "testmesh.io/v1alpha1", "time": APPLY_TIME,
                     "fieldsType": "FieldsV1", "fieldsV1": {"f:status": fields_of(status)}}]
                answer = stored
            answer = json.dumps(answer).encode()
        self.reply(200, answer)


ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer.request_queue_size = 256
ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
