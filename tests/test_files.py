"""Atomic writes under faults: a kill, a full disk, two writers, a stale temporary file."""
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from gancourse import files


def _run(code: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kwargs)


def test_a_write_replaces_the_file_whole_and_keeps_its_permissions(tmp_path):
    target = tmp_path / "deep" / "a.txt"
    files.atomic_write_text(target, "one")
    assert target.read_text() == "one"
    os.chmod(target, 0o640)
    files.atomic_write_text(target, "two")
    assert target.read_text() == "two" and (target.stat().st_mode & 0o777) == 0o640
    assert sorted(p.name for p in target.parent.iterdir()) == ["a.txt"]  # no temporary left


def test_an_exception_inside_the_block_leaves_the_previous_file(tmp_path):
    target = tmp_path / "a.txt"
    target.write_text("good")
    with pytest.raises(KeyboardInterrupt):
        with files.atomic_path(target) as tmp:
            tmp.write_text("half")
            raise KeyboardInterrupt
    assert target.read_text() == "good" and [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_kill_9_during_a_write_leaves_the_previous_file_and_the_next_write_cleans_up(tmp_path):
    target = tmp_path / "big.bin"
    target.write_bytes(b"previous")
    writer = _run(f"""
        import sys, time
        from gancourse import files
        with files.atomic_path({str(target)!r}) as tmp:
            with open(tmp, "wb") as f:
                f.write(b"x" * 1_000_000); f.flush()
                print("writing", flush=True)
                time.sleep(60)
    """)
    assert writer.stdout.readline().strip() == "writing"
    writer.send_signal(signal.SIGKILL)
    writer.wait(timeout=30)
    assert target.read_bytes() == b"previous"
    leftovers = [p for p in tmp_path.iterdir() if p.name != "big.bin"]
    assert len(leftovers) == 1 and leftovers[0].name.startswith(".big.bin.")
    files.atomic_write_text(target, "next")  # the dead writer's temporary file is removed
    assert target.read_text() == "next" and [p.name for p in tmp_path.iterdir()] == ["big.bin"]


def test_a_full_disk_leaves_the_previous_file_and_says_so(tmp_path):
    target = tmp_path / "ckpt.bin"
    target.write_bytes(b"previous")
    limit = 1000  # bytes a process may write into one file: a disk that fills up
    writer = _run(f"""
        import resource, signal
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # get EFBIG instead of being killed
        resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))
        from gancourse import files
        files.atomic_write_text({str(target)!r}, "y" * 100_000)
    """)
    _, err = writer.communicate(timeout=60)
    assert writer.returncode != 0 and "File too large" in err
    assert target.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.bin"]


def test_two_writers_never_mix(tmp_path):
    target = tmp_path / "shared.txt"
    code = """
        import sys
        from gancourse import files
        for _ in range(40):
            files.atomic_write_text({path!r}, sys.argv[1] * 200_000)
    """
    writers = [subprocess.Popen([sys.executable, "-c", textwrap.dedent(code.format(path=str(target))), letter])
               for letter in "ab"]
    seen = set()
    while any(w.poll() is None for w in writers):
        if target.exists():
            text = target.read_text()
            seen.add((len(text), set(text) <= {"a"} or set(text) <= {"b"}))
        time.sleep(0.001)
    assert all(w.returncode == 0 for w in writers)
    assert seen and all(length == 200_000 and pure for length, pure in seen)
    assert [p.name for p in tmp_path.iterdir()] == ["shared.txt"]


def test_a_live_writers_temporary_file_is_not_cleaned(tmp_path):
    target = tmp_path / "a.txt"
    live = tmp_path / f".a.txt.{os.getpid()}.abc.tmp"  # this process is alive
    live.write_text("in progress")
    dead = tmp_path / ".a.txt.999999999.abc.tmp"  # no such process
    dead.write_text("stale")
    assert files.clean_stale_temporaries(target) == [dead]
    assert live.exists() and not dead.exists()


def test_every_write_in_the_package_goes_through_atomic_path():
    """A lint: torch.save, write_text, write_bytes and open(..., "w"/"wb"/"a") only ever write to
    ``tmp``, the name the package gives the path that ``files.atomic_path`` yields."""
    import ast
    from pathlib import Path

    package = Path(files.__file__).parent
    offenders = []
    for source in sorted(package.rglob("*.py")):
        if source.name == "files.py":
            continue
        for node in ast.walk(ast.parse(source.read_text(), str(source))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            target = None
            if name == "save" and isinstance(func, ast.Attribute) and getattr(func.value, "id", "") == "torch":
                target = node.args[1] if len(node.args) > 1 else None
            elif name in ("write_text", "write_bytes") and isinstance(func, ast.Attribute):
                target = func.value
            elif name == "open" and isinstance(func, ast.Name) and len(node.args) > 1:
                mode = node.args[1].value if isinstance(node.args[1], ast.Constant) else "w"
                if any(flag in mode for flag in "wax+"):
                    target = node.args[0]
            if target is not None and not (isinstance(target, ast.Name) and target.id == "tmp"):
                offenders.append(f"{source.relative_to(package)}:{node.lineno}")
    assert not offenders, f"writes that bypass files.atomic_path: {offenders}"
