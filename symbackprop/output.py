"""Where the commands' results go: standard output, or regular files written whole or not at all.

Every destination is checked before any work is done (`destination`): a directory, a device, a
FIFO or a socket is refused with one line, and a symbolic link is followed to the regular file it
names, so the link stays a link. A destination may be allowed missing folders (a PrairieLearn
question's DIR and its parents): `write` makes them first. It writes each file beside its target under
a temporary name and renames it over the target only once every file is written; the replaced file
keeps its mode (and owner, where allowed). A failure, Ctrl-C or SIGTERM part-way leaves no temporary
file behind, no destination changed and no folder it made. Standard output that is closed, full or a
broken pipe is one line.
"""

from __future__ import annotations

import errno
import os
import signal
import stat
import sys
import tempfile
from collections.abc import Container, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from pathlib import Path

from symbackprop.errors import InputError


@dataclass(frozen=True)
class Destination:
    """A checked output file: the path as given (for messages), the regular file it names, its mode if it exists."""

    given: str
    target: Path
    mode: int | None
    owner: tuple[int, int] | None
    option: str
    folders: tuple[Path, ...] = ()
    """The missing folders `write` makes for it, outermost first."""

    def refuse(self, reason: str) -> InputError:
        return InputError(f"{self.option}: cannot write {self.given!r}: {reason}")


def destination(path: str, option: str = "--output", make_folders: bool = False) -> Destination:
    """`path` checked as somewhere a command may write, before it does any work; with `make_folders`, its folder
    may be missing, to be made by `write` inside the nearest folder that exists."""
    target = Path(os.path.realpath(path))
    try:
        status = os.stat(target)
    except (FileNotFoundError, NotADirectoryError):  # a folder on the way is missing, or a file: said below
        status = None
    except OSError as error:
        raise InputError(f"{option}: cannot write {path!r}: {error.strerror or error}") from None
    found = Destination(path, target, None, None, option)
    if status is not None:
        if stat.S_ISDIR(status.st_mode):
            raise found.refuse(os.strerror(errno.EISDIR))
        if not stat.S_ISREG(status.st_mode):
            raise found.refuse("not a regular file (a device, FIFO or socket); write to a file instead")
        if not os.access(target, os.W_OK):
            raise found.refuse(os.strerror(errno.EACCES))
        found = Destination(path, target, stat.S_IMODE(status.st_mode), (status.st_uid, status.st_gid), option)
    folders = _missing(target.parent) if make_folders else ()
    existing = folders[0].parent if folders else target.parent
    if not existing.is_dir():
        raise found.refuse(f"{str(existing)!r} is a file, not a folder" if existing.exists()
                           else f"no folder {str(existing)!r}")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise found.refuse(os.strerror(errno.EACCES))
    return replace(found, folders=folders)


def _missing(folder: Path) -> tuple[Path, ...]:
    """`folder` and those of its parents that do not exist, outermost first."""
    missing = []
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    return tuple(reversed(missing))


def destinations(paths: list[tuple[str, str]], make_folders: Container[str] = ()) -> list[Destination]:
    """Each (path, option) checked, and no file named twice; the options in `make_folders` may name missing folders."""
    checked = [destination(path, option, option in make_folders) for path, option in paths]
    for index, later in enumerate(checked):
        for earlier in checked[:index]:
            if later.target == earlier.target:
                raise later.refuse(f"it is also the {earlier.option} file")
    return checked


def write(contents: list[tuple[str | bytes, Destination]]) -> None:
    """Every file written whole, or none changed: the missing folders made, every file written under a temporary
    name, then all renamed; a failure removes what was made."""
    temporaries: list[tuple[str, Destination]] = []
    made: list[Path] = []
    try:
        for _content, place in contents:
            for folder in place.folders:
                with _signals_held():  # a folder is made and remembered, or neither
                    if not folder.is_dir():
                        _make(folder, place)
                        made.append(folder)
        for content, place in contents:
            with _signals_held():  # a temporary file is created and remembered, or neither
                temporaries.append((_temporary(place), place))
            _fill(temporaries[-1][0], content, place)
        with _signals_held():  # renaming is all or nothing
            while temporaries:
                temporary, place = temporaries[0]
                try:
                    os.replace(temporary, place.target)
                except OSError as error:
                    raise place.refuse(error.strerror or str(error)) from None
                temporaries.pop(0)
        made.clear()
    finally:
        for temporary, _place in temporaries:
            Path(temporary).unlink(missing_ok=True)
        for folder in reversed(made):
            with suppress(OSError):  # a folder someone else has since written into stays
                folder.rmdir()


def _make(folder: Path, place: Destination) -> None:
    try:
        folder.mkdir()
    except OSError as error:
        raise place.refuse(error.strerror or str(error)) from None


def emit(content: str, output: str | None, option: str = "--output") -> None:
    """Print `content`, or write it to the file `output` (whole or not at all)."""
    if output is None:
        print_out(content)
    else:
        write([(content, destination(output, option))])


def print_out(text: str) -> None:
    """Write `text` to standard output; text it cannot encode, or a closed, full or broken output, is one line."""
    if sys.stdout is None:
        raise InputError("standard output is closed; give -o FILE or redirect it")
    _require_encodable(text)
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except OSError as error:
        _discard_standard_output()
        raise InputError(f"standard output: cannot write: {error.strerror or error}") from None


@contextmanager
def _signals_held() -> Iterator[None]:
    """SIGINT and SIGTERM wait until the block is done (they are delivered then; where signals cannot be
    held, as on Windows, the block runs as it is)."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _temporary(place: Destination) -> str:
    """An empty temporary file beside the target, named after it."""
    try:
        handle, name = tempfile.mkstemp(dir=place.target.parent, prefix=f".{place.target.name}.", suffix=".tmp")
    except OSError as error:
        raise place.refuse(error.strerror or str(error)) from None
    os.close(handle)
    return name


def _fill(temporary: str, content: str | bytes, place: Destination) -> None:
    """The content, on disk, with the mode (and owner) the file it replaces has, or a new file's."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    try:
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if place.mode is None:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(temporary, 0o666 & ~umask)  # a temporary file is private; the output should not be
        else:
            os.chmod(temporary, place.mode)
            if place.owner is not None and os.stat(temporary).st_uid != place.owner[0]:
                try:
                    os.chown(temporary, *place.owner)
                except PermissionError:
                    pass  # only root may give a file away; the new file is then the writer's
    except OSError as error:
        raise place.refuse(error.strerror or str(error)) from None


def _discard_standard_output() -> None:
    """Point standard output at /dev/null, so that the interpreter's last flush does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


def _require_encodable(text: str) -> None:
    """Refuse, before anything is written, text that standard output cannot encode (PYTHONIOENCODING=ascii)."""
    try:
        text.encode(sys.stdout.encoding or "utf-8", sys.stdout.errors or "strict")
    except UnicodeEncodeError as error:
        line = text.count("\n", 0, error.start) + 1
        raise InputError(f"standard output ({error.encoding}) cannot show {text[error.start]!r} on line {line}; "
                         "use --ascii for plain ASCII, or a UTF-8 terminal") from None
