# The bench app's routes as WSGI, for Gunicorn (sync and gthread): gunicorn --chdir DIR wsgi_app:app
import json
import time

HELLO = b"Hello, world!\n"
K16 = b"a" * (16 * 1024)
M1 = b"b" * (1024 * 1024)
SLOW_S = 0.020


def _json50k():
    items = []
    text = "[]"
    i = 0
    while len(text) < 50 * 1024:
        items.append({"id": i, "name": "item %d" % i, "tags": ["alpha", "beta", "gamma"], "price": (i * 7) % 1000 + 0.99, "inStock": i % 3 != 0})
        text = json.dumps(items, separators=(",", ":"))
        i += 1
    return text.encode()


JSON50K = _json50k()


def burn(seconds):
    end = time.perf_counter() + seconds
    x = 0.0
    while time.perf_counter() < end:
        x += (x + 1) ** 0.5
    return x


def app(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    body = HELLO
    content_type = "text/plain"
    if path == "/json50k":
        body = JSON50K
        content_type = "application/json"
    elif path == "/16k":
        body = K16
    elif path == "/1m":
        body = M1
    elif path == "/slow":
        burn(SLOW_S)
    elif path == "/upload":
        length = int(environ.get("CONTENT_LENGTH") or 0)
        n = len(environ["wsgi.input"].read(length))
        body = b"%d\n" % n
    start_response("200 OK", [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]
