"""Open report.html in headless Chromium (Debian package `chromium`): the DOM holds every figure as an
<img>, and the screenshot shows them (coloured pixels: the page's text and tables are greyscale)."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (`make install-test-deps` as "
                                                         "root installs Debian's chromium package)")


def _chromium(tmp_path, *args):
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)


def test_report_html_renders_with_its_images_in_chromium(planted, tmp_path):
    import matplotlib.image as mpimg

    _, paths, data = planted
    url = paths["html"].resolve().as_uri()
    dom = _chromium(tmp_path, "--dump-dom", url).stdout
    images = re.findall(r'<img alt="([^"]+)" src="data:image/png;base64,', dom)
    assert images == [name for name in _figure_order(data)]
    assert "<h2>3. Findings</h2>" in dom and "F1" in dom

    shot = tmp_path / "shot.png"
    _chromium(tmp_path, "--window-size=1100,7000", "--hide-scrollbars", f"--screenshot={shot}", url)
    pixels = mpimg.imread(shot)[..., :3]
    assert pixels.shape[:2] == (7000, 1100)
    assert pixels.std() > 0.05  # not a blank page
    saturation = pixels.max(axis=-1) - pixels.min(axis=-1)
    assert (saturation > 0.3).sum() > 5000  # the plots' coloured lines and points are on screen


def _figure_order(data):
    """Figures in the order the page shows them."""
    order = list(data["audit"].get("figures", [])) + list(data["scores"].get("figures", []))
    order += list(data["gaps"].get("figures", [])) + list(data["evaluations"].get("figures", []))
    for analysis in data["findings"]["compressors"]:
        order += analysis.get("figures", [])
    return order
