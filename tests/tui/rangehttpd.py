#!/usr/bin/env python3
# A small HTTP/1.1 file server on 127.0.0.1 for the pull tests, with what
# python3's http.server lacks: Range requests (206, Content-Range, 416).
# It serves DIR, writes its port to PORTFILE and logs "GET PATH RANGE" a
# line to LOG. Two files in DIR steer it: ".cut" (holding a file name)
# makes the next GET of that file send half the body and close the
# connection (".cut" is then removed);
# ".norange" makes it ignore Range and send the whole file; while
# ".hold" (holding a file name) is there, a GET of that file sends half
# the body and then waits.
# Usage: rangehttpd.py DIR PORTFILE LOG
import http.server
import os
import re
import sys
import time

root, portfile, logfile = sys.argv[1:4]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        rng = self.headers.get("Range")
        with open(logfile, "a") as log:
            log.write("GET %s %s\n" % (self.path, rng or "-"))
        path = os.path.join(root, os.path.basename(self.path))
        if not os.path.isfile(path):
            self.send_error(404)
            return
        with open(path, "rb") as f:
            data = f.read()
        start = 0
        m = re.fullmatch(r"bytes=(\d+)-(\d*)", rng or "")
        if m and not os.path.exists(os.path.join(root, ".norange")):
            start = int(m.group(1))
            end = int(m.group(2)) + 1 if m.group(2) else len(data)
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", "bytes */%d" % len(data))
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", "bytes %d-%d/%d" %
                             (start, end - 1, len(data)))
            data = data[start:end]
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        cut = os.path.join(root, ".cut")
        if os.path.exists(cut) and \
                open(cut).read().strip() == os.path.basename(path):
            os.unlink(cut)
            self.wfile.write(data[:len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        hold = os.path.join(root, ".hold")
        if os.path.exists(hold) and \
                open(hold).read().strip() == os.path.basename(path):
            self.wfile.write(data[:len(data) // 2])
            self.wfile.flush()
            data = data[len(data) // 2:]
            while os.path.exists(hold):
                time.sleep(0.05)
        self.wfile.write(data)


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(portfile + ".tmp", "w") as f:
    f.write("%d\n" % server.server_address[1])
os.rename(portfile + ".tmp", portfile)
server.serve_forever()
