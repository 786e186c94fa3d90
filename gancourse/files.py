"""Writing files so that nothing is ever lost: every file the course writes goes through here.

A file is written under a unique temporary name in its own folder, flushed and synced to disk,
then renamed over the target in one step (``os.replace``). A crash, a kill or a full disk
during the write leaves the previous file as it was; two writers to one path never mix, since
each has its own temporary file and the last rename wins whole. Temporary files left by a
process that died are removed by the next write to the same path (docs/design.md, Reliability).

    with atomic_path("runs/a/generator.pt") as tmp:
        torch.save(state, tmp)
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator

__all__ = ["atomic_path", "atomic_write_text", "clean_stale_temporaries"]

_SUFFIX = ".tmp"


def _prefix(path: Path) -> str:
    return f".{path.name}.{os.getpid()}."


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def clean_stale_temporaries(path: str | os.PathLike) -> list[Path]:
    """Remove temporary files of ``path`` left by processes that no longer run; return them."""
    path = Path(path)
    removed = []
    for candidate in path.parent.glob(f".{path.name}.*{_SUFFIX}"):
        pid = candidate.name[len(path.name) + 2:].split(".", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            with contextlib.suppress(FileNotFoundError):
                candidate.unlink()
                removed.append(candidate)
    return removed


def _mode(path: Path) -> int:
    """The existing file's permissions, else the usual ones for a new file (0666 less the umask)."""
    try:
        return path.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a fresh temporary path next to ``path``; when the block ends without an exception,
    sync it and rename it onto ``path``. On any exception (disk full, Ctrl-C) the temporary file
    is removed, ``path`` is untouched, and the exception propagates.

    Args:
        path: the file to (re)write; its folder is created when missing.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_temporaries(path)
    fd, name = tempfile.mkstemp(prefix=_prefix(path), suffix=_SUFFIX, dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    os.chmod(tmp, _mode(path))  # mkstemp makes it private (0600); keep what the file would have had
    try:
        yield tmp
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    _fsync_folder(path.parent)


def atomic_write_text(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically (see :func:`atomic_path`); return the path."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding=encoding)
    return Path(path)
