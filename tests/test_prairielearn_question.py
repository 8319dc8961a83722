"""`exercise --prairielearn DIR` makes DIR and its missing parents as part of its all-or-nothing write: a failure
leaves none of the folders it made; DIR that is a file, or cannot be made, is one line and exit 2. Its info.json's
tags name the kind of exercise."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

import symbackprop as sbp
from symbackprop.cli import main
from symbackprop.prairielearn import FILES


def one_line(capsys, starting: str) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(starting), err
    return err


def test_the_folder_and_its_missing_parents_are_made(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["exercise", "--seed", "3", "--prairielearn", "questions/backprop-3"]) == 0
    assert sorted(os.listdir("questions/backprop-3")) == sorted(FILES)
    assert capsys.readouterr().err == ""


def test_an_existing_folder_is_written_into_and_kept(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("questions").mkdir()
    Path("questions/other.txt").write_text("kept\n")
    assert main(["exercise", "--seed", "3", "--prairielearn", "questions"]) == 0
    assert sorted(os.listdir("questions")) == sorted([*FILES, "other.txt"])


def test_a_full_disk_leaves_no_folder_it_made(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("course").mkdir()
    calls = []
    fsync = os.fsync

    def full(descriptor: int) -> None:
        calls.append(descriptor)
        if len(calls) == len(FILES):  # the last file of the question
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        fsync(descriptor)
    monkeypatch.setattr(os, "fsync", full)
    assert main(["exercise", "--seed", "3", "--prairielearn", "course/questions/backprop-3"]) == 2
    one_line(capsys, f"symbackprop: --prairielearn/{FILES[-1]}: cannot write ")
    assert sorted(os.listdir(tmp_path)) == ["course"] and os.listdir("course") == []


def test_a_folder_that_cannot_be_made_is_one_line_and_leaves_nothing(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    mkdir = Path.mkdir

    def refused(self: Path, *args, **kwargs) -> None:
        if self.name == "backprop-3":
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))
        mkdir(self, *args, **kwargs)
    monkeypatch.setattr(Path, "mkdir", refused)
    assert main(["exercise", "--seed", "3", "--prairielearn", "questions/backprop-3"]) == 2
    one_line(capsys, f"symbackprop: --prairielearn/{FILES[0]}: cannot write 'questions/backprop-3/{FILES[0]}': "
                     f"{os.strerror(errno.EACCES)}")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("folder", ["taken", "taken/questions/backprop-3"])
def test_a_file_in_the_folders_place_is_refused_in_one_line(tmp_path, capsys, monkeypatch, folder):
    monkeypatch.chdir(tmp_path)
    Path("taken").write_text("a file\n")
    assert main(["exercise", "--seed", "3", "--prairielearn", folder]) == 2
    one_line(capsys, f"symbackprop: --prairielearn/{FILES[0]}: cannot write '{folder}/{FILES[0]}': "
                     f"'{tmp_path.resolve() / 'taken'}' is a file, not a folder")
    assert os.listdir(tmp_path) == ["taken"] and Path("taken").read_text() == "a file\n"


def test_output_files_still_want_their_folder(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["exercise", "--seed", "3", "-o", "missing/sheet.md"]) == 2
    one_line(capsys, "symbackprop: --output: cannot write 'missing/sheet.md': no folder ")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(("draw", "kind"), [
    (lambda: sbp.exercise(3), ["network"]),
    (lambda: sbp.graph_exercise(3, nodes=6), ["computation-graph"]),
    (lambda: sbp.layer_exercise(3, "lstm"), ["layer", "lstm"]),
    (lambda: sbp.layer_exercise(3, "attention"), ["layer", "attention"]),
])
def test_info_json_tags_name_the_kind_of_exercise(draw, kind):
    tags = json.loads(draw().prairielearn()["info.json"])["tags"]
    assert tags == ["symbackprop", "backpropagation", *kind]
    assert all(isinstance(tag, str) and tag == tag.strip() and tag for tag in tags)  # PrairieLearn's tags: strings
