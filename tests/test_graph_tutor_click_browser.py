"""Clicking a name of a computation graph's tutor figure in headless Chromium (the browser and helpers of
test_tutor_browser.py): w_0 clicked, and Enter on a focused node, light its paths to the loss and show the
first step of its gradient's derivation; an edge opens its source's. A screenshot at 800 px goes to
test-artifacts/."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

import symbackprop as sbp
from tests.test_graph_tutor_openings import DEAD
from tests.test_tutor_browser import ARTIFACTS, browser, lit, questions, where  # noqa: F401


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("tutor")
    written = {}
    for name, spec in (("neuron", "neuron"), ("dead", DEAD)):
        written[name] = folder / f"{name}-tutor.html"
        written[name].write_text(sbp.tutor(spec).html(), encoding="utf-8")
    return written


def step_of(browser, section: str) -> int:
    """The number (from 1) of the first step in `section`."""
    return next(k for k, q in enumerate(questions(browser), 1) if q["section"] == section)


def node(browser, key: str):
    return browser.find_element(By.CSS_SELECTOR, f'svg [data-node="{key}"]')


def test_clicking_a_name_of_the_graph_lights_its_paths_and_opens_its_gradient(pages, browser):
    browser.get(pages["neuron"].as_uri())
    browser.find_element(By.ID, "reset").click()
    total = len(questions(browser))
    data = json.loads(browser.find_element(By.ID, "tutor-data").get_attribute("textContent"))

    # Every name of the figure is a control with a spoken name; the edges' lines are clicked, not tabbed to.
    controls = browser.find_elements(By.CSS_SELECTOR, "svg [tabindex='0'][role=button]")
    assert {c.get_attribute("data-node") for c in controls} == set(data["figure"]["nodes"])
    assert node(browser, "w_0").get_attribute("aria-label") == \
        "w₀: light its paths to the loss and open its gradient's derivation"

    # w_0 clicked: its path w_0 -> dot -> f lit, and the first step of its gradient's section, ddot/dw_0.
    node(browser, "w_0").click()
    opened = step_of(browser, "Gradient for w₀")
    assert questions(browser)[opened - 1]["text"] == "ddot/dw_0"
    assert where(browser) == f"Step {opened} of {total}"
    assert browser.find_element(By.ID, "section").text == "Gradient for w₀"
    assert lit(browser, "data-edge") == {"w_0 dot", "dot f"}
    assert lit(browser, "data-node") == {"w_0", "dot", "f"}
    assert browser.find_element(By.ID, "opened").text == \
        f"Paths from w₀ to the loss; the derivation of its gradient starts at step {opened}."
    browser.set_window_size(800, 1000)
    ARTIFACTS.mkdir(exist_ok=True)
    assert browser.save_screenshot(str(ARTIFACTS / "tutor-neuron-w0-800.png"))

    # Enter on a focused node does the same for x_1: its path lit, its gradient's section shown.
    browser.execute_script("arguments[0].focus();", node(browser, "x_1"))
    browser.switch_to.active_element.send_keys(Keys.ENTER)
    assert where(browser) == f"Step {step_of(browser, 'Gradient for x₁')} of {total}"
    assert lit(browser, "data-edge") == {"x_1 dot", "dot f"}
    assert lit(browser, "data-node") == {"x_1", "dot", "f"}

    # A click on the line of the edge from w_2 (dispatched: the line is 1 px wide): what w_2 shows.
    edge = browser.find_element(By.CSS_SELECTOR, 'svg [data-edge="w_2 dot"]')
    browser.execute_script("arguments[0].dispatchEvent(new MouseEvent('click', {bubbles: true}));", edge)
    assert browser.find_element(By.ID, "section").text == "Gradient for w₂"
    assert lit(browser, "data-edge") == {"w_2 dot", "dot f"}

    # The next step lights that step's part again and clears the line under the figure.
    browser.find_element(By.ID, "next").click()
    assert browser.find_element(By.ID, "opened").text == ""
    assert lit(browser, "data-edge") == set(questions(browser)[int(where(browser).split()[1]) - 1]["edges"])


def test_a_name_that_does_not_reach_the_loss_says_so(pages, browser):
    browser.get(pages["dead"].as_uri())
    browser.find_element(By.ID, "reset").click()
    before = where(browser)
    node(browser, "a").click()
    assert where(browser) == before  # no gradient: no step to open
    assert lit(browser, "data-node") == {"a"} and lit(browser, "data-edge") == set()
    assert browser.find_element(By.ID, "opened").text == \
        "Paths from a to the loss: none, so no gradient is derived for it."
