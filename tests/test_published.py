"""Every published source `reproduce` checks: each row judged by the engine, the counts per source,
a planted wrong printed value flips its row, and the docs list every source with the engine's counts."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import mpmath
import pytest

import symbackprop as sbp
from symbackprop.checks.document import SOURCE_FIELDS, document_names, document_spec, load_document, reproduce
from symbackprop.numbers.rounding import round_half_up
from symbackprop.printers import printer
from symbackprop.solution.reports import reproduction_report

ROOT = Path(__file__).resolve().parents[1]

# (matches, errata) per source, as the engine judges them; a change in the engine or a source shows here.
COUNTS = {
    "mazur": (57, 6),
    "nathansamsel": (5, 10),
    "cs231n-staged": (6, 0),
    "cs231n-sigmoid": (20, 0),
    "adam-theta-squared": (7, 0),
    "adam-first-update": (5, 0),
    "lexai-xor": (17, 5),
    "sghosh-neuron": (7, 5),
    "rnn-bptt": (7, 2),
    "airehman-2-2-2": (40, 0),
    "saikiran-2-2-2": (2, 7),
    "yasmeen-lstm": (19, 0),
    "alexkode-batchnorm": (16, 0),
    "tensorgym-batchnorm": (1, 5),
    "saida-momentum": (8, 0),
    "alexkode-momentum": (2, 1),
    "lexai-conv2d": (20, 0),
}


@pytest.fixture(scope="module")
def derived():
    return {name: sbp.open_problem(document_spec(load_document(name))).derived for name in document_names()}


@pytest.fixture(scope="module")
def reproduced(derived, mazur_rows):
    rows = {name: reproduce(derived[name], load_document(name)) for name in document_names() if name != "mazur"}
    return {**rows, "mazur": mazur_rows}


def test_every_source_is_counted():
    assert sorted(COUNTS) == document_names()


@pytest.mark.parametrize("name", sorted(COUNTS))
def test_counts_and_statuses(reproduced, name):
    rows = reproduced[name]
    assert {row.status for row in rows} <= {"match", "erratum"}
    matched = sum(row.status == "match" for row in rows)
    assert (matched, len(rows) - matched) == COUNTS[name]
    for row in rows:
        if row.rounded is not None:
            assert (row.rounded == row.document) == (row.status == "match"), row
        if row.status == "erratum":
            assert row.note, row


@pytest.mark.parametrize("name", sorted(COUNTS))
def test_source_header(name):
    document = load_document(name)
    assert all(document[key].strip() for key in SOURCE_FIELDS)
    assert document["url"].startswith("https://")


@pytest.mark.parametrize("name", sorted(COUNTS))
def test_a_planted_wrong_value_flips_its_row(derived, reproduced, name):
    document = copy.deepcopy(load_document(name))
    index = next(i for i, row in enumerate(reproduced[name]) if row.status == "match" and row.rounded is not None)
    printed = document["row"][index]["document"]
    document["row"][index]["document"] = printed[:-1] + str((int(printed[-1]) + 1) % 10)
    flipped = reproduce(derived[name], document)[index]
    assert flipped.status == "erratum" and flipped.note.startswith("the exact value rounds to " + printed)


def test_carried_rounding_and_the_updated_weight_are_found(reproduced):
    rows = reproduced["nathansamsel"]
    by_name = {(row.quantity.name, row.document): row for row in rows}
    assert "the source's own rounded values of the lines before, as printed, gives it" \
        in by_name["net_o1", "0.80133"].note
    assert "'output-first' order of update" in by_name["delta_h1", "-0.002406"].note
    assert "cutting the digits after the 4th decimal" in by_name["w_4^+", "0.5928"].note


def test_a_doubles_last_digit_and_the_updated_output_weights_are_told_apart(reproduced):
    notes = {row.quantity.name: row.note for row in reproduced["saikiran-2-2-2"]}
    assert "floating-point rounding in the source's program" in notes["E_total"]
    assert "floating-point rounding in the source's program" in notes["w_6^+"]  # an output weight: no order to blame
    for hidden in ("w_1^+", "w_2^+", "w_3^+", "w_4^+"):
        assert "the 'output-first' order of update gives it" in notes[hidden]


@pytest.mark.parametrize("name", sorted(COUNTS))
def test_each_sources_page_is_current(reproduced, name):
    source = {key: load_document(name)[key] for key in SOURCE_FIELDS}
    expected = printer("markdown").doprint(reproduction_report(reproduced[name], source))
    actual = (ROOT / "docs" / "reproduction" / f"{name}.md").read_text(encoding="utf-8")
    assert actual == expected, f"regenerate with: symbackprop reproduce {name} --format markdown -o docs/reproduction/{name}.md"


def test_the_index_lists_every_source_with_the_engines_counts(reproduced):
    index = (ROOT / "docs" / "reproduction.md").read_text(encoding="utf-8")
    for name in document_names():
        document, rows = load_document(name), reproduced[name]
        matched = sum(row.status == "match" for row in rows)
        line = next(line for line in index.splitlines() if f"(reproduction/{name}.md)" in line)
        assert document["url"] in line and document["author"] in line
        assert re.search(rf"\| {matched} of {len(rows)} \|", line), line


def test_list_names_every_source():
    assert list(sbp.sources()) == document_names()


def test_the_command_lists_and_reproduces_a_graph_source(capsys):
    from symbackprop.cli import main

    assert main(["reproduce", "--list"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in listed] == document_names()
    assert main(["reproduce", "cs231n-staged", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["kind"] == "reproduction" and result["source"]["url"] == load_document("cs231n-staged")["url"]
    assert [row["status"] for row in result["rows"]] == ["match"] * 6


def test_an_unknown_source_is_one_line_naming_it(capsys):
    from symbackprop.cli import main

    assert main(["reproduce", "nosuch"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "nosuch" in error and "mazur" in error


def test_a_layer_sources_gradients_and_forward_values_are_the_layer_specs(reproduced):
    rows = {row.quantity.name: row for row in reproduced["alexkode-batchnorm"]}
    assert rows["dE/dbeta_1"].rounded == "3" and rows["y_1,1"].rounded == "-1.2247"
    lstm = {row.quantity.name: row for row in reproduced["yasmeen-lstm"]}
    assert lstm["c_1<3>"].status == "match" and lstm["y_1<3>"].document == "3.4827"


def test_the_sample_variance_of_a_batch_norm_is_found(reproduced):
    notes = [row.note for row in reproduced["tensorgym-batchnorm"] if row.status == "erratum"]
    assert len(notes) == 5 and all("variance divided by m - 1 instead of m" in note for note in notes)


def test_an_optimizers_steps_are_named_and_what_is_tried_is_said(reproduced):
    rows = {row.quantity.name: row for row in reproduced["saida-momentum"]}
    assert rows["w_1<2>"].rounded == "4.0" and rows["g_w1<3>"].rounded == "0"  # 0 at the minimum, not -0
    (wrong,) = [row for row in reproduced["alexkode-momentum"] if row.status == "erratum"]
    assert wrong.rounded == "2.30" and "a double's rounding only" in wrong.note


def test_a_layer_specs_updated_parameters_are_named_when_it_has_a_learning_rate(tmp_path, monkeypatch):
    import symbackprop.checks.document as module

    spec = {"inputs": [1, 2, 3], "layers": [{"kind": "conv1d", "kernel": [1, -1]}], "targets": [0.5, 0],
            "loss": "half_squared_error", "learning_rate": 0.1}
    problem = sbp.open_problem(spec)
    with mpmath.workdps(50):
        updated = 1 - mpmath.mpf("0.1") * problem.gradients()["K_1"]  # K_1 = 1, the learning rate 0.1
    printed = format(round_half_up(updated, 6), "f")
    (tmp_path / "spec.json").write_text(json.dumps(spec), encoding="utf-8")
    monkeypatch.setattr(module, "_folder", lambda: tmp_path)
    document = {"title": "t", "kind": "layers", "spec": "spec.json",
                "row": [{"section": "s", "quantity": "K_1^+", "document": printed},
                        {"section": "s", "quantity": "K_1^+", "document": printed[:-1] + "9"}]}
    right, wrong = reproduce(problem.derived, document)
    assert (right.status, wrong.status) == ("match", "erratum") and printed != printed[:-1] + "9"


@pytest.mark.parametrize("kind, spec", [("layers", "staged"), ("graph", "conv1d"), ("network", "conv1d")])
def test_a_sources_kind_must_be_what_its_spec_is(kind, spec):
    document = {"title": "t", "kind": kind, "spec": spec, "row": []}
    with pytest.raises(ValueError, match="its kind is"):
        reproduce(sbp.open_problem(spec).derived, document)


def test_optimizer_steps_belong_to_a_network(tmp_path, monkeypatch):
    import symbackprop.checks.document as module

    (tmp_path / "bad.toml").write_text('title = "t"\nauthor = "a"\nurl = "https://x"\ndate = "d"\n'
                                       'kind = "graph"\nspec = "staged"\noptimizer_steps = 2\n', encoding="utf-8")
    monkeypatch.setattr(module, "_folder", lambda: tmp_path)
    with pytest.raises(ValueError, match="optimizer_steps"):
        load_document("bad")


def test_one_erratum_is_said_in_the_singular():
    text = sbp.reproduce("alexkode-momentum").render("text")
    assert "2 of 3 printed items match; 1 is an erratum." in text
