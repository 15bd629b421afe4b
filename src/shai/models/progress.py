"""Progress bars of ``shai-models download-hf``, built while the download starts.

rich (its console, live display and progress bars) costs ~0.1 s to import: :class:`Deferred`
imports and starts it on a second thread while the main thread asks the Hub and the first bytes
arrive; what the download reports before the bars exist is shown as soon as they do. The
transfer never waits for the display (docs/performance.md, "download-hf").
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from shai.clikit import real_console

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID


def bar(console: Console) -> Progress:
    """The bars: description, bar, bytes, speed, time left (on ``console``)."""
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=real_console(console),
        transient=False,
    )


class Deferred:
    """``with Deferred(console) as bars``: ``bars.file`` / ``bars.verify`` are the callbacks of
    ``hub.download_hf``; ``bars.wait()`` is the rich Progress (once built)."""

    def __init__(self, console: Console) -> None:
        self._lock = threading.Lock()
        self._progress: Progress | None = None
        self._files: dict[str, list[Any]] = {}  # path -> [task or None, done, total]
        self._verified: int | None = None  # bytes hashed after the transfer (HF cache layout)
        self._verify_task: TaskID | None = None
        self._thread = threading.Thread(target=self._build, args=(console,), name="shai-bars", daemon=True)
        self._thread.start()

    def _build(self, console: Console) -> None:
        progress = bar(console)
        progress.start()
        with self._lock:
            for path, state in self._files.items():
                state[0] = progress.add_task(path[-40:], total=state[2], completed=state[1])
            if self._verified is not None:
                self._verify_task = progress.add_task("verify sha256", total=None, completed=self._verified)
            self._progress = progress

    def file(self, path: str, done: int, total: int | None) -> None:
        with self._lock:
            state = self._files.setdefault(path, [None, done, total])
            state[1], state[2] = done, total
            progress = self._progress
            if progress is None:
                return
            if state[0] is None:
                state[0] = progress.add_task(path[-40:], total=total)
            task = state[0]
        progress.update(task, completed=done, total=total)

    def verify(self, n: int) -> None:
        with self._lock:
            self._verified = (self._verified or 0) + n
            progress = self._progress
            if progress is None:
                return
            if self._verify_task is None:
                self._verify_task = progress.add_task("verify sha256", total=None)
            task = self._verify_task
        progress.advance(task, n)

    def wait(self) -> Progress:
        """The Progress, waiting for the thread that builds it."""
        self._thread.join()
        if self._progress is None:  # pragma: no cover - the thread failed; rich prints why
            raise RuntimeError("the progress display could not be started")
        return self._progress

    def __enter__(self) -> Deferred:
        return self

    def __exit__(self, *exc: object) -> None:
        self._thread.join()
        if self._progress is not None:
            self._progress.stop()


def rich_tqdm(progress: Progress) -> type:
    """A tqdm-compatible class that draws huggingface_hub's byte counters as rich bars."""

    class RichTqdm:
        _lock_holder: Any = None

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            self.total = kwargs.get("total")
            self.n = kwargs.get("initial", 0) or 0
            desc = str(kwargs.get("desc") or "")
            self.bytes = kwargs.get("unit") == "B"
            # huggingface_hub opens a file counter (not bytes) and two byte bars; show the transfer one
            self.visible = self.bytes and "Reconstruct" not in desc and not kwargs.get("disable")
            self.task: TaskID | None = None
            if self.visible:
                self.task = progress.add_task("download", total=self.total or None, completed=self.n)

        @classmethod
        def get_lock(cls) -> Any:
            import threading

            if cls._lock_holder is None:
                cls._lock_holder = threading.RLock()
            return cls._lock_holder

        @classmethod
        def set_lock(cls, lock: Any) -> None:
            cls._lock_holder = lock

        def __setattr__(self, key: str, value: Any) -> None:
            object.__setattr__(self, key, value)
            if key == "total" and getattr(self, "task", None) is not None:
                progress.update(self.task, total=value or None)  # type: ignore[arg-type]

        def update(self, n: float | None = 1) -> None:
            self.n += int(n or 0)
            if self.task is not None:
                progress.update(self.task, completed=self.n)

        def refresh(self, *a: Any, **k: Any) -> None:
            if self.task is not None:
                progress.update(self.task, total=self.total or None, completed=self.n)

        def set_description(self, desc: str = "", refresh: bool = True) -> None:
            pass

        set_description_str = set_description

        def set_postfix_str(self, *a: Any, **k: Any) -> None:
            pass

        def close(self) -> None:
            pass

        def __enter__(self) -> RichTqdm:
            return self

        def __exit__(self, *exc: object) -> None:
            self.close()

        def __iter__(self) -> Any:
            return iter(())

    return RichTqdm
