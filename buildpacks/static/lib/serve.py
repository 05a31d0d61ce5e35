#!/usr/bin/env python3
"""A small static file server for the static buildpack (stdlib only).

    python3 serve.py [ROOT]

ROOT defaults to $STATIC_ROOT, then to the path written in the `root` file
beside this script, then to the current directory. Listens on 0.0.0.0:$PORT
(default 5000). Directories serve their index.html, or 404: never a listing.
Dotfiles and dot-directories (.git, .profile.d, .static-server, ...) are never
served, except /.well-known/. One log line per request on stdout.
"""
import http.server
import mimetypes
import os
import posixpath
import signal
import sys
import time
import urllib.parse

EXTRA_TYPES = {
    '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css',
    '.json': 'application/json', '.map': 'application/json', '.wasm': 'application/wasm',
    '.svg': 'image/svg+xml', '.webp': 'image/webp', '.avif': 'image/avif', '.ico': 'image/x-icon',
    '.woff': 'font/woff', '.woff2': 'font/woff2', '.ttf': 'font/ttf', '.otf': 'font/otf',
    '.webmanifest': 'application/manifest+json', '.txt': 'text/plain', '.md': 'text/markdown',
    '.xml': 'application/xml', '.csv': 'text/csv', '.mp4': 'video/mp4', '.webm': 'video/webm',
}
TEXTUAL = ('text/', 'application/json', 'application/xml', 'application/manifest+json', 'image/svg+xml')


def find_root(argv):
    if len(argv) > 1:
        return argv[1]
    if os.environ.get('STATIC_ROOT'):
        return os.environ['STATIC_ROOT']
    marker = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'root')
    try:
        with open(marker, encoding='utf-8') as fh:
            return fh.read().strip() or os.getcwd()
    except OSError:
        return os.getcwd()


class Handler(http.server.SimpleHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'  # keep-alive: every response carries Content-Length

    def version_string(self):
        return 'paas-static'

    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, **EXTRA_TYPES}

    def guess_type(self, path):
        ctype = super().guess_type(path)
        if ctype.startswith(TEXTUAL) and 'charset' not in ctype:
            ctype += '; charset=utf-8'
        return ctype

    def _hidden(self):
        parts = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path).split('/')
        return any(p.startswith('.') and p != '.well-known' for p in parts if p)

    def translate_path(self, path):
        # The base class already drops '..' segments; also refuse anything a
        # symlink would take outside the root.
        full = super().translate_path(path)
        root = os.path.realpath(self.directory)
        real = os.path.realpath(full)
        if real != root and not real.startswith(root + os.sep):
            return os.path.join(root, '.outside-root')  # a hidden name: never served
        return full

    def send_head(self):
        if self._hidden():
            self.not_found()
            return None
        return super().send_head()

    def list_directory(self, path):
        self.not_found()
        return None

    def not_found(self):
        page = os.path.join(self.directory, '404.html')
        body = b'404 Not Found\n'
        ctype = 'text/plain; charset=utf-8'
        if os.path.isfile(page):
            with open(page, 'rb') as fh:
                body, ctype = fh.read(), 'text/html; charset=utf-8'
        self.send_response(404)
        self.send_header('Content-Type', ctype)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(body)

    def send_error(self, code, message=None, explain=None):
        if code == 404:
            self.not_found()
        else:
            super().send_error(code, message, explain)

    def end_headers(self):
        self.send_header('X-Content-Type-Options', 'nosniff')
        super().end_headers()

    def log_request(self, code='-', size='-'):
        took = (time.monotonic() - getattr(self, '_started', time.monotonic())) * 1000
        code = getattr(code, 'value', code)
        sys.stdout.write('%s %s %s %s %.1fms\n' % (
            self.address_string(), self.command, self.path, code, took))
        sys.stdout.flush()

    def log_message(self, fmt, *args):  # errors; requests go through log_request
        sys.stdout.write('%s %s\n' % (self.address_string(), fmt % args))
        sys.stdout.flush()

    def parse_request(self):
        self._started = time.monotonic()
        return super().parse_request()


def main(argv):
    root = os.path.abspath(find_root(argv))
    port = int(os.environ.get('PORT') or 5000)
    mimetypes.init()

    class RootHandler(Handler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=root, **kwargs)

    server = http.server.ThreadingHTTPServer(('0.0.0.0', port), RootHandler)
    server.daemon_threads = True

    def stop(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        print('serving %s on 0.0.0.0:%d' % (root, port), flush=True)
        server.serve_forever()
    finally:
        server.server_close()
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
