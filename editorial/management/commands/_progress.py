"""Progress for batch commands: a bar on a terminal, plain lines otherwise (logs, CI)."""


class Progress:
    def __init__(self, stream, label: str, width: int = 30):
        self.stream = stream
        self.label = label
        self.width = width
        self.tty = hasattr(stream, "isatty") and stream.isatty()
        self.started = False

    def __call__(self, done: int, total: int) -> None:
        self.started = True
        if self.tty:
            filled = int(self.width * done / total) if total else self.width
            bar = "#" * filled + "-" * (self.width - filled)
            self.stream.write(f"\r{self.label} [{bar}] {done}/{total}", ending="")
            self.stream.flush()
            if done >= total:
                self.stream.write("")
        else:
            self.stream.write(f"{self.label}: {done}/{total}")
