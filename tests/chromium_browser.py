"""Headless Chromium driven over the DevTools protocol on a pipe (--remote-debugging-pipe): every
console message and uncaught exception of a page is seen. Used by test_report.py (the report's
page) and test_devtools_frontend.py (Chrome DevTools' own heap snapshot parser)."""
import base64
import json
import os
import select
import shutil
import subprocess
import tempfile
import time

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

class Browser:
    """Headless Chromium with --remote-debugging-pipe: commands go to its fd 3, answers and
    events come from its fd 4, each a JSON message ended by a NUL byte."""

    def __init__(self, width=1280, height=1800):
        self.profile = tempfile.mkdtemp(prefix="heapsnap-chromium-")
        to_browser_r, self.to_browser = os.pipe()
        self.from_browser, from_browser_w = os.pipe()

        def child_fds():  # the browser expects the pipe on fds 3 (commands) and 4 (answers)
            os.dup2(to_browser_r, 3)
            os.dup2(from_browser_w, 4)

        self.proc = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             "--remote-debugging-pipe",
             "--no-first-run", "--no-default-browser-check", "--disable-extensions",
             "--user-data-dir=" + self.profile, "--hide-scrollbars", "about:blank"],
            # 3 and 4 too: the child closes what pass_fds does not name after child_fds ran.
            pass_fds=sorted({to_browser_r, from_browser_w, 3, 4}), preexec_fn=child_fds,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self.buffer = b""
        self.next_id = 0
        self.events = []
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget",
                                 {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self.call(domain + ".enable", session=True)
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
                  session=True)

    def close(self):
        try:
            self.call("Browser.close", timeout=10)
        except Exception:  # noqa: BLE001 - it may have gone already
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self.to_browser)
        os.close(self.from_browser)
        shutil.rmtree(self.profile, ignore_errors=True)

    def _read_message(self, deadline):
        while b"\0" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("chromium did not answer")
            ready, _, _ = select.select([self.from_browser], [], [], left)
            if ready:
                chunk = os.read(self.from_browser, 1 << 20)
                if not chunk:
                    raise EOFError("chromium closed its pipe")
                self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method, params=None, session=False, timeout=60):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = self.session
        os.write(self.to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            answer = self._read_message(deadline)
            if answer.get("id") == self.next_id:
                if "error" in answer:
                    raise RuntimeError("%s: %s" % (method, answer["error"]))
                return answer["result"]
            if "method" in answer:
                self.events.append(answer)

    def wait_for(self, method, timeout=60):
        deadline = time.monotonic() + timeout
        while True:
            for event in self.events:
                if event["method"] == method:
                    return event
            self.events.append(self._read_message(deadline))

    def open(self, path):
        """Loads the file and returns what the page said: console messages at warning level
        or above, uncaught exceptions, and log entries (failed loads, CSP violations)."""
        self.events = []
        self.call("Page.navigate", {"url": "file://" + os.path.abspath(path)}, session=True)
        self.wait_for("Page.loadEventFired")
        self.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
        problems = []
        for event in self.events:
            p = event.get("params", {})
            if event["method"] == "Runtime.exceptionThrown":
                details = p["exceptionDetails"]
                problems.append("exception: %s %s" % (
                    details.get("text"), details.get("exception", {}).get("description", "")))
            elif event["method"] == "Runtime.consoleAPICalled" and p["type"] in ("error", "warning",
                                                                                  "assert"):
                problems.append("console.%s: %s" % (p["type"], [a.get("value", a.get("description"))
                                                                for a in p["args"]]))
            elif event["method"] == "Log.entryAdded" and p["entry"]["level"] in ("error", "warning"):
                problems.append("log: %s" % p["entry"]["text"])
        return problems

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                "awaitPromise": True}, session=True)
        if "exceptionDetails" in result:
            raise RuntimeError("%s: %s" % (expression, result["exceptionDetails"]))
        return result["result"].get("value")

    def dom(self):
        return self.evaluate("document.documentElement.outerHTML")

    def screenshot(self, path):
        data = self.call("Page.captureScreenshot", {"format": "png"}, session=True)["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))
