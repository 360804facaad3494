#!/usr/bin/env python
"""Screenshot of tlm-serve's correction page at work: real sentences, a real model, headless Chromium.

Starts ``tlm-serve`` on a free loopback port, opens ``/`` in Debian's headless Chromium (driven by
selenium with the packaged chromedriver), pastes the first sentences of an M2 file (their sources,
spaces removed), clicks *Correct*, waits for the marked result and saves a PNG:

    python scripts/page_screenshot.py --model-dir work/demo/cgec-onnx \
        --m2 tests/data/cgec/nlpcc18_test_sample.char.m2 --sentences 6 --out docs/page/cgec-demo.png
"""
from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tlm_fairseq.cli import CliParser, run_cli
from tlm_fairseq.errors import UserError
from tlm_fairseq.scoring.m2.reader import read_blocks

FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1100,1400", "--hide-scrollbars"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, proc: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise UserError(f"tlm-serve exited with {proc.returncode} before answering")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise UserError(f"tlm-serve did not answer at {url} within {seconds:.0f} s")


def screenshot(args: argparse.Namespace) -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    sentences = ["".join(block.tokens) for block in read_blocks(args.m2)][: args.sentences]
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([sys.executable, "-m", "export.server", "--model-dir", str(args.model_dir),
                               "--port", str(port), "--threads", "1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(url, server)
        options = webdriver.ChromeOptions()
        options.binary_location = args.chromium
        for flag in FLAGS:
            options.add_argument(flag)
        driver = webdriver.Chrome(service=Service(args.chromedriver), options=options)
        try:
            driver.get(url + "/")
            WebDriverWait(driver, 20).until(lambda d: d.find_element(By.ID, "text-mode").is_displayed())
            driver.find_element(By.ID, "text").send_keys("\n".join(sentences))
            driver.find_element(By.ID, "correct").click()
            WebDriverWait(driver, 120).until(lambda d: d.find_element(By.ID, "result").is_displayed()
                                             or d.find_element(By.ID, "error").is_displayed())
            if driver.find_element(By.ID, "error").is_displayed():
                raise UserError(f"the page shows an error: {driver.find_element(By.ID, 'error').text}")
            height = driver.execute_script("return document.documentElement.scrollHeight")
            driver.set_window_size(1100, max(900, height + 40))
            args.out.parent.mkdir(parents=True, exist_ok=True)
            tmp = args.out.with_name(f".{args.out.name}.tmp.png")
            if not driver.save_screenshot(str(tmp)):
                raise UserError(f"{args.out}: Chromium could not take the screenshot")
            tmp.replace(args.out)
            edits = len(driver.find_elements(By.CSS_SELECTOR, "#marked .edit"))
            print(f"{args.out}: {len(sentences)} sentences, {edits} edits marked")
        finally:
            driver.quit()
    finally:
        server.terminate()
        server.wait(timeout=20)


def main(argv: list[str] | None = None) -> int:
    parser = CliParser(prog="page_screenshot", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-dir", type=Path, required=True, help="a text model written by tlm-export")
    parser.add_argument("--m2", type=Path, required=True, help="M2 file whose sources are typed into the page")
    parser.add_argument("--sentences", type=int, default=6)
    parser.add_argument("--out", type=Path, required=True, help="PNG to write")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--chromedriver", default="/usr/bin/chromedriver")
    return run_cli(parser, screenshot, argv)


if __name__ == "__main__":
    sys.exit(main())
