"""A proxy in front of the RDS emulator that makes provisioning slow.

The emulator reports every resource `available` at once; real RDS takes
minutes. This proxy forwards every request unchanged and, for the first
HOLD describe responses, reports `available` resources as `creating`, so the
wait loop's slow and timeout paths run against the real emulator.

usage: python slow_rds_proxy.py LISTEN_PORT UPSTREAM_URL HOLD
Prints "ready" on stdout once it accepts connections.
"""

import http.server
import sys
import urllib.error
import urllib.request

LISTEN_PORT = int(sys.argv[1])
UPSTREAM = sys.argv[2].rstrip("/")
HOLD = int(sys.argv[3])
held = 0

HOLD_ACTIONS = (b"Action=DescribeDBClusters", b"Action=DescribeDBInstances")
REWRITES = (
    (b"<Status>available</Status>", b"<Status>creating</Status>"),
    (b"<DBInstanceStatus>available</DBInstanceStatus>", b"<DBInstanceStatus>creating</DBInstanceStatus>"),
)


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        global held
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        request = urllib.request.Request(UPSTREAM + self.path, data=body, method="POST")
        for name, value in self.headers.items():
            if name.lower() not in ("host", "content-length", "connection"):
                request.add_header(name, value)
        try:
            with urllib.request.urlopen(request) as response:
                status, payload = response.status, response.read()
                content_type = response.headers.get("Content-Type", "text/xml")
        except urllib.error.HTTPError as error:
            status, payload = error.code, error.read()
            content_type = error.headers.get("Content-Type", "text/xml")
        if status == 200 and any(action in body for action in HOLD_ACTIONS) and held < HOLD:
            held += 1
            for old, new in REWRITES:
                payload = payload.replace(old, new)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", LISTEN_PORT), Proxy)
print("ready", flush=True)
server.serve_forever()
