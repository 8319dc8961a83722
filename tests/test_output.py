"""Output files and standard output: regular files written whole or not at all, everything else refused in one line.

No test here points at the real /dev: devices and FIFOs are made in a temporary directory.
"""

from __future__ import annotations

import errno
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

import symbackprop.api
from symbackprop.cli import main

OLD = "the file as it was\n"


def one_line(capsys, starting: str) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(starting), err
    return err


def leftovers(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir() if path.name.endswith(".tmp"))


def test_a_symbolic_link_stays_a_link_and_its_file_is_written(tmp_path):
    real, link = tmp_path / "real.txt", tmp_path / "link.txt"
    real.write_text(OLD)
    link.symlink_to(real.name)
    assert main(["solve", "-o", str(link), "--decimals", "3"]) == 0
    assert link.is_symlink() and os.readlink(link) == real.name
    assert real.read_text(encoding="utf-8").startswith("Worked solution: mazur")
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("mode", [0o640, 0o604])
def test_the_replaced_file_keeps_its_mode(tmp_path, mode):
    target = tmp_path / "out.md"
    target.write_text(OLD)
    target.chmod(mode)
    assert main(["solve", "-o", str(target), "--decimals", "3"]) == 0
    assert stat.S_IMODE(target.stat().st_mode) == mode and target.read_text(encoding="utf-8") != OLD


def test_a_read_only_file_keeps_its_mode_or_is_refused(tmp_path, capsys):
    target = tmp_path / "out.md"
    target.write_text(OLD)
    target.chmod(0o444)
    code = main(["solve", "-o", str(target), "--decimals", "3"])
    assert stat.S_IMODE(target.stat().st_mode) == 0o444
    if os.geteuid() == 0:  # root may write it; it stays read-only
        assert code == 0 and target.read_text(encoding="utf-8") != OLD
    else:
        assert code == 2 and target.read_text() == OLD
        one_line(capsys, f"symbackprop: --output: cannot write {str(target)!r}: Permission denied")


def _device(folder: Path) -> Path:
    """A character device like /dev/null, made in `folder` (as root), else a FIFO."""
    path = folder / "null"
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except PermissionError:
        os.mkfifo(path)
    return path


@pytest.mark.parametrize("make", [_device, lambda folder: (os.mkfifo(folder / "fifo"), folder / "fifo")[1],
                                  lambda folder: folder], ids=["device", "fifo", "directory"])
def test_devices_fifos_and_directories_are_refused_in_one_line(tmp_path, capsys, make):
    path = make(tmp_path)
    before = path.lstat()
    assert main(["solve", "-o", str(path)]) == 2
    one_line(capsys, f"symbackprop: --output: cannot write {str(path)!r}: ")
    assert stat.S_IFMT(path.lstat().st_mode) == stat.S_IFMT(before.st_mode) and leftovers(tmp_path) == []
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(("options", "option"), [
    (["--answers", "missing/key.md"], "--answers"),
    (["--answers", "key.md", "--spec-out", "."], "--spec-out"),
    (["--answers", "sheet.md"], "--answers"),
])
def test_exercise_checks_every_destination_before_writing_any(tmp_path, capsys, monkeypatch, options, option):
    monkeypatch.chdir(tmp_path)
    assert main(["exercise", "--seed", "1", "-o", "sheet.md", *options]) == 2
    one_line(capsys, f"symbackprop: {option}: cannot write ")
    assert sorted(os.listdir(tmp_path)) == []


def _full_disk_on_call(monkeypatch, failing: int) -> None:
    """os.fsync fails with ENOSPC on its `failing`-th call, as a full disk does."""
    calls = []
    fsync = os.fsync

    def full(descriptor: int) -> None:
        calls.append(descriptor)
        if len(calls) == failing:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        fsync(descriptor)
    monkeypatch.setattr(os, "fsync", full)


def test_a_full_disk_while_writing_an_exercise_writes_nothing(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("sheet.md").write_text(OLD)
    _full_disk_on_call(monkeypatch, 3)
    assert main(["exercise", "--seed", "1", "-o", "sheet.md", "--answers", "key.md", "--spec-out", "spec.json"]) == 2
    one_line(capsys, "symbackprop: --spec-out: cannot write 'spec.json': No space left on device")
    assert sorted(os.listdir(tmp_path)) == ["sheet.md"] and Path("sheet.md").read_text() == OLD


def test_plot_name_is_checked_before_training(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(symbackprop.api, "train", lambda *args, **kwargs: pytest.fail("trained before checking --plot"))
    assert main(["train", "--steps", "5", "--plot", str(tmp_path / "loss.pdf")]) == 2
    one_line(capsys, "symbackprop: --plot: expected a file name ending in .svg or .png")
    assert main(["train", "--steps", "5", "--plot", str(tmp_path / "missing" / "loss.svg")]) == 2
    one_line(capsys, "symbackprop: --plot: cannot write ")


def test_a_full_disk_leaves_the_old_plot_whole(tmp_path, capsys, monkeypatch):
    plot = tmp_path / "loss.svg"
    plot.write_text(OLD)
    _full_disk_on_call(monkeypatch, 1)
    assert main(["train", "--steps", "5", "--fast", "--plot", str(plot)]) == 2
    one_line(capsys, f"symbackprop: --plot: cannot write {str(plot)!r}: No space left on device")
    assert plot.read_text() == OLD and leftovers(tmp_path) == []


SLOW_WRITE = """
import os, sys, time
def slow(descriptor):
    print("writing", file=sys.stderr, flush=True)
    time.sleep(60)
os.fsync = slow
from symbackprop.cli import main
sys.exit(main(sys.argv[1:]))
"""
"""The command, with every file write stuck before it is finished."""


@pytest.mark.parametrize(("signum", "code", "line"), [(signal.SIGINT, 130, "symbackprop: interrupted\n"),
                                                      (signal.SIGTERM, 143, "symbackprop: terminated\n")])
def test_a_signal_during_a_write_cleans_up_in_one_line(tmp_path, signum, code, line):
    target = tmp_path / "out.txt"
    target.write_text(OLD)
    process = subprocess.Popen([sys.executable, "-c", SLOW_WRITE, "solve", "--decimals", "3", "-o", str(target)],
                               stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert process.stderr.readline() == "writing\n"
    assert leftovers(tmp_path)  # the temporary file is there while it is written
    process.send_signal(signum)
    out, err = process.communicate(timeout=60)
    assert process.returncode == code and err == line and out == ""
    assert leftovers(tmp_path) == [] and target.read_text() == OLD


def test_closed_standard_output_is_one_line():
    result = subprocess.run([sys.executable, "-m", "symbackprop.cli", "example", "mazur"], capture_output=False,
                            stderr=subprocess.PIPE, text=True, preexec_fn=lambda: os.close(1), timeout=120)
    assert result.returncode == 2
    assert result.stderr == "symbackprop: standard output is closed; give -o FILE or redirect it\n"


def test_standard_output_that_cannot_be_written_is_one_line():
    """A pipe closed at the other end fails every write, as a full disk (/dev/full) does."""
    process = subprocess.Popen([sys.executable, "-m", "symbackprop.cli", "example", "mazur"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    process.stdout.close()
    err = process.stderr.read()
    process.wait(timeout=120)
    assert process.returncode == 2
    assert err == "symbackprop: standard output: cannot write: Broken pipe\n"


def test_ctrl_c_during_training_is_one_line_without_traceback():
    # The child says when the command's module is imported (on a loaded machine that can take seconds), so the
    # signal reaches the command itself, as a Ctrl-C during a long training does.
    started = ("import sys; from symbackprop import cli; print('ready', file=sys.stderr, flush=True); "
               "sys.exit(cli.main(['train', '--steps', '10000000']))")
    process = subprocess.Popen([sys.executable, "-c", started], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stderr.readline() == "ready\n"
    time.sleep(1)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130 and err == "symbackprop: interrupted\n" and out == ""


PAUSED_IMPORT = """
import sys, time
class Pause:
    def find_spec(self, name, path=None, target=None):
        if name == sys.argv[1]:
            print("importing", name, file=sys.stderr, flush=True)
            time.sleep(60)
sys.meta_path.insert(0, Pause())
from symbackprop.cli import main
sys.exit(main(sys.argv[2:]))
"""
"""The console script's own two lines, with the import of one module stopped until a signal comes."""


@pytest.mark.parametrize("module", ["mpmath", "sympy", "sympy.printing", "lark", "symbackprop.problem"])
def test_ctrl_c_during_the_package_import_is_one_line_without_traceback(module):
    """Ctrl-C in the command's first second, while SymPy and the engine load, is the command's own Ctrl-C."""
    process = subprocess.Popen([sys.executable, "-c", PAUSED_IMPORT, module, "solve"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    assert process.stderr.readline() == f"importing {module}\n"
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130 and err == "symbackprop: interrupted\n" and out == ""


def test_an_exercise_sheet_that_standard_output_cannot_show_writes_no_file(tmp_path):
    result = subprocess.run([sys.executable, "-m", "symbackprop.cli", "exercise", "--seed", "1", "--answers", "key.md"],
                            cwd=tmp_path, capture_output=True, text=True, env={**os.environ, "PYTHONIOENCODING": "ascii"},
                            timeout=120)
    assert result.returncode == 2 and "use --ascii" in result.stderr and os.listdir(tmp_path) == []


def test_main_runs_in_a_worker_thread_too(capsys):
    """SIGTERM's handler is set in the main thread only; a command run by a worker thread still runs."""
    import threading

    codes = []
    worker = threading.Thread(target=lambda: codes.append(main(["example"])))
    worker.start()
    worker.join()
    assert codes == [0] and "mazur" in capsys.readouterr().out.split()
