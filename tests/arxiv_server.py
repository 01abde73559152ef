"""A local stand-in for export.arxiv.org: an HTTP server on 127.0.0.1 that answers each
request with the next queued response (recorded Atom files in tests/arxiv_responses/)."""

import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

RESPONSES = Path(__file__).parent / "arxiv_responses"
ATOM = "application/atom+xml; charset=utf-8"


def recorded(name: str) -> bytes:
    return (RESPONSES / name).read_bytes()


@dataclass
class Reply:
    body: bytes = b""
    status: int = 200
    content_type: str = ATOM
    headers: dict = field(default_factory=dict)
    delay: float = 0


class FakeArxiv:
    def __init__(self):
        self.queue: list[Reply] = []
        self.requests: list[dict] = []
        self.fallback = None  # callable(ids) -> Reply, when the queue is empty
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                query = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
                ids = query.get("id_list", [""])[0].split(",")
                server.requests.append(
                    {"ids": ids, "user_agent": self.headers.get("User-Agent", ""), "query": query}
                )
                if server.queue:
                    reply = server.queue.pop(0)
                elif server.fallback:
                    reply = server.fallback(ids)
                else:
                    reply = Reply(recorded("empty.xml"))
                if reply.delay:
                    time.sleep(reply.delay)
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", reply.content_type)
                    self.send_header("Content-Length", str(len(reply.body)))
                    for key, value in reply.headers.items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/api/query"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def add(self, *replies: Reply) -> None:
        self.queue.extend(replies)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def entry_xml(arxiv_id: str, *, title=None, category="cs.LG") -> str:
    """An Atom entry shaped like arXiv's, for generated feeds."""
    return f"""  <entry>
    <id>http://arxiv.org/abs/{arxiv_id}v1</id>
    <updated>2025-09-29T17:12:03Z</updated>
    <published>2025-09-26T14:41:40Z</published>
    <title>{title or "Generated paper " + arxiv_id}</title>
    <summary>An abstract for {arxiv_id}, long enough to look like one.</summary>
    <author><name>Ada Lovelace</name></author>
    <author><name>Charles Babbage</name></author>
    <link href="http://arxiv.org/abs/{arxiv_id}v1" rel="alternate" type="text/html"/>
    <link title="pdf" href="http://arxiv.org/pdf/{arxiv_id}v1" rel="related"/>
    <arxiv:primary_category xmlns:arxiv="http://arxiv.org/schemas/atom" term="{category}"/>
    <category term="{category}"/>
  </entry>
"""


def feed_xml(entries: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">\n'
        "  <title>ArXiv Query</title>\n" + entries + "</feed>\n"
    ).encode()
