"""POST /v1/correct and the page at GET /: edits located in the user's text, shown in a real browser."""
from __future__ import annotations

import json

import httpx
import pytest
from browser import chromium

XSS = "<script>window.__pwned=1</script>。<img src=x onerror=window.__pwned=2>。"  # each under 63 tokens
TEXT = "我们是学学生。你去去哪？\n他喜欢吃饭"


@pytest.fixture(scope="module")
def server(cgec, serving):
    with serving(cgec["model_dir"], "--max-inputs", "4", "--max-input-chars", "100") as url:
        yield url


def correct(url: str, text: str, **options) -> httpx.Response:
    return httpx.post(f"{url}/v1/correct", json={"text": text, **options}, timeout=60)


def test_correct_locates_every_edit_in_the_text_as_sent(server):
    reply = correct(server, TEXT, beam=2)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["text"] == TEXT and [s["source"] for s in body["sentences"]] == ["我们是学学生。", "你去去哪？", "他喜欢吃饭"]
    assert body["provider"] == "CPUExecutionProvider" and body["time_ms"] > 0
    for edit in body["edits"]:
        assert TEXT[edit["start"]:edit["end"]] == edit["original"]
        assert edit["type"] == ("insert" if not edit["original"] else "delete" if not edit["correction"] else "replace")
    # the corrected text is the original with the edits applied, line break kept
    rebuilt, pos = [], 0
    for edit in body["edits"]:
        rebuilt += [TEXT[pos:edit["start"]], edit["correction"]]
        pos = edit["end"]
    assert body["corrected"] == "".join(rebuilt) + TEXT[pos:] and "\n" in body["corrected"]
    plain = httpx.post(f"{server}/v1/generate", json={"inputs": [s["source"] for s in body["sentences"]], "beam": 2}).json()
    # without <unk> in the outputs, each sentence's correction is exactly /v1/generate's output
    assert [s["correction"] for s in body["sentences"]] == plain["outputs"]


def test_unknown_characters_are_restored_not_shown_as_unk(server):
    body = correct(server, "我们ABC是学生。").json()
    assert "<unk>" not in body["corrected"] and all("<unk>" not in e["correction"] for e in body["edits"])


def test_correct_obeys_the_api_limits(server):
    cases = [
        (correct(server, "。".join(["我们是学生"] * 5)), 422, "too_many_inputs", "5 sentences; the limit is 4"),
        (correct(server, "我" * 101 + "。"), 422, "input_too_long", "102 characters; the limit is 100"),
        (correct(server, " \n "), 422, "empty_inputs", "no sentence"),
        (correct(server, "我们", beam=99), 422, "invalid_request", "beam"),
        (httpx.post(f"{server}/v1/correct", json={"inputs": ["我们"]}), 422, "invalid_request", "text"),
    ]
    for reply, status, code, message in cases:
        assert reply.status_code == status and reply.json()["error"]["code"] == code, reply.text
        assert message in reply.json()["error"]["message"]


def test_record_models_point_to_generate(rotowire, serving):
    with serving(rotowire["model_dir"]) as url:
        reply = correct(url, "我们")
        assert reply.status_code == 422 and reply.json()["error"]["code"] == "wrong_task"
        page = httpx.get(f"{url}/")
        assert page.status_code == 200 and "game" in page.text
        with chromium() as driver:
            from selenium.webdriver.common.by import By
            from selenium.webdriver.support.ui import WebDriverWait

            driver.get(url + "/")
            WebDriverWait(driver, 20).until(lambda d: d.find_element(By.ID, "record-mode").is_displayed())
            assert not driver.find_element(By.ID, "text-mode").is_displayed()
            game = json.loads(rotowire["games"].read_text())[0]
            driver.execute_script("document.getElementById('game').value = arguments[0];", json.dumps(game))
            driver.find_element(By.ID, "generate").click()
            WebDriverWait(driver, 60).until(lambda d: d.find_element(By.ID, "record-result").is_displayed())
            expected = httpx.post(f"{url}/v1/generate", json={"inputs": [game], "beam": 5}).json()["outputs"][0]
            assert driver.find_element(By.ID, "summary").text == expected.strip()


def test_page_marks_the_edits_in_a_real_browser(server):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    text = "我们是学学生。" + XSS + "你去去哪？"
    expected = correct(server, text, beam=4).json()
    with chromium() as driver:
        driver.get(server + "/")
        WebDriverWait(driver, 20).until(lambda d: d.find_element(By.ID, "text-mode").is_displayed())
        box = driver.find_element(By.ID, "text")
        box.send_keys(text)
        Select(driver.find_element(By.ID, "beam")).select_by_visible_text("4")
        driver.find_element(By.ID, "correct").click()
        WebDriverWait(driver, 60).until(lambda d: d.find_element(By.ID, "result").is_displayed()
                                        or d.find_element(By.ID, "error").is_displayed())
        assert not driver.find_element(By.ID, "error").is_displayed(), driver.find_element(By.ID, "error").text
        marks = driver.find_elements(By.CSS_SELECTOR, "#marked .edit")
        assert [m.get_attribute("data-type") for m in marks] == [e["type"] for e in expected["edits"]]
        for mark, edit in zip(marks, expected["edits"]):
            deleted = [d.get_attribute("textContent") for d in mark.find_elements(By.TAG_NAME, "del")]
            inserted = [i.get_attribute("textContent") for i in mark.find_elements(By.TAG_NAME, "ins")]
            assert deleted == ([edit["original"]] if edit["original"] else [])
            assert inserted == ([edit["correction"]] if edit["correction"] else [])
        rows = driver.find_elements(By.CSS_SELECTOR, "#edits tbody tr")
        assert len(rows) == max(1, len(expected["edits"]))
        # user input and model output are text, never HTML: the payload is visible and never ran
        assert "<script>window.__pwned=1</script>" in driver.find_element(By.ID, "marked").get_attribute("textContent")
        assert driver.execute_script("return window.__pwned === undefined")
        assert not driver.find_elements(By.CSS_SELECTOR, "#marked script, #marked img")
        assert driver.find_element(By.ID, "corrected").get_attribute("textContent") == expected["corrected"]
        meta = driver.find_element(By.ID, "meta").text
        assert "CPUExecutionProvider" in meta and " ms" in meta

        # an API refusal is a readable message, never a blank page
        box.clear()
        box.send_keys("我" * 120 + "。")
        driver.find_element(By.ID, "correct").click()
        WebDriverWait(driver, 30).until(lambda d: d.find_element(By.ID, "error").is_displayed())
        message = driver.find_element(By.ID, "error").text
        assert "121 characters; the limit is 100" in message and "HTTP 422" in message
