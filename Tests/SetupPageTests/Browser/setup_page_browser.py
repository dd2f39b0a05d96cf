#!/usr/bin/env python3
"""Drives headless Chromium through the Chrome DevTools Protocol against a
served setup page: checks the page as a browser renders it, creates a
directory through the form (with and without JavaScript), deactivates and
deletes one, and saves screenshots at desktop and phone widths.

Usage: setup_page_browser.py --url URL --out DIR [--external-url URL]
(--external-url: the served replica's, which SCIM endpoints start with;
by default the page's own origin.)
Needs the PyPI package websocket-client. Exit status: 0 all checks passed,
1 a check failed (each failure is printed), 77 Chromium could not be started
here (the reason is printed on the last line as "SKIP: <reason>").
"""
import argparse
import base64
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

try:
    import websocket  # websocket-client
except ImportError:
    print("SKIP: the Python package websocket-client is missing (pip install websocket-client)")
    sys.exit(77)

SKIP = 77
DEADLINE = 30.0


class CDP:
    """One page's DevTools connection: numbered commands, events kept in a list."""

    def __init__(self, ws_url):
        self.ws = websocket.create_connection(ws_url, timeout=DEADLINE, suppress_origin=True)
        self.next_id = 0
        self.events = []

    def send(self, method, **params):
        self.next_id += 1
        my_id = self.next_id
        self.ws.send(json.dumps({"id": my_id, "method": method, "params": params}))
        end = time.time() + DEADLINE
        while time.time() < end:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == my_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)
        raise TimeoutError(f"{method}: no answer in {DEADLINE} s")

    def wait_event(self, method, since=0):
        """The first event `method` at or after index `since`, waiting for it."""
        end = time.time() + DEADLINE
        while True:
            for e in self.events[since:]:
                if e["method"] == method:
                    return e
            if time.time() > end:
                raise TimeoutError(f"no {method} in {DEADLINE} s")
            msg = json.loads(self.ws.recv())
            if "method" in msg:
                self.events.append(msg)

    def js(self, expression):
        r = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            raise RuntimeError(f"script failed: {r['exceptionDetails']}\n{expression}")
        return r["result"].get("value")

    def navigate_and_wait(self, action):
        """Runs `action` (which starts a navigation) and waits for the next load."""
        mark = len(self.events)
        action()
        self.wait_event("Page.loadEventFired", mark)


def start_chromium(profile):
    exe = os.environ.get("SETUPLINK_CHROMIUM") or next(
        (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)
    if not exe:
        return None, None, "no Chromium found (install Debian's chromium, or set SETUPLINK_CHROMIUM)"
    args = [exe, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--no-first-run", "--no-default-browser-check", "--disable-extensions",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--hide-scrollbars", "--mute-audio", "--remote-debugging-port=0",
            f"--user-data-dir={profile}", "about:blank"]
    try:
        # Its own process group, so its helpers (zygote, renderers) end with it: `stop_chromium`.
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                start_new_session=True)
    except OSError as e:
        return None, None, f"Chromium ({exe}) could not be run: {e}"
    end = time.time() + DEADLINE
    seen = []
    while time.time() < end:
        line = proc.stderr.readline()
        if not line:
            if proc.poll() is not None:
                return None, None, f"Chromium exited with status {proc.returncode}: {' | '.join(seen[-3:]).strip()}"
            continue
        seen.append(line.strip())
        m = re.search(r"DevTools listening on (ws://\S+)", line)
        if m:
            # Keep draining stderr so Chromium never blocks on a full pipe.
            import threading
            threading.Thread(target=lambda: [None for _ in proc.stderr], daemon=True).start()
            return proc, m.group(1), None
    stop_chromium(proc)
    return None, None, f"Chromium did not open its DevTools port within {DEADLINE} s"


def stop_chromium(proc):
    """Kills Chromium and every helper process it started, and waits for it."""
    try:
        os.killpg(proc.pid, 9)
    except ProcessLookupError:
        pass
    proc.wait()


def page_socket(browser_ws):
    port = urllib.parse.urlparse(browser_ws).port
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=DEADLINE) as r:
        targets = json.load(r)
    return next(t["webSocketDebuggerUrl"] for t in targets if t.get("type") == "page")


# Runs in the page: every visible text's contrast against the background it
# is drawn on (the first opaque background up the tree), WCAG 2 formula.
CONTRAST_JS = r"""
(() => {
  function rgba(s) { const m = s.match(/rgba?\(([^)]+)\)/); if (!m) return null;
    const p = m[1].split(',').map(x => parseFloat(x)); return {r:p[0], g:p[1], b:p[2], a: p.length > 3 ? p[3] : 1}; }
  function lum(c) { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); }
  function bg(el) { for (let e = el; e; e = e.parentElement) { const c = rgba(getComputedStyle(e).backgroundColor);
    if (c && c.a >= 0.99) return c; } return {r:255, g:255, b:255, a:1}; }
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const seen = new Set();
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!n.textContent.trim() || seen.has(el)) continue;
    seen.add(el);
    const cs = getComputedStyle(el);
    const r = el.getBoundingClientRect();
    if (cs.visibility === 'hidden' || cs.display === 'none' || r.width <= 1 || r.height <= 1) continue;
    const fg = rgba(cs.color), b = bg(el);
    const l1 = lum(fg), l2 = lum(b);
    const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
    out.push({text: n.textContent.trim().slice(0, 40), ratio: Math.round(ratio * 100) / 100});
  }
  for (const el of document.querySelectorAll('input:not([type=hidden]), select, textarea, button:not([hidden])')) {
    const cs = getComputedStyle(el); const fg = rgba(cs.color), b = bg(el);
    const l1 = lum(fg), l2 = lum(b);
    out.push({text: '<' + el.tagName.toLowerCase() + '> ' + (el.id || el.textContent.trim()).slice(0, 30),
              ratio: Math.round((Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05) * 100) / 100});
  }
  return out;
})()
"""

A11Y_JS = r"""
(() => {
  const problems = [];
  for (const el of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
    if (!el.labels || el.labels.length === 0) problems.push('no label: ' + el.outerHTML.slice(0, 80));
  }
  for (const el of document.querySelectorAll('[tabindex]')) {
    if (parseInt(el.getAttribute('tabindex'), 10) > 0) problems.push('positive tabindex: ' + el.outerHTML.slice(0, 80));
  }
  for (const el of document.querySelectorAll('button:not([hidden]), a[href]')) {
    const name = (el.getAttribute('aria-label') || el.textContent).trim();
    if (!name) problems.push('control without a name: ' + el.outerHTML.slice(0, 80));
  }
  if (document.documentElement.lang !== 'en') problems.push('no lang on <html>');
  if (document.querySelectorAll('h1').length !== 1) problems.push('not exactly one h1');
  return problems;
})()
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--external-url")
    ap.add_argument("--expired-url", help="the page of an expired link")
    ap.add_argument("--long-url", help="the page of a link with a very long tenant name")
    opts = ap.parse_args()
    os.makedirs(opts.out, exist_ok=True)
    failures = []

    def check(ok, what):
        print(("ok   " if ok else "FAIL ") + what, flush=True)
        if not ok:
            failures.append(what)

    profile = tempfile.mkdtemp(prefix="setuplink-chromium-")
    proc, browser_ws, why = start_chromium(profile)
    if proc is None:
        print(f"SKIP: {why}")
        sys.exit(SKIP)
    try:
        cdp = CDP(page_socket(browser_ws))
        for domain in ("Page", "Runtime", "Log"):
            cdp.send(f"{domain}.enable")
        origin = "{0.scheme}://{0.netloc}".format(urllib.parse.urlparse(opts.url))
        # Writing to the clipboard from the copy buttons needs the permission in headless Chromium.
        try:
            browser = websocket.create_connection(browser_ws, timeout=DEADLINE, suppress_origin=True)
            browser.send(json.dumps({"id": 1, "method": "Browser.grantPermissions", "params": {
                "origin": origin, "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]}}))
            browser.recv()
            browser.close()
        except Exception as e:  # the copy check then reads the fallback's status line instead
            print(f"note: clipboard permission not granted: {e}")

        def desktop():
            cdp.send("Emulation.setDeviceMetricsOverride", width=1280, height=900, deviceScaleFactor=1, mobile=False)

        def phone():
            cdp.send("Emulation.setDeviceMetricsOverride", width=390, height=844, deviceScaleFactor=2, mobile=True)

        def screenshot(name):
            data = cdp.send("Page.captureScreenshot", format="png", captureBeyondViewport=True)["data"]
            path = os.path.join(opts.out, name)
            with open(path, "wb") as f:
                f.write(base64.b64decode(data))
            print(f"screenshot {path}")

        def click(selector):
            """A real mouse click in the middle of the element."""
            box = cdp.js(f"""(() => {{ const e = document.querySelector({json.dumps(selector)});
                e.scrollIntoView({{block: 'center'}}); const r = e.getBoundingClientRect();
                return [r.left + r.width / 2, r.top + r.height / 2]; }})()""")
            for kind in ("mousePressed", "mouseReleased"):
                cdp.send("Input.dispatchMouseEvent", type=kind, x=box[0], y=box[1], button="left", clickCount=1)

        def tab():
            for kind in ("keyDown", "keyUp"):
                cdp.send("Input.dispatchKeyEvent", type=kind, key="Tab", code="Tab", windowsVirtualKeyCode=9)

        # 1. The page as loaded.
        desktop()
        cdp.navigate_and_wait(lambda: cdp.send("Page.navigate", url=opts.url))
        check(cdp.js("document.title").startswith("Directory Sync setup"), "the setup page loads")
        check(cdp.js("getComputedStyle(document.body).backgroundColor") == "rgb(244, 245, 247)",
              "the inline style sheet is applied (allowed by its CSP hash)")
        check(cdp.js("document.querySelector('#new-type').value") == "azure-scim-v2", "Entra ID is preselected")
        check(cdp.js("[...document.querySelectorAll('#new-type option')].map(o => o.textContent).join('|')")
              == "Entra ID SCIM v2.0|Okta SCIM v2.0|OneLogin SCIM v2.0|JumpCloud v2.0|Generic SCIM v2.0|Google",
              "the provider select lists the six types with their labels (this hub has a Google OAuth client)")
        problems = cdp.js(A11Y_JS)
        check(problems == [], f"labels, names and tab order: {problems or 'fine'}")

        # 2. Create a directory through the form, as a person would: type, choose, click.
        cdp.js("document.querySelector('#new-name').focus()")
        cdp.send("Input.insertText", text="Browser Okta <b>&</b>")
        cdp.js("(() => { const s = document.querySelector('#new-type'); s.value = 'okta-scim-v2'; "
               "s.dispatchEvent(new Event('change', {bubbles: true})); })()")
        cdp.navigate_and_wait(lambda: click("form.form button[type=submit]"))
        url = cdp.js("location.href")
        check("done=created" in url, f"the form redirected to the page after the POST ({url})")
        card = cdp.js("""(() => { const h = [...document.querySelectorAll('article.dir h3')]
            .find(h => h.textContent === 'Browser Okta <b>&</b>'); if (!h) return null;
            const a = h.closest('article');
            return {id: a.id, provider: a.querySelector('dd').textContent,
                    endpoint: (a.querySelector('textarea[id$=-endpoint]') || {}).value,
                    token: (a.querySelector('textarea[id$=-token]') || {}).value,
                    isNew: a.classList.contains('is-new'), bold: a.querySelectorAll('b').length,
                    guide: (a.querySelector('details.guide') || {}).textContent || '',
                    docs: (a.querySelector('details.guide a') || {}).href || ''}; })()""")
        check(card is not None, "the new directory is in the DOM, its name shown as text")
        if card:
            dir_id = card["id"][len("dir-"):]
            base = (opts.external_url or opts.url.split("/setup/")[0]).rstrip("/")
            check(card["endpoint"] == f"{base}/api/scim/v2.0/{dir_id}", f"its SCIM endpoint is shown: {card['endpoint']}")
            check(card["token"] is not None and re.fullmatch(r"[A-Za-z0-9_-]{22}", card["token"] or "") is not None,
                  "its SCIM token is shown (22 base64url characters)")
            check(card["provider"] == "Okta SCIM v2.0" and card["isNew"] and card["bold"] == 0,
                  "provider label, highlight, and no markup injected")
            check(all(w in card["guide"] for w in ("SCIM connector base URL", "HTTP Header", "userName")),
                  f"Okta's steps with Okta's field names: {card['guide'][:160]!r}")
            check(card["docs"].startswith("https://help.okta.com/"), f"a link to Okta's documentation: {card['docs']!r}")
        check("Directory “Browser Okta <b>&</b>” created." in cdp.js("document.querySelector('.notice').textContent"),
              "a status message says it was created")
        screenshot("desktop-created.png")

        # 3. The copy buttons: shown by the script, and they copy.
        check(cdp.js("document.querySelectorAll('button[data-copy]:not([hidden])').length") >= 2,
              "copy buttons are shown (the inline script ran under the CSP)")
        if card:
            # Headless Chromium cannot read its clipboard back (permission denied even when
            # granted), so record what the page hands to the clipboard API, then let it through.
            cdp.js("""(() => { const c = navigator.clipboard; if (!c) return;
                const write = c.writeText.bind(c); c.writeText = t => { window.__copied = t; return write(t); }; })()""")
            click(f"#{card['id']} button[data-copy$=-endpoint]")
            deadline = time.time() + 5
            status = ""
            while time.time() < deadline and "copied" not in status:
                status = cdp.js("document.querySelector('#copy-status').textContent")
            check(status == "SCIM endpoint copied to the clipboard", f"the copy button reports: {status!r}")
            check(cdp.js("window.__copied") == card["endpoint"], "the endpoint's copy button copies the endpoint")
            click(f"#{card['id']} button[data-copy$=-token]")
            deadline = time.time() + 5
            while time.time() < deadline and cdp.js("window.__copied") != card["token"]:
                time.sleep(0.02)
            check(cdp.js("window.__copied") == card["token"], "the token's copy button copies the token")

        # 4. Keyboard: Tab goes through the page in order, with a visible focus ring.
        cdp.navigate_and_wait(lambda: cdp.send("Page.navigate", url=opts.url))
        order = []
        for _ in range(60):
            tab()
            f = cdp.js("""(() => { const e = document.activeElement; if (!e || e === document.body) return null;
                const cs = getComputedStyle(e);
                return {key: e.id || e.getAttribute('name') || e.textContent.trim().slice(0, 20),
                        tag: e.tagName, outline: cs.outlineStyle, width: cs.outlineWidth}; })()""")
            if f is None:
                break
            order.append(f)
            if f["key"] == "Create directory":
                break
        keys = [f["key"] for f in order]
        check(keys[:1] == ["Skip to main content"], f"the first Tab reaches the skip link ({keys[:1]})")
        check(keys[-3:] == ["new-name", "new-type", "Create directory"], f"the form's fields come in order ({keys[-3:]})")
        check(all(f["outline"] != "none" and f["width"] != "0px" for f in order), "every focused control shows a focus ring")
        dom_order = cdp.js("""[...document.querySelectorAll('a[href], button:not([hidden]), input:not([type=hidden]), select, textarea, summary')]
            .map(e => e.id || e.getAttribute('name') || e.textContent.trim().slice(0, 20))""")
        check(keys == dom_order[:len(keys)], "Tab follows the document order")

        # 5. Contrast of every text on its background.
        low = [c for c in cdp.js(CONTRAST_JS) if c["ratio"] < 4.5]
        check(low == [], f"every text has contrast of at least 4.5:1 ({low[:5] or 'fine'})")

        # 6. Screenshots: desktop and phone widths.
        cdp.js("document.activeElement && document.activeElement.blur()")
        screenshot("desktop.png")
        phone()
        cdp.navigate_and_wait(lambda: cdp.send("Page.reload"))
        check(cdp.js("document.documentElement.scrollWidth <= window.innerWidth"), "nothing overflows sideways on a phone")
        low = [c for c in cdp.js(CONTRAST_JS) if c["ratio"] < 4.5]
        check(low == [], f"contrast holds on a phone ({low[:5] or 'fine'})")
        screenshot("phone.png")
        desktop()

        # 7. Without JavaScript: the form still creates a directory; no dead copy buttons.
        cdp.send("Emulation.setScriptExecutionDisabled", value=True)
        cdp.navigate_and_wait(lambda: cdp.send("Page.navigate", url=opts.url))
        cdp.send("Emulation.setScriptExecutionDisabled", value=False)  # for the checks below; the page's own script did not run
        check(cdp.js("document.querySelectorAll('button[data-copy]:not([hidden])').length") == 0,
              "without JavaScript the copy buttons stay hidden")
        cdp.js("document.querySelector('#new-name').focus()")
        cdp.send("Input.insertText", text="No-script JumpCloud")
        cdp.js("document.querySelector('#new-type').value = 'jumpcloud-scim-v2'")
        cdp.send("Emulation.setScriptExecutionDisabled", value=True)
        cdp.navigate_and_wait(lambda: click("form.form button[type=submit]"))
        cdp.send("Emulation.setScriptExecutionDisabled", value=False)
        jc = cdp.js("""(() => { const h = [...document.querySelectorAll('article.dir h3')].find(h => h.textContent === 'No-script JumpCloud');
            return h ? h.closest('article').querySelector('.info').textContent.trim() : null; })()""")
        check(jc is not None and "Token Key" in jc and "Base URL" in jc,
              f"without JavaScript a JumpCloud directory is created, with JumpCloud's steps: {jc!r}")

        # 8. Deactivate, then delete with its confirmation page.
        if card:
            sel = f"#{card['id']}"
            cdp.navigate_and_wait(lambda: click(f"{sel} form button"))
            check(cdp.js(f"document.querySelector('{sel} .badge').textContent") == "Inactive", "Deactivate makes it inactive")
            cdp.navigate_and_wait(lambda: click(f"{sel} a.danger"))
            check(cdp.js("document.querySelector('h1').textContent") == "Delete Browser Okta <b>&</b>?", "Delete asks first")
            screenshot("confirm-delete.png")
            cdp.navigate_and_wait(lambda: click("button.danger"))
            check(cdp.js(f"document.querySelector('{sel}') === null") and
                  cdp.js("document.querySelector('.notice').textContent") == "Directory “Browser Okta <b>&</b>” deleted.",
                  "confirming deletes it, and the notice names it")

        # 9. A token that opens nothing: the 404 page and its sentences.
        cdp.navigate_and_wait(lambda: cdp.send("Page.navigate", url=opts.url.split("/setup/")[0] + "/setup/" + "0" * 48))
        check(cdp.js("document.querySelector('h1').textContent") == "Setup link is not found" and
              cdp.js("document.querySelector('main p').textContent") == "Please contact your administrator to get a new setup link.",
              "an unknown token shows the not-found page")
        check("keep working" in cdp.js("document.querySelector('main').textContent"),
              "the not-found page says the directories keep working")
        screenshot("not-found.png")

        # 9b. An expired link: Jackson's sentences, then what still works.
        if opts.expired_url:
            cdp.navigate_and_wait(lambda: cdp.send("Page.navigate", url=opts.expired_url))
            main_text = cdp.js("document.querySelector('main').textContent")
            check(cdp.js("document.querySelector('h1').textContent") == "Setup link is expired" and
                  cdp.js("document.querySelector('main p').textContent") == "Please contact your administrator to get a new setup link.",
                  "an expired link shows Jackson's sentences first")
            check("keep working" in main_text and "new one" in main_text,
                  f"the expired page says what still works and whom to ask: {main_text.strip()[:200]!r}")
            screenshot("expired.png")

        # 9c. A very long tenant name on a phone: it wraps, nothing scrolls sideways.
        if opts.long_url:
            phone()
            cdp.navigate_and_wait(lambda: cdp.send("Page.navigate", url=opts.long_url))
            width = cdp.js("[document.documentElement.scrollWidth, window.innerWidth]")
            check(width[0] <= width[1], f"a long tenant name wraps on a phone (scroll width {width[0]}, window {width[1]})")
            screenshot("long-name-phone.png")
            desktop()
            cdp.navigate_and_wait(lambda: cdp.send("Page.reload"))
            width = cdp.js("[document.documentElement.scrollWidth, window.innerWidth]")
            check(width[0] <= width[1], f"a long tenant name wraps on a desktop (scroll width {width[0]}, window {width[1]})")

        # 10. Nothing was refused by the Content-Security-Policy, nothing failed to load.
        bad = [e["params"]["entry"]["text"] for e in cdp.events if e["method"] == "Log.entryAdded"
               and e["params"]["entry"]["level"] == "error" and "favicon" not in e["params"]["entry"].get("url", "")
               and "0" * 48 not in e["params"]["entry"].get("url", "")  # the 404 we asked for
               and not (opts.expired_url and e["params"]["entry"].get("url", "") == opts.expired_url)]  # and the 401
        check(bad == [], f"no console errors (CSP violations, failed loads): {bad[:3] or 'none'}")
    finally:
        stop_chromium(proc)
        shutil.rmtree(profile, ignore_errors=True)

    print(f"{len(failures)} failed" if failures else "all browser checks passed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
