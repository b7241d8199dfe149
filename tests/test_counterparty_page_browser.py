"""The counterparty page in a real headless Chromium: send, open, click Sign, poll, signed.

Needs Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs them when
unattended as root) and selenium (the ``dev`` extra); skips, saying which, without them.
Set ``EDI_BRIDGE_SCREENSHOTS`` to a directory to keep the screenshots (docs/ has them).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from edi_bridge import Bridge, Counterparty
from edi_bridge.testing import sample_contract
from edi_bridge.testing.pytest_plugin import RunningFake, poll_until

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


@pytest.fixture
def browser() -> Iterator[Any]:
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not os.access(path, os.X_OK):
            pytest.skip(f"{path} is missing: install the {package} package")
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="edi-bridge-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=900,700",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    driver.implicitly_wait(10)  # find_element waits for a page still loading
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _click_and_wait(driver: Any, element: Any) -> None:
    """Click a link or button and wait until the browser has left the page it was on."""
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.wait import WebDriverWait

    element.click()
    WebDriverWait(driver, 20).until(expected_conditions.staleness_of(element))


def _shot(driver: Any, name: str, tmp_path: Path) -> None:
    target = Path(os.environ.get("EDI_BRIDGE_SCREENSHOTS") or tmp_path)
    target.mkdir(parents=True, exist_ok=True)
    assert driver.save_screenshot(str(target / name))


@pytest.mark.edi_provider("diadoc", scenario="silent")
def test_clicking_sign_in_a_browser_makes_the_exchange_signed(
    browser: Any,
    edi_bridge: Bridge,
    edi_counterparty: Counterparty,
    edi_provider_fake: RunningFake,
    tmp_path: Path,
) -> None:
    from selenium.webdriver.common.by import By

    exchange = edi_bridge.send(edi_counterparty, sample_contract("BR-1"))
    edi_bridge.poll()
    assert edi_bridge.status(exchange.id).status == "sent"

    browser.get(edi_provider_fake.url + "/")
    assert edi_counterparty.inn in browser.find_element(By.TAG_NAME, "h2").text
    assert browser.find_element(By.CSS_SELECTOR, "td.status").get_attribute("data-state") == "sent"
    _shot(browser, "counterparty-page-inbox.png", tmp_path)

    _click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "td a"))
    assert "edi-bridge test sender" in browser.find_element(By.ID, "signer").text
    _shot(browser, "counterparty-page-document.png", tmp_path)
    _click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "button[value=sign]"))
    assert browser.find_element(By.ID, "status").get_attribute("data-state") == "signed"
    assert "Done" in browser.find_element(By.ID, "message").text

    done = poll_until(edi_bridge, exchange.id, "signed")
    assert {s.role for s in done.signatures} == {"ours", "counterparty"}

    # Back to the stale page and the same click again: nothing changes twice.
    browser.back()
    _click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "button[value=sign]"))
    assert "Nothing changed" in browser.find_element(By.ID, "message").text
    edi_bridge.poll()
    assert [h.status for h in edi_bridge.status(exchange.id).history].count("signed") == 1
