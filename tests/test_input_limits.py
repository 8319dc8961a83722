"""Inputs at the edges: huge numbers, deep nesting, odd keys, an output that cannot be written."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from symbackprop.errors import InputError
from symbackprop.spec import example_text, load_spec, spec_from_dict


def _mazur() -> dict:
    return json.loads(example_text("mazur"))


@pytest.mark.parametrize("text", ['{"inputs": [' + "1" * 5000 + "]}", "[" * 100000 + "]" * 100000])
def test_unparsable_json_is_bad_input(tmp_path, text):
    path = tmp_path / "spec.json"
    path.write_text(text)
    with pytest.raises(InputError) as error:
        load_spec(str(path))
    assert "not a usable JSON spec" in str(error.value) and "\n" not in str(error.value)


@pytest.mark.parametrize("value", ["1e99999999", "1" * 101, "1e-101"])
def test_numbers_beyond_a_hundred_digits_are_refused_quickly(value):
    data = _mazur()
    data["learning_rate"] = value
    with pytest.raises(InputError, match=r"^learning_rate: expected at most 100 digits"):
        spec_from_dict(data)


def test_null_is_named_as_null():
    data = _mazur()
    data["inputs"][0] = None
    with pytest.raises(InputError, match=r"^inputs\[0\]: expected a number, got null$"):
        spec_from_dict(data)


def test_non_string_keys_are_reported_not_crashed():
    with pytest.raises(InputError, match=r"^spec: unknown field 1 "):
        spec_from_dict({**_mazur(), 1: 2})


@pytest.mark.parametrize("source", ["", "two\nlines"])
def test_empty_or_multiline_spec_names_are_refused(source):
    with pytest.raises(InputError) as error:
        load_spec(source)
    assert "\n" not in str(error.value)


def test_output_to_a_directory_leaves_nothing_behind(tmp_path):
    target = tmp_path / "folder"
    target.mkdir()
    result = subprocess.run([sys.executable, "-m", "symbackprop.cli", "example", "mazur"], capture_output=True,
                            text=True)
    assert result.returncode == 0
    result = subprocess.run([sys.executable, "-m", "symbackprop.cli", "solve", "-o", str(target)],
                            capture_output=True, text=True)
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "Is a directory" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder"]


@pytest.mark.parametrize("name", ["i", "w", "b"])
def test_layer_names_that_read_like_inputs_weights_or_biases_are_refused(name):
    data = _mazur()
    data["layers"][0]["name"] = name
    with pytest.raises(InputError, match=rf"^layers\[0\]\.name: '{name}' would make neurons read like the "):
        spec_from_dict(data)
