"""A computation graph's tutor page driven in headless Chromium (the browser and helpers of
test_tutor_browser.py): stepping, a right and a wrong number with the engine's diagnosis on the graph, the
current step's nodes and edges lit in the graph figure. A screenshot at 800 px goes to test-artifacts/."""

from __future__ import annotations

from pathlib import Path

import pytest
from selenium.webdriver.common.by import By

import symbackprop as sbp
from tests.test_tutor_browser import (  # noqa: F401
    ARTIFACTS, answer, assert_first_mistake_is_checks, browser, go_to, lit, questions, where,
)


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("tutor") / "neuron-tutor.html"
    path.write_text(sbp.tutor("neuron").html(), encoding="utf-8")
    return path


def test_graph_tutor_page_in_a_browser(page, browser):
    browser.get(page.as_uri())
    browser.find_element(By.ID, "reset").click()
    total = len(questions(browser))
    assert where(browser) == f"Step 1 of {total}"

    # Step 2 is f = σ(dot): the node and the edge from dot lit, nothing else.
    browser.find_element(By.ID, "next").click()
    assert where(browser) == f"Step 2 of {total}"
    assert lit(browser, "data-node") == {"f", "dot"} and lit(browser, "data-edge") == {"dot f"}
    assert answer(browser, "0.731") == "Right."

    # df/dw_0: the path from w_0 to the loss lit; a number with the gradient's upstream factor dropped is
    # met by the engine's own diagnosis, word for word.
    index = next(k for k, q in enumerate(questions(browser), 1) if q["text"] == "df/dw_0")
    go_to(browser, index)
    assert lit(browser, "data-edge") == {"w_0 dot", "dot f"}
    assert lit(browser, "data-node") == {"w_0", "dot", "f"}
    assert_first_mistake_is_checks(browser, "neuron", "df/dw_0", "-1")
    assert answer(browser, "-0.19661") == "Right."

    # An update: the learning rate forgotten, diagnosed.
    go_to(browser, next(k for k, q in enumerate(questions(browser), 1) if q["text"] == "w_0^+"))
    answer(browser, "2.196611933")
    mistakes = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#feedback li.mistake")]
    assert mistakes[0].startswith("the factor eta dropped from w_0^+: gives 2.19661193")

    browser.set_window_size(800, 1000)
    ARTIFACTS.mkdir(exist_ok=True)
    assert browser.save_screenshot(str(ARTIFACTS / "tutor-neuron-800.png"))
