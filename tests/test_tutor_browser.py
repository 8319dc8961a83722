"""The tutor page driven in headless Chromium through WebDriver (Debian's chromium and chromium-driver, selenium).

Stepping by button and keyboard, a right and a wrong number typed and the feedback read (the diagnosis
must be the engine's, as `check --value` gives it), the figure's highlight, progress kept over a reload
and reset. Screenshots at 800 and 1200 px go to test-artifacts/ (gitignored), to be looked at.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

import symbackprop as sbp

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
BROWSERS = ("chromium", "chromium-browser", "google-chrome")


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("tutor") / "mazur-tutor.html"
    path.write_text(sbp.tutor("mazur").html(), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    found = next((shutil.which(name) for name in BROWSERS if shutil.which(name)), None)
    driver_path = shutil.which("chromedriver")
    assert found and driver_path, "headless Chromium and its driver are needed: apt-get install chromium " \
                                  "chromium-driver (.ci/run installs them)"
    options = webdriver.ChromeOptions()
    options.binary_location = found
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                     f"--user-data-dir={tmp_path_factory.mktemp('profile')}", "--window-size=1200,900"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    yield driver
    driver.quit()


def where(browser) -> str:
    return browser.find_element(By.ID, "where").text


def questions(browser) -> list[dict]:
    return json.loads(browser.find_element(By.ID, "tutor-data").get_attribute("textContent"))["questions"]


def go_to(browser, index: int) -> None:
    """Step with the Next and Previous buttons until step `index` (from 1) shows."""
    while int(where(browser).split()[1]) < index:
        browser.find_element(By.ID, "next").click()
    while int(where(browser).split()[1]) > index:
        browser.find_element(By.ID, "previous").click()


def answer(browser, typed: str) -> str:
    box = browser.find_element(By.ID, "answer")
    box.clear()
    box.send_keys(typed, Keys.ENTER)
    return browser.find_element(By.ID, "feedback").text


def lit(browser, attribute: str) -> set[str]:
    return {e.get_attribute(attribute) for e in browser.find_elements(By.CSS_SELECTOR, f"svg [{attribute}].lit")}


def assert_first_mistake_is_checks(browser, spec: str, quantity: str, typed: str) -> None:
    """`typed` answered at the current step is wrong, and the page's first mistake is `check --value`'s likeliest
    one for `quantity`, word for word."""
    assert answer(browser, typed).startswith(f"Not {typed}.")
    verdict = json.loads(sbp.check(spec, value=typed, quantity=quantity).render("json"))
    engine = verdict["explanations"][0]
    first = browser.find_elements(By.CSS_SELECTOR, "#feedback li.mistake")[0].text
    assert first == f"{engine['description']['text']}: gives {engine['value']}, which is yours at your digits"


def test_tutor_page_in_a_browser(page, browser):
    browser.get(page.as_uri())
    browser.find_element(By.ID, "reset").click()
    total = len(questions(browser))
    assert where(browser) == f"Step 1 of {total}"

    # Step by keyboard and by button.
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.ARROW_RIGHT)
    assert where(browser) == f"Step 2 of {total}"
    body.send_keys(Keys.ARROW_LEFT)
    assert where(browser) == f"Step 1 of {total}"
    browser.find_element(By.ID, "next").click()
    browser.find_element(By.ID, "previous").click()
    assert where(browser) == f"Step 1 of {total}"

    # Step 1 is net_h1: its weights' edges lit, the other neuron's not.
    assert lit(browser, "data-edge") == {"i_1 h1", "i_2 h1", "b_1 h1"}
    assert {"h1", "i_1", "i_2", "b_1"} == lit(browser, "data-node")

    # The answer box has a label; a right number at the precision typed, and the working revealed.
    assert browser.find_element(By.CSS_SELECTOR, "label[for=answer]").get_attribute("textContent") == \
        "Your value of net_h1"
    assert answer(browser, "0.378") == "Right."
    assert answer(browser, "0.3775") == "Right."
    assert not browser.find_element(By.ID, "working").is_displayed()
    browser.find_element(By.ID, "reveal").click()
    assert browser.find_element(By.ID, "working").is_displayed()
    assert "0.3775" in browser.find_element(By.ID, "work").text

    # A wrong E_total: the likeliest mistake is the engine's own diagnosis, word for word.
    index = next(k for k, q in enumerate(questions(browser), 1) if q["text"] == "E_total")
    go_to(browser, index)
    assert_first_mistake_is_checks(browser, "mazur", "E_total", "0.274811083")
    assert answer(browser, "0.299") == "Right, with every intermediate rounded to 3 decimals as by hand."

    # Click w5's label: its one path to the loss lit, and the derivation of dE_total/dw5 opened at its first step.
    data = json.loads(browser.find_element(By.ID, "tutor-data").get_attribute("textContent"))
    opened = next(k for k, q in enumerate(questions(browser), 1) if q["section"] == "Gradient for w₅")
    assert questions(browser)[opened - 1]["text"] == "dE_total/dout_o1"
    w5 = browser.find_element(By.CSS_SELECTOR, 'svg [data-label="h1 o1"]')
    assert w5.get_attribute("aria-label") == "w₅: light its paths to the loss and open its gradient's derivation"
    w5.click()
    assert where(browser) == f"Step {opened} of {total}"
    assert browser.find_element(By.ID, "section").text == "Gradient for w₅"
    assert lit(browser, "data-edge") == {"h1 o1"} and lit(browser, "data-node") == {"h1", "o1"}
    assert browser.find_element(By.ID, "opened").text == \
        f"Paths from w₅ to the loss; the derivation of its gradient starts at step {opened}."

    # Every weight's label and every node is a control reached by Tab; Enter on w1 lights its three edges.
    controls = browser.find_elements(By.CSS_SELECTOR, "svg [tabindex='0'][role=button]")
    assert len(controls) == 8 + 8 == len(data["openings"]) - 4  # 8 weights, 8 nodes; the 4 bias edges are not stops
    assert all(c.get_attribute("aria-label") for c in controls)
    browser.set_window_size(800, 1000)
    browser.execute_script("arguments[0].focus();", browser.find_element(By.CSS_SELECTOR, 'svg [data-label="i_1 h1"]'))
    browser.switch_to.active_element.send_keys(Keys.ENTER)
    assert lit(browser, "data-edge") == {"i_1 h1", "h1 o1", "h1 o2"}
    assert browser.find_element(By.ID, "section").text == "Gradient for w₁"
    ARTIFACTS.mkdir(exist_ok=True)
    assert browser.save_screenshot(str(ARTIFACTS / "tutor-mazur-w1-800.png"))
    go_to(browser, index)

    for width in (800, 1200):
        browser.set_window_size(width, 1000)
        ARTIFACTS.mkdir(exist_ok=True)
        assert browser.save_screenshot(str(ARTIFACTS / f"tutor-mazur-{width}.png"))

    # Reload: the step and the typed number are kept; reset forgets them.
    browser.refresh()
    assert where(browser) == f"Step {index} of {total}"
    assert browser.find_element(By.ID, "answer").get_attribute("value") == "0.299"
    assert browser.find_element(By.ID, "feedback").text.startswith("Right")
    browser.find_element(By.ID, "reset").click()
    assert where(browser) == f"Step 1 of {total}"
    browser.refresh()
    assert where(browser) == f"Step 1 of {total}"
    assert browser.find_element(By.ID, "answer").get_attribute("value") == ""
