"""Why the biases' gradients are derived and no bias update is listed: a note in every format."""

from __future__ import annotations

import json

import pytest

import symbackprop as sbp
from symbackprop.spec import example_text
from symbackprop.solution.build import FIXED_BIASES

FORMATS = ("text", "latex", "markdown", "html", "json")
LATEX_NOTE = FIXED_BIASES.replace("_", r"\_")


def _mazur(update_biases: bool) -> dict:
    return json.loads(example_text("mazur")) | {"update_biases": update_biases}


def _notes(rendered: str, fmt: str) -> bool:
    """Whether the rendering holds the note, as that format writes text."""
    if fmt == "json":
        return _has_note(json.loads(rendered))
    return (LATEX_NOTE if fmt == "latex" else FIXED_BIASES) in rendered


def _has_note(record) -> bool:
    if isinstance(record, dict):
        if record.get("type") == "note" and record.get("text") == FIXED_BIASES:
            return True
        return any(_has_note(value) for value in record.values())
    if isinstance(record, list):
        return any(_has_note(item) for item in record)
    return False


@pytest.mark.parametrize("fmt", FORMATS)
def test_default_solution_says_why_the_biases_are_not_updated(fmt):
    rendered = sbp.solve("mazur", checks=False).render(fmt, width=None)
    assert _notes(rendered, fmt)
    assert "update_biases" in FIXED_BIASES and "document" in FIXED_BIASES


@pytest.mark.parametrize("fmt", FORMATS)
def test_updating_the_biases_lists_their_updates_and_drops_the_note(fmt):
    rendered = sbp.solve(_mazur(True), checks=False).render(fmt, width=None)
    assert not _notes(rendered, fmt)
    text = sbp.solve(_mazur(True), checks=False).render("text", ascii=True, width=None)
    assert "b_1^+ = b_1 - eta * dE_total/db_1" in text and "b_2^+ =" in text


def test_note_sits_in_the_updates_section_of_text():
    text = sbp.solve("mazur", checks=False).render("text", width=None)
    updates = text[text.index("\nUpdates\n"):text.index("\nError after one update\n")]
    assert FIXED_BIASES in updates


@pytest.mark.parametrize("update_biases", [False, True])
def test_one_bias_gradient_and_the_matrix_form_say_it_too(update_biases):
    spec = _mazur(update_biases)
    single = sbp.explain(spec, "b1").render("text", width=None)
    matrix = sbp.matrix_solution(spec, checks=False).render("text", width=None)
    assert (FIXED_BIASES in single) is not update_biases
    assert (FIXED_BIASES in matrix) is not update_biases


def test_a_network_without_biases_has_no_note():
    spec = _mazur(False)
    for layer in spec["layers"]:
        del layer["bias"]
    assert FIXED_BIASES not in sbp.solve(spec, checks=False).render("text", width=None)
