"""The event console in a real headless Chromium against the local AWS: the console that
`local up` started, a deployed stage and a consumer (tests/fixtures/consumer_app/) that
fails on poison events until redeployed with `fixed=true`."""

from __future__ import annotations

import json
import threading
import urllib.request
import uuid
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from event_stream.tools.local import launcher as local_aws
from event_stream.tools.local import status as local_status
from tests.conftest import FIXTURES
from tests.e2e.browser import chromium, screenshot
from tests.e2e.conftest import wait_for

CONSUMER_APP = FIXTURES / "consumer_app"
STAGE = "e2e-console"
FUNCTION = f"e2e-{STAGE}-consumer"


@pytest.fixture(scope="module")
def stage(cloud):
    cloud.deploy(STAGE)
    cloud.deploy(STAGE, "retryAttempts=1", cwd=CONSUMER_APP)
    yield cloud
    cloud.tear_down(STAGE)


@pytest.fixture(scope="module")
def url(stage):
    """The console `local up` started beside the local AWS."""
    console = wait_for(lambda: local_status.read(stage.state_dir, local_status.CONSOLE_FILE))
    return console["url"].rstrip("/")


@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser):
    page = browser.new_page(viewport={"width": 1280, "height": 860})
    yield page
    page.close()


def publish(cloud, event: dict) -> dict:
    result = cloud.cli("invoke", "--stage", STAGE, "--data", json.dumps(event))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def handled_ids(cloud) -> list[str]:
    return [e["id"] for e in cloud.log_entries(FUNCTION) if e.get("message") == "handled"]


def dead_letters(cloud) -> int:
    sqs = cloud.client("sqs")
    queue = sqs.get_queue_url(QueueName=f"{FUNCTION}-dlq")["QueueUrl"]
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(v) for v in attributes.values())


def test_the_stages_page_links_to_the_stage_and_its_views(page, url):
    page.goto(f"{url}/")
    page.click(f"text={STAGE}")
    page.wait_for_selector("h1:has-text('Stage e2e-console')")
    assert page.locator(f"a[href='/consumers/{FUNCTION}']").count() == 1
    screenshot(page, "stage")


def test_an_event_published_from_the_page_is_found_by_id(page, url):
    page.goto(f"{url}/stages/{STAGE}/publish")
    page.fill("textarea[name=event]", json.dumps({"type": "thing-created", "thing": "typed in"}))
    page.click("button.publish")
    published = page.locator("code.published-id").inner_text()
    screenshot(page, "publish")
    page.goto(f"{url}/stages/{STAGE}/records")
    page.fill("input[name=id]", published)
    page.select_option("select[name=shard]", "")
    page.click("form.filters button")
    row = page.locator(f"tr.record[data-id='{published}']")
    row.wait_for()
    assert "thing-created" in row.inner_text()
    page.click("text=event and raw record")
    assert '"thing": "typed in"' in page.locator("pre.event").inner_text()
    screenshot(page, "records")


def test_an_invalid_event_gets_the_publishers_one_line_and_nothing_is_sent(page, url, stage):
    page.goto(f"{url}/stages/{STAGE}/publish")
    page.fill("textarea[name=event]", json.dumps({"thing": "no type"}))
    page.click("button.publish")
    assert "type: required" in page.locator("p.error").inner_text()


def test_an_existing_record_is_edited_and_published_again(page, url, stage):
    original = publish(stage, {"type": "thing-created", "thing": "first draft"})
    page.goto(
        f"{url}/stages/{STAGE}/records?shard={original['ShardId']}"
        f"&from=at-sequence:{original['SequenceNumber']}"
    )
    page.locator("tr.detail summary").first.click()
    page.click("text=edit and publish again")
    edited = page.locator("textarea[name=event]").input_value().replace("first draft", "edited")
    assert '"id"' not in edited  # the copy gets an id of its own
    page.fill("textarea[name=event]", edited)
    page.click("button.publish")
    copy = page.locator("code.published-id").inner_text()
    assert copy != original["id"]
    page.goto(f"{url}/stages/{STAGE}/records?id={copy}")
    page.click("text=event and raw record")
    assert '"thing": "edited"' in page.locator("pre.event").inner_text()


def test_a_consumers_lag_rises_and_falls_live_as_it_catches_up(page, url, stage, tmp_path):
    page.goto(f"{url}/consumers/{FUNCTION}")
    events = [{"type": "thing-created", "n": n, "partitionKey": f"k{n % 4}"} for n in range(400)]
    events[200]["poison"] = True  # its retries hold the shard back a while
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    assert stage.cli("replay", "--stage", STAGE, str(path)).returncode == 0
    behind = page.locator("dd.behind")
    # The page is never reloaded: its live part refreshes itself.
    wait_for(lambda: int(behind.get_attribute("data-behind") or 0) > 0, timeout=30, interval=0.1)
    screenshot(page, "consumer")
    wait_for(lambda: behind.get_attribute("data-behind") == "0", timeout=90)
    wait_for(lambda: dead_letters(stage) >= 1)


def test_a_dead_lettered_batch_is_redriven_from_the_page_after_the_fix(page, url, stage):
    if not dead_letters(stage):  # run alone: dead-letter one
        publish(stage, {"type": "thing-created", "poison": True})
        wait_for(lambda: dead_letters(stage) >= 1, timeout=90)
    stage.deploy(STAGE, "retryAttempts=1", "fixed=true", cwd=CONSUMER_APP)
    page.goto(f"{url}/consumers/{FUNCTION}/dead-letters")
    batch = page.locator("section.batch").first
    batch.wait_for()
    poison = json.loads(batch.locator("pre").text_content())[0]
    assert poison["poison"] is True
    screenshot(page, "dead-letters")
    batch.locator("button").click()
    outcome = page.locator("section.outcome li").first
    assert "redriven: redelivered 1 records" in outcome.inner_text()
    assert poison["id"] in handled_ids(stage)
    assert dead_letters(stage) == 0
    page.goto(f"{url}/consumers/{FUNCTION}/dead-letters")
    assert "the dead-letter queue is empty" in page.locator("#live").inner_text()


def test_a_dry_run_replay_counts_the_window_before_anything_is_sent(page, url, stage):
    sent = publish(stage, {"type": "thing-created", "thing": "for the dry run"})
    wait_for(lambda: sent["id"] in handled_ids(stage))  # the mapping's own delivery
    before = len(handled_ids(stage))
    page.goto(f"{url}/stages/{STAGE}/replay")
    page.select_option("select[name=function]", FUNCTION)
    page.click("button.dry-run")
    heading = page.locator("section.outcome h2").inner_text()
    assert heading.startswith("Dry run: ") and f"would go to {FUNCTION}" in heading
    assert int(heading.split()[2]) >= 1
    screenshot(page, "replay")
    assert len(handled_ids(stage)) == before  # a dry run sends nothing


def test_the_lake_page_shows_the_window_and_what_is_buffered(page, url, stage):
    page.goto(f"{url}/stages/{STAGE}/lake?since=1h")
    assert "events from" in page.locator("p.summary").inner_text()
    screenshot(page, "lake")


def test_a_cross_site_form_cannot_publish(page, url, stage, tmp_path):
    """A page on another origin posts a form to the console, as CSRF would: refused."""
    marker = str(uuid.uuid4())
    (tmp_path / "evil.html").write_text(
        f'<form id="f" method="post" action="{url}/stages/{STAGE}/publish">'
        f'<input name="event" value=\'{{"type": "thing-created", "thing": "{marker}"}}\'>'
        "</form><script>document.getElementById('f').submit()</script>"
    )
    handler = partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    with ThreadingHTTPServer(("127.0.0.1", 0), handler) as evil:
        threading.Thread(target=evil.serve_forever, daemon=True).start()
        with page.expect_navigation():
            page.goto(f"http://127.0.0.1:{evil.server_address[1]}/evil.html")
        page.wait_for_load_state()
        assert "refused: a POST must come from the console's own pages" in page.content()
        evil.shutdown()
    found = stage.cli("tail", "--stage", STAGE).stdout
    assert marker not in found


def test_local_status_names_the_console_that_answers_there(stage, url, tmp_path):
    shown = stage.cli("local", "status", cwd=tmp_path).stdout
    assert f"event console at {url}/" in shown.splitlines()
    with urllib.request.urlopen(f"{url}/", timeout=10) as answer:
        assert b'<meta name="csrf-token"' in answer.read()


def test_a_second_local_aws_gets_a_console_of_its_own(url, tmp_path):
    state = tmp_path / ".local-aws"
    other = local_aws.start(local_aws.free_port(), state_dir=state)
    try:
        console = wait_for(lambda: local_status.read(state, local_status.CONSOLE_FILE))
        second = console["url"].rstrip("/")
        assert second != url
        request = urllib.request.Request(f"{second}/", headers={"Accept": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert json.load(answer)["where"] == other.endpoint
    finally:
        local_aws.stop(state_dir=state)
