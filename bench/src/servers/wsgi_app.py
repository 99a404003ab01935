# The bench app's routes as WSGI, for Gunicorn (sync and gthread): gunicorn --chdir DIR wsgi_app:app
import time

HELLO = b"Hello, world!\n"
K16 = b"a" * (16 * 1024)
M1 = b"b" * (1024 * 1024)
SLOW_S = 0.020


def burn(seconds):
    end = time.perf_counter() + seconds
    x = 0.0
    while time.perf_counter() < end:
        x += (x + 1) ** 0.5
    return x


def app(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    body = HELLO
    if path == "/16k":
        body = K16
    elif path == "/1m":
        body = M1
    elif path == "/slow":
        burn(SLOW_S)
    elif path == "/upload":
        length = int(environ.get("CONTENT_LENGTH") or 0)
        n = len(environ["wsgi.input"].read(length))
        body = b"%d\n" % n
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
