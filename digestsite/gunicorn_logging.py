"""gunicorn's logs as JSON lines, like Django's (``logger_class`` in gunicorn.conf.py).

The access log line carries its fields (method, path, status, bytes, duration, client,
referer, user agent) as JSON keys, so a log shipper needs no parsing rule."""

from gunicorn.glogging import Logger


class JsonAccessLogger(Logger):
    def access(self, resp, req, environ, request_time):
        if not self.access_log_enabled:
            return
        atoms = self.atoms(resp, req, environ, request_time)
        status = str(atoms.get("s", "")).split(" ", 1)[0]
        fields = {
            "method": atoms.get("m"),
            "path": atoms.get("U"),
            "query": atoms.get("q") or "",
            "status": int(status) if status.isdigit() else status,
            "bytes": atoms.get("B") or 0,
            "duration_ms": atoms.get("M"),
            "client": atoms.get("h"),
            "referer": atoms.get("f"),
            "user_agent": atoms.get("a"),
        }
        self.access_log.info(
            "%s %s %s", fields["method"], fields["path"], fields["status"], extra=fields
        )
