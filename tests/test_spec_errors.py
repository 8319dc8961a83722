"""Every way a spec can be wrong: one `InputError` line that names the field and the problem.

Also the valid forms (TOML as JSON, decimal strings read exactly, the three kinds of bias)
and a property: any JSON-like value put anywhere in a valid spec loads or raises
`InputError` -- never another exception -- with a single-line message.
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sympy import Rational

from symbackprop.errors import InputError
from symbackprop.spec import LayerSpec, Spec, load_spec, spec_from_dict

MAZUR = {
    "name": "mazur",
    "inputs": [0.05, 0.10],
    "targets": [0.01, 0.99],
    "layers": [
        {"name": "h", "activation": "sigmoid", "weights": [[0.15, 0.20], [0.25, 0.30]], "bias": 0.35},
        {"name": "o", "activation": "sigmoid", "weights": [[0.40, 0.45], [0.50, 0.55]], "bias": 0.60},
    ],
    "loss": "half_squared_error",
    "learning_rate": 0.5,
    "update_biases": False,
}

MAZUR_TOML = """\
name = "mazur"
inputs = [0.05, 0.10]
targets = [0.01, 0.99]
loss = "half_squared_error"
learning_rate = 0.5
update_biases = false

[[layers]]
name = "h"
activation = "sigmoid"
weights = [[0.15, 0.20], [0.25, 0.30]]
bias = 0.35

[[layers]]
name = "o"
activation = "sigmoid"
weights = [[0.40, 0.45], [0.50, 0.55]]
bias = 0.60
"""

R = Rational


def inputs_of(spec: Spec, sample: int = 0) -> tuple:
    """The inputs of a sample (specs with one sample may also carry them at the top level)."""
    return spec.samples[sample].inputs if hasattr(spec, "samples") else spec.inputs


def targets_of(spec: Spec, sample: int = 0) -> tuple:
    return spec.samples[sample].targets if hasattr(spec, "samples") else spec.targets


def mazur() -> dict:
    return copy.deepcopy(MAZUR)


def write_json(tmp_path: Path, data, name: str = "spec.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def input_error(data) -> str:
    """The message of the `InputError` that `spec_from_dict(data)` raises; it must be one line."""
    with pytest.raises(InputError) as caught:
        spec_from_dict(data)
    return one_line(caught.value)


def load_error(path) -> str:
    with pytest.raises(InputError) as caught:
        load_spec(str(path))
    return one_line(caught.value)


def one_line(error: InputError) -> str:
    message = str(error)
    assert message, "an InputError must say what is wrong"
    assert message == message.strip()
    assert "\n" not in message and "\r" not in message, f"message is not one line: {message!r}"
    assert "Traceback" not in message
    return message


def mutated(change) -> dict:
    data = mazur()
    change(data)
    return data


# --- the valid spec --------------------------------------------------------------------------


def test_valid_json_spec_loads_exactly(tmp_path):
    spec = load_spec(str(write_json(tmp_path, MAZUR)))
    assert isinstance(spec, Spec)
    assert spec.name == "mazur"
    assert inputs_of(spec) == (R(1, 20), R(1, 10))
    assert targets_of(spec) == (R(1, 100), R(99, 100))
    assert [layer.name for layer in spec.layers] == ["h", "o"]
    assert spec.layers[0].weights == ((R(3, 20), R(1, 5)), (R(1, 4), R(3, 10)))
    assert spec.layers[1].weights == ((R(2, 5), R(9, 20)), (R(1, 2), R(11, 20)))
    assert spec.layers[0].bias == R(7, 20)
    assert spec.layers[1].bias == R(3, 5)
    assert spec.loss == "half_squared_error"
    assert spec.learning_rate == R(1, 2)
    assert spec.update_biases is False
    assert all(isinstance(x, Rational) for x in inputs_of(spec) + targets_of(spec))


def test_builtin_example_equals_the_literal_spec(tmp_path):
    assert load_spec("mazur") == load_spec(str(write_json(tmp_path, MAZUR)))
    assert load_spec(None) == load_spec("mazur")


def test_toml_spec_gives_the_same_result_as_json(tmp_path):
    toml_path = tmp_path / "spec.toml"
    toml_path.write_text(MAZUR_TOML, encoding="utf-8")
    json_path = write_json(tmp_path, MAZUR)
    from_toml = load_spec(str(toml_path))
    assert from_toml == load_spec(str(json_path))
    assert from_toml.layers[0].weights[0] == (R(3, 20), R(1, 5))


def test_toml_suffix_is_case_insensitive(tmp_path):
    path = tmp_path / "SPEC.TOML"
    path.write_text(MAZUR_TOML, encoding="utf-8")
    assert load_spec(str(path)) == spec_from_dict(mazur())


def test_decimal_strings_are_read_exactly():
    data = mazur()
    data["inputs"] = ["0.1", " 0.2 "]
    data["layers"][0]["weights"][0] = ["0.3", "1e-3"]
    data["layers"][0]["bias"] = "0.35"
    data["learning_rate"] = "0.1"
    spec = spec_from_dict(data)
    assert inputs_of(spec) == (R(1, 10), R(1, 5))
    assert spec.layers[0].weights[0] == (R(3, 10), R(1, 1000))
    assert spec.layers[0].bias == R(7, 20)
    assert spec.learning_rate == R(1, 10)
    # never a binary float: 0.1 as a float is not 1/10
    assert spec.learning_rate != R(0.1)


def test_json_numbers_are_read_exactly_not_as_floats(tmp_path):
    data = mazur()
    data["inputs"] = [0.1, 0.7]
    spec = load_spec(str(write_json(tmp_path, data)))
    assert inputs_of(spec) == (R(1, 10), R(7, 10))


def test_integers_are_exact():
    data = mazur()
    data["inputs"] = [1, -2]
    data["learning_rate"] = 3
    spec = spec_from_dict(data)
    assert inputs_of(spec) == (R(1), R(-2))
    assert spec.learning_rate == 3


def test_bias_number_list_or_absent():
    shared = spec_from_dict(mazur())
    assert shared.layers[0].bias == R(7, 20)

    per_neuron = spec_from_dict(mutated(lambda d: d["layers"][0].update(bias=["0.1", 0.2])))
    assert per_neuron.layers[0].bias == (R(1, 10), R(1, 5))

    absent = spec_from_dict(mutated(lambda d: d["layers"][1].pop("bias")))
    assert absent.layers[1].bias is None


def test_null_bias_means_no_bias():
    assert spec_from_dict(mutated(lambda d: d["layers"][0].update(bias=None))).layers[0].bias is None


def test_optional_fields_take_their_defaults():
    data = mazur()
    for field in ("name", "learning_rate", "update_biases"):
        del data[field]
    for layer in data["layers"]:
        del layer["name"]
    spec = spec_from_dict(data, default_name="net")
    assert spec.name == "net"
    assert spec.learning_rate == R(1, 2)
    assert spec.update_biases is False
    assert [layer.name for layer in spec.layers] == ["h", "o"]
    assert isinstance(spec.layers[0], LayerSpec)


def test_file_name_is_the_default_spec_name(tmp_path):
    data = mazur()
    del data["name"]
    assert load_spec(str(write_json(tmp_path, data, "mynet.json"))).name == "mynet"


# --- missing and unknown fields --------------------------------------------------------------


@pytest.mark.parametrize("field", ["inputs", "targets", "layers", "loss"])
def test_missing_required_field(field):
    data = mazur()
    del data[field]
    assert input_error(data) == f"{field}: missing field"


@pytest.mark.parametrize("field", ["activation", "weights"])
def test_missing_layer_field(field):
    data = mazur()
    del data["layers"][1][field]
    assert input_error(data) == f"layers[1].{field}: missing field"


def test_unknown_top_level_field():
    message = input_error(mutated(lambda d: d.update(hidden_size=2)))
    assert message.startswith("spec: ")
    assert "unknown field 'hidden_size'" in message
    assert "inputs" in message and "layers" in message  # lists the known fields


def test_unknown_layer_field():
    message = input_error(mutated(lambda d: d["layers"][1].update(size=2)))
    assert message.startswith("layers[1]: ")
    assert "unknown field 'size'" in message
    assert "activation" in message and "weights" in message


def test_spec_not_an_object():
    assert input_error([1, 2]).startswith("spec: expected an object")


def test_layer_not_an_object():
    message = input_error(mutated(lambda d: d["layers"].__setitem__(0, [[0.1, 0.2]])))
    assert message.startswith("layers[0]: expected an object")


# --- wrong shapes ------------------------------------------------------------------------------


def test_weight_row_of_wrong_length():
    message = input_error(mutated(lambda d: d["layers"][1]["weights"][0].append(0.1)))
    assert message == "layers[1].weights[0]: expected 2 numbers (one per output of layer 'h'), got 3"


def test_first_layer_row_length_is_checked_against_the_inputs():
    message = input_error(mutated(lambda d: d["layers"][0]["weights"][0].append(0.1)))
    assert message.startswith("layers[0].weights[0]: expected 2 numbers")
    assert "the inputs" in message and message.endswith("got 3")


def test_ragged_weight_rows():
    message = input_error(mutated(lambda d: d["layers"][0].update(weights=[[0.15, 0.20], [0.25]])))
    assert message.startswith("layers[0].weights[1]: expected 2 numbers")
    assert message.endswith("got 1")


def test_wider_hidden_layer_changes_the_next_fan_in():
    # 3 hidden neurons, but the output layer still has rows of 2
    data = mutated(lambda d: d["layers"][0]["weights"].append([0.1, 0.2]))
    message = input_error(data)
    assert message == "layers[1].weights[0]: expected 3 numbers (one per output of layer 'h'), got 2"


@pytest.mark.parametrize("layers", [[], {}, "h", None])
def test_empty_or_non_list_layers(layers):
    message = input_error(mutated(lambda d: d.update(layers=layers)))
    assert message == "layers: expected a non-empty list of layers"


@pytest.mark.parametrize("weights", [[], {}, 0.5, None])
def test_empty_or_non_list_weights(weights):
    message = input_error(mutated(lambda d: d["layers"][0].update(weights=weights)))
    assert message == "layers[0].weights: expected a non-empty list of rows, one per neuron"


def test_empty_weight_row():
    message = input_error(mutated(lambda d: d["layers"][1]["weights"].__setitem__(1, [])))
    assert message == "layers[1].weights[1]: expected a non-empty list of numbers"


def test_weight_row_not_a_list():
    message = input_error(mutated(lambda d: d["layers"][1]["weights"].__setitem__(0, 0.4)))
    assert message == "layers[1].weights[0]: expected a non-empty list of numbers"


@pytest.mark.parametrize("targets", [[0.01], [0.01, 0.99, 0.5]])
def test_targets_count_differs_from_output_layer_size(targets):
    message = input_error(mutated(lambda d: d.update(targets=targets)))
    assert message.startswith("targets: expected 2 numbers")
    assert "'o'" in message
    assert message.endswith(f"got {len(targets)}")


@pytest.mark.parametrize("field", ["inputs", "targets"])
@pytest.mark.parametrize("value", [[], 0.5, "0.5", {"a": 1}, None])
def test_inputs_and_targets_must_be_non_empty_lists(field, value):
    message = input_error(mutated(lambda d: d.update({field: value})))
    assert message == f"{field}: expected a non-empty list of numbers"


@pytest.mark.parametrize("bias", [[0.1], [0.1, 0.2, 0.3]])
def test_bias_list_of_wrong_length(bias):
    message = input_error(mutated(lambda d: d["layers"][1].update(bias=bias)))
    assert message.startswith("layers[1].bias: expected one number or 2 numbers")
    assert message.endswith(f"got {len(bias)}")


def test_empty_bias_list():
    message = input_error(mutated(lambda d: d["layers"][0].update(bias=[])))
    assert message == "layers[0].bias: expected a non-empty list of numbers"


def test_duplicate_layer_names():
    message = input_error(mutated(lambda d: d["layers"][1].update(name="h")))
    assert message == "layers[1].name: layer name 'h' is used twice"


# --- non-numeric values --------------------------------------------------------------------------

# Where a number is expected, and the field path an error there must name.
NUMBER_SITES = [
    (lambda d, v: d["inputs"].__setitem__(1, v), "inputs[1]"),
    (lambda d, v: d["targets"].__setitem__(0, v), "targets[0]"),
    (lambda d, v: d["layers"][1]["weights"][0].__setitem__(1, v), "layers[1].weights[0][1]"),
    (lambda d, v: d["layers"][0]["weights"][1].__setitem__(0, v), "layers[0].weights[1][0]"),
    (lambda d, v: d["layers"][0].update(bias=v), "layers[0].bias"),
    (lambda d, v: d["layers"][1].update(bias=[0.1, v]), "layers[1].bias[1]"),
    (lambda d, v: d.update(learning_rate=v), "learning_rate"),
]
SITE_IDS = [field for _, field in NUMBER_SITES]


NON_NUMBERS = [
    ("abc", "expected a number, got 'abc'"),
    ("", "expected a number, got ''"),
    ("0.1.2", "expected a number, got '0.1.2'"),
    ("1/2", "expected a number, got '1/2'"),
    (None, "expected a number"),
    (True, "expected a number, got true"),
    (False, "expected a number, got false"),
    ({"value": 1}, "expected a number"),
]


@pytest.mark.parametrize(
    ("put", "field", "value", "says"),
    [
        pytest.param(put, field, value, says, id=f"{field}-{value!r}")
        for put, field in NUMBER_SITES
        for value, says in NON_NUMBERS
        # a null shared bias means "no bias", which is valid (tested in test_null_bias_means_no_bias)
        if not (field == "layers[0].bias" and value is None)
    ],
)
def test_non_numeric_value(put, field, value, says):
    message = input_error(mutated(lambda d: put(d, value)))
    assert message.startswith(f"{field}: ")
    assert says in message


@pytest.mark.parametrize(("put", "field"), [s for s in NUMBER_SITES if s[1] != "layers[0].bias"],
                         ids=[f for f in SITE_IDS if f != "layers[0].bias"])
def test_nested_list_where_a_number_is_expected(put, field):
    message = input_error(mutated(lambda d: put(d, [0.1])))
    assert message.startswith(f"{field}: ")
    assert "expected a number, got list" in message


@pytest.mark.parametrize(("put", "field"), NUMBER_SITES, ids=SITE_IDS)
@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("NaN", "NaN"),
        ("nan", "NaN"),
        ("Infinity", "Infinity"),
        ("-Infinity", "-Infinity"),
        ("inf", "Infinity"),
        (math.nan, "NaN"),
        (math.inf, "Infinity"),
    ],
)
def test_non_finite_numbers(put, field, value, shown):
    message = input_error(mutated(lambda d: put(d, value)))
    assert message == f"{field}: expected a finite number, got {shown}"


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_json_literals_in_a_file(tmp_path, literal):
    text = json.dumps(MAZUR).replace("0.35", literal)
    path = tmp_path / "spec.json"
    path.write_text(text, encoding="utf-8")
    message = load_error(path)
    assert message.startswith("layers[0].bias: expected a finite number")


@pytest.mark.parametrize("literal", ["nan", "inf", "-inf"])
def test_non_finite_toml_floats(tmp_path, literal):
    path = tmp_path / "spec.toml"
    path.write_text(MAZUR_TOML.replace("learning_rate = 0.5", f"learning_rate = {literal}"), encoding="utf-8")
    assert load_error(path).startswith("learning_rate: expected a finite number")


@pytest.mark.parametrize("value", ["yes", 1, 0, None, [True]])
def test_update_biases_must_be_boolean(value):
    message = input_error(mutated(lambda d: d.update(update_biases=value)))
    assert message.startswith("update_biases: expected true or false, got ")


@pytest.mark.parametrize("value", ["", "   ", 5, None, ["mazur"]])
def test_spec_name_must_be_a_non_empty_string(value):
    assert input_error(mutated(lambda d: d.update(name=value))) == "name: expected a non-empty string"


# --- vocabulary and names ------------------------------------------------------------------------


@pytest.mark.parametrize("activation", ["swish", "Sigmoid", "", None, 1, ["sigmoid"]])
def test_unknown_activation(activation):
    message = input_error(mutated(lambda d: d["layers"][1].update(activation=activation)))
    assert message.startswith(f"layers[1].activation: unknown activation {activation!r}")
    assert "(known: " in message and "sigmoid" in message.split("(known: ")[1]


@pytest.mark.parametrize("loss", ["mse", "hinge", "Half_Squared_Error", "", None, 2, {"name": "mse"}])
def test_unknown_loss(loss):
    message = input_error(mutated(lambda d: d.update(loss=loss)))
    assert message.startswith(f"loss: unknown loss {loss!r}")
    assert "(known: " in message and "half_squared_error" in message.split("(known: ")[1]


@pytest.mark.parametrize("name", ["1h", "", "h-1", "h 1", "hidden123", "_h", "é", "h\n", 7, None])
def test_bad_layer_name(name):
    message = input_error(mutated(lambda d: d["layers"][0].update(name=name)))
    assert message == f"layers[0].name: expected a letter then up to 7 letters or digits, got {name!r}"


@pytest.mark.parametrize("name", ["h", "H2", "hidden12", "a1b2c3d4"])
def test_good_layer_names(name):
    assert spec_from_dict(mutated(lambda d: d["layers"][0].update(name=name))).layers[0].name == name


# --- several samples, reduction, and what a loss or activation needs --------------------------------


def with_samples(data: dict) -> None:
    """Move the top-level inputs and targets into `samples`, and add a second sample."""
    data["samples"] = [
        {"inputs": data.pop("inputs"), "targets": data.pop("targets")},
        {"inputs": ["1", 0], "targets": [0, "0.5"]},
    ]


def test_samples_load():
    spec = spec_from_dict(mutated(with_samples))
    assert len(spec.samples) == 2
    assert inputs_of(spec, 0) == (R(1, 20), R(1, 10))
    assert inputs_of(spec, 1) == (R(1), R(0))
    assert targets_of(spec, 1) == (R(0), R(1, 2))


@pytest.mark.parametrize("field", ["inputs", "targets"])
def test_samples_and_top_level_inputs_or_targets_together(field):
    data = mutated(with_samples)
    data[field] = [0.1, 0.2]
    message = input_error(data)
    assert message.startswith(f"{field}: ")
    assert "samples" in message and "not both" in message


@pytest.mark.parametrize("samples", [[], {}, None, [[0.1, 0.2]]])
def test_samples_must_be_a_non_empty_list_of_objects(samples):
    data = mutated(with_samples)
    data["samples"] = samples
    message = input_error(data)
    assert message.startswith("samples: expected a non-empty list") or message.startswith("samples[0]: expected an object")


@pytest.mark.parametrize(
    ("change", "field", "says"),
    [
        (lambda d: d["samples"][1].pop("targets"), "samples[1].targets", "missing field"),
        (lambda d: d["samples"][1].pop("inputs"), "samples[1].inputs", "missing field"),
        (lambda d: d["samples"][1].update(weight=2), "samples[1]", "unknown field 'weight'"),
        (lambda d: d["samples"].__setitem__(1, [1, 2]), "samples[1]", "expected an object"),
        (lambda d: d["samples"][1]["inputs"].append(3), "samples[1].inputs", "expected 2 numbers"),
        (lambda d: d["samples"][1]["targets"].pop(), "samples[1].targets", "expected 2 numbers"),
        (lambda d: d["samples"][0]["targets"].__setitem__(1, "abc"), "samples[0].targets[1]", "expected a number, got 'abc'"),
        (lambda d: d["samples"][1]["inputs"].__setitem__(0, "NaN"), "samples[1].inputs[0]", "expected a finite number"),
        (lambda d: d["samples"][1].update(inputs=[]), "samples[1].inputs", "expected a non-empty list of numbers"),
    ],
    ids=["missing-targets", "missing-inputs", "unknown-field", "not-object", "inputs-length", "targets-length",
         "abc", "nan", "empty"],
)
def test_bad_sample(change, field, says):
    data = mutated(with_samples)
    change(data)
    message = input_error(data)
    assert message.startswith(f"{field}: ")
    assert says in message


@pytest.mark.parametrize("reduction", ["max", "", None, ["sum"]])
def test_unknown_reduction(reduction):
    message = input_error(mutated(lambda d: d.update(reduction=reduction)))
    assert message.startswith(f"reduction: unknown reduction {reduction!r}")
    assert "sum" in message and "mean" in message


def test_reduction_defaults_to_sum():
    assert spec_from_dict(mazur()).reduction == "sum"
    assert spec_from_dict(mutated(lambda d: d.update(reduction="mean"))).reduction == "mean"


@pytest.mark.parametrize("targets", [[1.5, 0.5], [-0.5, 0.5]])
def test_binary_cross_entropy_targets_between_0_and_1(targets):
    message = input_error(mutated(lambda d: d.update(loss="binary_cross_entropy", targets=targets)))
    assert message.startswith("targets: ")
    assert "between 0 and 1" in message


def test_cross_entropy_accepts_targets_that_do_not_sum_to_1():
    """Soft labels and rounded probabilities, as PyTorch accepts them; still between 0 and 1."""
    spec = spec_from_dict(mutated(lambda d: d.update(loss="cross_entropy", targets=[0.2, 0.3])))
    assert sum(spec.samples[0].targets) == Rational(1, 2)
    message = input_error(mutated(lambda d: d.update(loss="cross_entropy", targets=[1.2, 0.3])))
    assert message.startswith("targets: ") and "between 0 and 1" in message


def test_softmax_needs_two_neurons():
    data = mazur()
    data["layers"][1].update(activation="softmax", weights=[[0.4, 0.45]])
    data["targets"] = [1]
    message = input_error(data)
    assert message.startswith("layers[1].activation: ")
    assert "softmax" in message


# --- files -------------------------------------------------------------------------------------


def test_missing_file(tmp_path):
    path = tmp_path / "nope.json"
    message = load_error(path)
    assert message.startswith(f"{path}: cannot read spec file")
    assert "No such file" in message


def test_unknown_name_that_is_not_an_example(tmp_path):
    message = load_error("no_such_example_or_file")
    assert message == "spec: no spec file or built-in example 'no_such_example_or_file'; built-in: attention, batchnorm, blocks, classifier, conv1d, convnet, deep, gru, lstm, mazur, neuron, rnn, staged"


def test_a_near_miss_of_an_example_suggests_it():
    message = load_error("mazurr")
    assert message == "spec: no spec file or built-in example 'mazurr'; did you mean mazur? built-in: attention, batchnorm, blocks, classifier, conv1d, convnet, deep, gru, lstm, mazur, neuron, rnn, staged"


def test_directory_is_not_a_spec(tmp_path):
    message = load_error(tmp_path)
    assert message.startswith(f"{tmp_path}: cannot read spec file")


def test_invalid_utf8(tmp_path):
    path = tmp_path / "spec.json"
    path.write_bytes(b'{"name": "\xff\xfe"}')
    message = load_error(path)
    assert message.startswith(f"{path}: cannot read spec file")
    assert "utf-8" in message


@pytest.mark.parametrize("text", ['{"inputs": [0.05, 0.10],', "", "{'inputs': [1]}", "[1, 2,]", "{} {}"])
def test_invalid_json(tmp_path, text):
    path = tmp_path / "spec.json"
    path.write_text(text, encoding="utf-8")
    message = load_error(path)
    assert message.startswith(f"{path}: not valid JSON: ")
    assert " at line " in message and ", column " in message


def test_invalid_json_reports_the_position(tmp_path):
    path = tmp_path / "spec.json"
    path.write_text('{\n  "inputs": [0.05, 0.10],\n  "targets": [0.01 0.99]\n}', encoding="utf-8")
    assert "at line 3, column" in load_error(path)


def test_any_suffix_other_than_toml_is_read_as_json(tmp_path):
    path = tmp_path / "spec.txt"
    path.write_text(MAZUR_TOML, encoding="utf-8")
    assert load_error(path).startswith(f"{path}: not valid JSON: ")


@pytest.mark.parametrize("text", ["inputs = [0.05, 0.10", "inputs = = 1", "[[layers]\n", 'name = "a\nb"', "a = 1\na = 2"])
def test_invalid_toml(tmp_path, text):
    path = tmp_path / "spec.toml"
    path.write_text(text, encoding="utf-8")
    assert load_error(path).startswith(f"{path}: not valid TOML: ")


def test_json_file_with_a_valid_syntax_but_bad_content(tmp_path):
    path = write_json(tmp_path, mutated(lambda d: d["layers"][1]["weights"][0].append(0.1)))
    assert load_error(path).startswith("layers[1].weights[0]: expected 2 numbers")


def test_toml_file_with_bad_content_names_the_field(tmp_path):
    path = tmp_path / "spec.toml"
    path.write_text(MAZUR_TOML.replace("weights = [[0.40, 0.45], [0.50, 0.55]]",
                                       "weights = [[0.40, 0.45, 0.1], [0.50, 0.55]]"), encoding="utf-8")
    assert load_error(path) == "layers[1].weights[0]: expected 2 numbers (one per output of layer 'h'), got 3"


def test_top_level_json_array(tmp_path):
    path = write_json(tmp_path, [MAZUR])
    assert load_error(path).startswith("spec: expected an object")


# --- property: anything anywhere loads or is one InputError line ----------------------------------


def _paths(value, prefix=()):
    """Every place in a JSON value: (path of keys/indices) for each dict entry and list item."""
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, prefix + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, prefix + (index,))


_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from(["0.1", "1e-3", "-2", "NaN", "Infinity", "-inf", "h", "o", " 3 ", "sum", "mean",
                     "sigmoid", "softmax", "relu", "half_squared_error", "cross_entropy", "binary_cross_entropy"])
)
json_values = st.recursive(
    _scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


def _at(data, path):
    for key in path:
        data = data[key]
    return data


@st.composite
def changed_specs(draw):
    """The valid spec (with top-level inputs and targets, or with samples) with one field
    replaced by a random JSON value, deleted, or one random field added to an object."""
    data = mazur()
    if draw(st.booleans()):
        with_samples(data)
    how = draw(st.sampled_from(["replace", "replace", "delete", "add"]))
    paths = [path for path in _paths(data) if path]
    if how == "add":
        objects = [path for path in [(), *paths] if isinstance(_at(data, path), dict)]
        container = _at(data, draw(st.sampled_from(objects)))
        key = draw(st.text(max_size=12) | st.sampled_from(["samples", "reduction", "inputs", "targets", "bias"]))
        container[key] = draw(json_values)
    else:
        path = draw(st.sampled_from(paths))
        parent = _at(data, path[:-1])
        if how == "delete":
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(json_values)
    return data


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(changed_specs())
def test_any_value_anywhere_loads_or_raises_one_input_error_line(data):
    try:
        spec = spec_from_dict(data)
    except InputError as error:
        message = one_line(error)
        assert ": " in message  # "<field>: <problem>"
    else:
        assert isinstance(spec, Spec)
        assert all(isinstance(x, Rational) for x in inputs_of(spec) + targets_of(spec))
        assert len(targets_of(spec)) == spec.layers[-1].size
        assert len(inputs_of(spec)) == spec.layers[0].fan_in


@settings(max_examples=100, deadline=None)
@given(changed_specs())
def test_any_value_anywhere_through_a_json_file(tmp_path_factory, data):
    """The same property through the file reader (JSON floats read as Decimal, NaN as float)."""
    path = tmp_path_factory.mktemp("spec") / "spec.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    try:
        spec = load_spec(str(path))
    except InputError as error:
        one_line(error)
    else:
        assert spec == spec_from_dict(json.loads(path.read_text(encoding="utf-8")), default_name="spec")
