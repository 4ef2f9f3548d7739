#!/usr/bin/env python3
"""Browser test of the emulator's dashboard (`GET /__emulator/`), run by scripts/dashboard-test.sh.

Sends real traffic to a running `emulator start-api` (uploads, searches, routes, an async
invocation that is dead-lettered), then opens the dashboard in headless Chromium and checks
that every panel shows it, that its buttons work (trigger a schedule, advance the clock,
replay a dead letter, load an org) and a few accessibility basics. Every check waits (up to
60 s) for the page's one-second poll; no fixed sleep decides anything.

Exits 0 when every check passed, 1 otherwise; saves a full-page screenshot either way.
`--skip-traffic` points the browser part at a mock or an emulator with data already there.
"""
import argparse
import base64
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import (JavascriptException, NoSuchElementException,
                                        StaleElementReferenceException, TimeoutException)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WAIT = 60  # seconds any condition on the page may take
TITLES = ("Leave policy A", "Expenses B")
DOCS = {
    TITLES[0]: ("a.md", "# Leave policy\n\nEmployees get 20 days of paid annual leave per year. "
                        "Sick leave needs a doctor note after three days.\n"),
    TITLES[1]: ("b.md", "# Expenses\n\nSubmit travel expenses within 30 days with receipts. "
                        "Meals are reimbursed up to 40 EUR per day.\n"),
}
# HTML with no text at all: the upload accepts it, the ingestion job fails it.
EMPTY_TITLE, EMPTY_HTML = "Empty page", "<!doctype html><html><body><script>var x = 1;</script></body></html>"
STATE_WORDS = ("ok", "firing", "no data")


class Failure(Exception):
    pass


passed = []


def ok(what):
    passed.append(what)
    print(f"  ok: {what}", flush=True)


# ---- HTTP ---------------------------------------------------------------------------------

def http(method, url, body=None, headers=None, timeout=60):
    """(status, parsed JSON or text); never raises on an HTTP error status."""
    data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None and not req.has_header("Content-type"):
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            status, raw = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw.decode(errors="replace")


def poll_until(desc, fn, timeout):
    """Calls fn until it returns something truthy; raises Failure naming desc and the last value."""
    deadline, last = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        last = fn()
        if last and last[0]:
            return last[1]
        time.sleep(0.5)
    raise Failure(f"{desc}: not within {timeout} s (last: {str(last)[:400]})")


def send_traffic(args):
    """Step 1 and 2: documents, searches, routes, health, and an async dead letter."""
    org = f"dash-{secrets.token_hex(4)}"
    # From the repository root: the emulator reads infra/template.yaml for the token's issuer.
    minted = subprocess.run([os.path.abspath(args.emulator), "token", "--org", org, "--sub", "dashboard"],
                            capture_output=True, text=True, cwd=REPO)
    token = minted.stdout.strip()
    if minted.returncode != 0 or not token:
        raise Failure(f"emulator token: exit {minted.returncode}: {minted.stderr.strip()[:400]}")
    auth = {"Authorization": f"Bearer {token}"}
    print(f"traffic: org {org}", flush=True)

    ids = {}
    for title, (filename, text) in DOCS.items():
        q = urllib.parse.urlencode({"filename": filename, "title": title})
        status, body = http("POST", f"{args.url}/v1/documents?{q}", text.encode(),
                            dict(auth, **{"Content-Type": "text/markdown"}))
        if status not in (200, 202):
            raise Failure(f"upload {filename}: {status} {body}")
        ids[title] = body["document_id"]
    q = urllib.parse.urlencode({"filename": "empty.html", "title": EMPTY_TITLE})
    status, body = http("POST", f"{args.url}/v1/documents?{q}", EMPTY_HTML.encode(),
                        dict(auth, **{"Content-Type": "text/html"}))
    empty_id = body["document_id"] if status in (200, 202) else None
    if empty_id is None:
        print(f"traffic: the text-less upload was refused ({status}); no failed document to show", flush=True)

    def doc_status(doc_id):
        s, b = http("GET", f"{args.url}/v1/documents/{doc_id}", headers=auth)
        return b.get("status") if s == 200 and isinstance(b, dict) else f"HTTP {s}"
    for title, doc_id in ids.items():
        # The worker is invoked asynchronously; its first call loads the embedding model.
        poll_until(f"document {title!r} ready", lambda: ((st := doc_status(doc_id)) == "ready", st), 120)
    ok("two documents uploaded and ready")
    empty_failed = False
    if empty_id:
        try:
            poll_until("the text-less document failed", lambda: ((st := doc_status(empty_id)) == "failed", st), 60)
            empty_failed = True
            ok("a text-less document failed ingestion")
        except Failure as e:
            print(f"traffic: {e} (not checked further)", flush=True)

    for _ in range(3):
        status, body = http("POST", f"{args.url}/v1/search", {"query": "leave policy"}, auth)
        if status != 200:
            raise Failure(f"POST /v1/search: {status} {body}")
        http("POST", f"{args.url}/v1/route", {"text": "I want to reset my password"}, auth)
    for _ in range(2):
        http("GET", f"{args.url}/healthz")
    ok("searches, routes and health checks sent")

    # An async invocation that always fails: three attempts, then a dead letter.
    status, body = http("POST", f"{args.lambda_url}/2015-03-31/functions/ReembedFunction/invocations",
                        {"task": "no-such-task"}, {"X-Amz-Invocation-Type": "Event"})
    if status != 202:
        raise Failure(f"async invoke through the Lambda Invoke API: {status} {body}")
    ok("async invocation accepted (202)")
    return org, empty_failed


# ---- Browser -------------------------------------------------------------------------------

ROWS_JS = """
const [selector, keyAttr] = arguments;
return [...document.querySelectorAll(selector)].map(tr => {
  const cols = {};
  for (const c of tr.querySelectorAll('[data-col]')) cols[c.getAttribute('data-col')] = c.textContent.trim();
  return {key: tr.getAttribute(keyAttr), hidden: tr.hidden, text: tr.textContent, cols};
});"""

# Finds an element by an attribute's exact value (ids and rule names need no selector escaping).
FIND_JS = """
const [selector, attr, value, inner] = arguments;
const row = [...document.querySelectorAll(selector)].find(e => e.getAttribute(attr) === value);
return row ? (inner ? row.querySelector(inner) : row) : null;"""

A11Y_JS = """
const problems = [];
if (!document.documentElement.lang) problems.push('<html> has no lang');
for (const i of document.querySelectorAll('input, select, textarea')) {
  if (i.type === 'hidden') continue;
  const labelled = (i.labels && i.labels.length && [...i.labels].some(l => l.textContent.trim()))
    || (i.getAttribute('aria-label') || '').trim()
    || (i.getAttribute('aria-labelledby') || '').split(/\\s+/).some(id => id && document.getElementById(id)?.textContent.trim());
  if (!labelled) problems.push('unlabelled ' + i.outerHTML.slice(0, 80));
}
for (const b of document.querySelectorAll('button')) {
  const name = (b.getAttribute('aria-label') || '').trim() || b.textContent.trim()
    || (b.getAttribute('aria-labelledby') || '').split(/\\s+/).map(id => document.getElementById(id)?.textContent || '').join('').trim();
  if (!name) problems.push('button without a name ' + b.outerHTML.slice(0, 80));
}
for (const th of document.querySelectorAll('th')) if (!th.getAttribute('scope')) problems.push('th without scope: ' + th.textContent.trim());
const live = document.getElementById('status');
if (!live || live.getAttribute('aria-live') !== 'polite') problems.push('#status is not aria-live=polite');
return problems;"""


class Page:
    def __init__(self, driver):
        self.d = driver

    def wait(self, desc, fn, timeout=WAIT):
        last = [None]

        def probe(_):
            try:
                value = fn()
            except (StaleElementReferenceException, NoSuchElementException, JavascriptException) as e:
                value = None
                last[0] = repr(e)
                return False
            last[0] = value
            return value
        try:
            return WebDriverWait(self.d, timeout, poll_frequency=0.25).until(probe)
        except TimeoutException:
            raise Failure(f"{desc}: not within {timeout} s (last seen: {str(last[0])[:600]})") from None

    def rows(self, selector, key_attr):
        return self.d.execute_script(ROWS_JS, selector, key_attr)

    def row(self, selector, key_attr, key):
        return next((r for r in self.rows(selector, key_attr) if r["key"] == key), None)

    def text(self, selector):
        return self.d.find_element(By.CSS_SELECTOR, selector).text

    def act(self, desc, selector, attr, value, inner, how="click"):
        """Clicks (or presses Enter on) an element found afresh: the page re-renders every second."""
        def attempt():
            e = self.d.execute_script(FIND_JS, selector, attr, value, inner)
            if e is None:
                return None
            if how == "enter":
                e.send_keys(Keys.ENTER)
            else:
                e.click()
            return True
        self.wait(desc, attempt)


def make_driver():
    chromium, chromedriver = shutil.which("chromium"), shutil.which("chromedriver")
    if not chromium or not chromedriver:
        raise Failure("chromium and chromedriver must be on PATH (apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1800"):
        options.add_argument(a)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(chromedriver), options=options)


def screenshot(driver, path):
    """The whole page, not just the window."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    try:
        m = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
        shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": m["width"], "height": m["height"], "scale": 1}})
        with open(path, "wb") as f:
            f.write(base64.b64decode(shot["data"]))
    except Exception:  # an older driver without CDP: the window is still something
        driver.save_screenshot(path)
    print(f"screenshot: {path}", flush=True)


def check_page(args, driver, org, empty_failed):
    p = Page(driver)
    status, state = http("GET", f"{args.url}/__emulator/state")
    if status != 200 or not isinstance(state, dict):
        raise Failure(f"GET /__emulator/state: {status} {str(state)[:300]}")
    driver.get(f"{args.url}/__emulator/")
    p.wait("the page polls (#live says live)", lambda: driver.find_element(By.ID, "live").get_attribute("data-state") == "live")
    ok("page loaded, polling live")

    # Functions and routes.
    def search_fn():
        r = p.row("#functions tr[data-function]", "data-function", "SearchFunction")
        return r and r["cols"].get("invocations", "").isdigit() and int(r["cols"]["invocations"]) >= 1 and r
    p.wait("#functions shows SearchFunction with invocations >= 1", search_fn)
    p.wait("#functions shows UploadFunction", lambda: p.row("#functions tr[data-function]", "data-function", "UploadFunction"))
    ok("#functions lists SearchFunction (invoked) and UploadFunction")

    def search_route():
        r = p.row("#routes tr[data-route]", "data-route", "POST /v1/search")
        try:
            return r and float(r["cols"]["p95"]) >= 0 and r
        except (KeyError, ValueError):
            return False
    p.wait("#routes shows POST /v1/search with a numeric p95", search_route)
    ok("#routes has POST /v1/search with a p95")

    # Recent invocations: open one search with the keyboard, read its logs.
    def a_search():
        return next((r for r in p.rows("#recent tr[data-request-id]", "data-request-id")
                     if r["cols"].get("route") == "POST /v1/search"), None)
    rid = p.wait("#recent lists a POST /v1/search invocation", a_search)["key"]
    p.act("open the invocation's logs (Enter)", "#recent tr[data-request-id]", "data-request-id", rid, "button", how="enter")
    p.wait("the invocation's logs show REPORT RequestId", lambda: (lambda r: r and not r["hidden"] and "REPORT RequestId" in r["text"])(
        p.row("#recent tr[data-logs-for]", "data-logs-for", rid)))
    ok("#recent row opens with Enter and shows REPORT RequestId")

    # Schedules: every rule listed with a next time; trigger one, its fired count grows.
    rules = state.get("schedules") or []
    if not rules:
        raise Failure("GET /__emulator/state lists no schedules: was the emulator started with --no-schedules?")
    for rule in rules:
        need_next = rule.get("enabled", True)
        p.wait(f"#schedules lists {rule['name']}" + (" with a next time" if need_next else ""),
               lambda: (lambda r: r and (not need_next or r["cols"].get("next", "—") not in ("", "—")))(
                   p.row("#schedules tr[data-schedule]", "data-schedule", rule["name"])))
    ok(f"#schedules lists {len(rules)} rule(s) with next fire times")
    # A rule not running (a run still going answers 409), a cron one if any: it does not fire by itself.
    idle = [r for r in rules if not r.get("running")] or rules
    rule = next((r for r in idle if r.get("expression", "").startswith("cron")), idle[0])["name"]
    fired = int(p.row("#schedules tr[data-schedule]", "data-schedule", rule)["cols"]["fired"])
    p.act(f"click Trigger for {rule}", "#schedules tr[data-schedule]", "data-schedule", rule, "button")
    p.wait("#status reports the trigger's 202", lambda: (lambda t: "202" in t and rule in t and t)(p.text("#status")))
    p.wait(f"{rule}'s fired count grows past {fired}",
           lambda: int(p.row("#schedules tr[data-schedule]", "data-schedule", rule)["cols"]["fired"]) > fired)
    ok(f"Trigger {rule}: 202 in #status, fired count grew")
    p.act("click Advance 60 s", "#clock-advance", "id", "clock-advance", None)
    p.wait("#status reports the clock advanced", lambda: "Clock advanced" in p.text("#status"))
    ok("#clock advanced 60 s")

    # Async: the dead letter with its error; Replay takes it out of the list.
    def dead_letter():
        _, s = http("GET", f"{args.url}/__emulator/state")
        dl = [d for d in ((s or {}).get("async") or {}).get("dead_letters") or [] if d.get("function") == "ReembedFunction"]
        return (bool(dl), dl[0] if dl else s and s.get("async"))
    dl = poll_until("a ReembedFunction dead letter in /__emulator/state", dead_letter, WAIT)
    error = ((dl.get("errors") or [{}])[-1].get("error") or "").strip()
    p.wait("#async shows the dead letter with its error",
           lambda: (lambda r: r and error[:40] in r["text"])(p.row("#async #dead-letters tr[data-id]", "data-id", dl["id"])))
    ok(f"#async shows dead letter {dl['id'][:8]} with its error")
    p.act("click Replay", "#dead-letters tr[data-id]", "data-id", dl["id"], "button")
    p.wait("#status reports the replay", lambda: (lambda t: "Replayed" in t and "202" in t)(p.text("#status")))
    p.wait("the replayed dead letter leaves the list", lambda: p.row("#dead-letters tr[data-id]", "data-id", dl["id"]) is None)
    ok("Replay: 202 in #status, the entry left the dead letters")

    # Alerts: rows, each with a state word.
    def alerts():
        rows = p.rows("#alerts tr[data-alert]", "data-alert")
        return rows and all(any(w in r["cols"].get("state", "") for w in STATE_WORDS) for r in rows) and rows
    n = len(p.wait("#alerts shows alert rows with a state word", alerts))
    ok(f"#alerts shows {n} alert(s) with a state word")

    # Organisation: load it, read documents and jobs; the hash keeps it across a reload.
    box = driver.find_element(By.ID, "org-input")
    box.clear()
    box.send_keys(org)
    driver.find_element(By.ID, "org-load").click()

    def docs_ready():
        rows = p.rows("#documents tr[data-id]", "data-id")
        found = {r["cols"].get("title"): r["cols"].get("status") for r in rows}
        return all(found.get(t) == "ready" for t in TITLES) and found
    def ingests_done():
        rows = [r for r in p.rows("#jobs tr[data-id]", "data-id")
                if r["cols"].get("type") == "ingest" and r["cols"].get("status") == "succeeded"]
        return len(rows) >= 2 and rows
    p.wait("#documents lists both titles as ready", docs_ready)
    p.wait("#jobs lists >= 2 succeeded ingest jobs", ingests_done)
    if empty_failed:
        p.wait("#documents shows the failed document", lambda: any(
            r["cols"].get("title") == EMPTY_TITLE and r["cols"].get("status") == "failed"
            for r in p.rows("#documents tr[data-id]", "data-id")))
        p.wait("the counts show a failed document", lambda: p.text('#document-counts [data-count="failed"]') == "failed 1")
    ok(f"#org {org}: documents ready, ingest jobs succeeded" + (", the failed one shown" if empty_failed else ""))
    expected_hash = "#org=" + urllib.parse.quote(org, safe="")
    p.wait("the URL hash names the org", lambda: driver.execute_script("return location.hash") == expected_hash)
    driver.refresh()
    p.wait("after a reload the org is loaded again", lambda: driver.find_element(By.ID, "org-input").get_attribute("value") == org
           and docs_ready())
    ok("the org survives a reload (#org= in the URL)")

    # Accessibility basics and no markup from the server rendered as markup.
    problems = driver.execute_script(A11Y_JS)
    if problems:
        raise Failure("accessibility: " + "; ".join(problems))
    ok("inputs labelled, buttons named, th scoped, lang set, #status polite")
    if driver.execute_script("return document.querySelectorAll('img').length || window.__xss || 0"):
        raise Failure("server text was rendered as markup (an <img> appeared)")
    errors = [e["message"] for e in driver.get_log("browser")
              if e.get("level") == "SEVERE" and "Failed to load resource" not in e.get("message", "")]
    if errors:
        raise Failure("JavaScript errors in the console: " + " | ".join(errors)[:800])
    ok("no JavaScript errors in the console")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", required=True, help="the emulator's HTTP API, e.g. http://127.0.0.1:3000")
    ap.add_argument("--lambda-url", help="the emulator's Lambda Invoke API")
    ap.add_argument("--emulator", help="the emulator binary (mints the token)")
    ap.add_argument("--screenshot", default=".build/dashboard.png")
    ap.add_argument("--skip-traffic", action="store_true", help="send nothing; check the page against what is there")
    ap.add_argument("--org", default="acme", help="with --skip-traffic: the org whose documents to load")
    args = ap.parse_args()
    args.url = args.url.rstrip("/")
    if not args.skip_traffic and not (args.lambda_url and args.emulator):
        ap.error("--lambda-url and --emulator are needed unless --skip-traffic")
    root, ext = os.path.splitext(args.screenshot)
    failure_shot = f"{root}-failure{ext or '.png'}"

    driver = None
    try:
        org, empty_failed = (args.org, False) if args.skip_traffic else send_traffic(args)
        driver = make_driver()
        check_page(args, driver, org, empty_failed)
        screenshot(driver, args.screenshot)
    except Exception as e:  # every failure, assertion or not, ends the same way
        print(f"dashboard test FAILED: {e if isinstance(e, Failure) else repr(e)}", file=sys.stderr, flush=True)
        if driver is not None:
            try:
                screenshot(driver, failure_shot)
            except Exception as shot_error:
                print(f"(no failure screenshot: {shot_error!r})", file=sys.stderr)
        print(f"dashboard: {len(passed)} passed, 1 failed", flush=True)
        return 1
    finally:
        if driver is not None:
            driver.quit()
    print(f"dashboard: {len(passed)} passed, 0 failed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
