"""A browser tab without a browser: Streamlit's websocket protocol (1.67), enough to open a page,
read what it shows and change a widget, as the frontend does.

Used where a real browser would only add cost: checking what a server serves (the install
test) and simulating many users at once (bench/load.py). The protocol is Streamlit's own
(`BackMsg` in, `ForwardMsg` out, protobuf over `/_stcore/stream`); the browser tests drive
Chromium instead.

    with StreamlitTab(url, cookies={"procurement_session": token}) as tab:
        run = tab.open("workspace", query="case=5")
        radio = run.widget("answer_HR-1")
        run = tab.set(radio, string_value="...")      # what clicking an option sends
        run.seconds, run.texts()
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Self

import requests
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.sync.client import connect

#: The Element fields that carry text worth reading.
_TEXT_FIELDS = {"heading": "body", "markdown": "body", "text": "body", "alert": "body",
                "code": "code_text"}


@dataclass
class Run:
    """What one script run sent: its elements by delta path, and how long it took."""

    elements: dict[tuple[int, ...], Any] = field(default_factory=dict)
    new_session: Any = None
    page_not_found: bool = False
    auth_redirect: str | None = None
    seconds: float = 0.0

    def texts(self) -> list[str]:
        out = []
        for element in self.elements.values():
            kind = element.WhichOneof("type")
            if kind in _TEXT_FIELDS:
                out.append(getattr(getattr(element, kind), _TEXT_FIELDS[kind]))
        return out

    def headings(self) -> list[str]:
        return [e.heading.body for e in self.elements.values() if e.WhichOneof("type") == "heading"]

    def widgets(self) -> list[Any]:
        """Every widget element's proto (the ones with an `id`)."""
        out = []
        for element in self.elements.values():
            kind = element.WhichOneof("type")
            proto = getattr(element, kind) if kind else None
            if proto is not None and getattr(proto, "id", ""):
                out.append(proto)
        return out

    def widget(self, key: str) -> Any:
        """The widget whose user key is `key` (Streamlit ends such ids with `-<key>`)."""
        found = [w for w in self.widgets() if w.id.endswith(f"-{key}")]
        if not found:
            raise KeyError(f"no widget with key {key!r}")
        return found[0]


class StreamlitTab:
    """One websocket session with a Streamlit server, as a browser tab has."""

    def __init__(self, base_url: str, cookies: dict[str, str] | None = None,
                 timeout: float = 60.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.cookies = dict(cookies or {})
        self.timeout = timeout
        self.ws: Any = None
        self.page_script_hash = ""
        self.query = ""

    def __enter__(self) -> Self:
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def connect(self) -> None:
        http = requests.Session()
        http.get(f"{self.base_url}/_stcore/health", timeout=10)
        xsrf = http.cookies.get("_streamlit_xsrf")
        jar = {**self.cookies, "_streamlit_xsrf": xsrf} if xsrf else dict(self.cookies)
        cookie = "; ".join(f"{k}={v}" for k, v in jar.items())
        protocols = ["streamlit", xsrf] if xsrf else ["streamlit"]
        self._connection = connect(self.base_url.replace("http", "ws", 1) + "/_stcore/stream",
                                   subprotocols=protocols, additional_headers={"Cookie": cookie},
                                   max_size=None, open_timeout=self.timeout)
        self.ws = self._connection.__enter__()

    def close(self) -> None:
        if self.ws is not None:
            self._connection.__exit__(None, None, None)
            self.ws = None

    def open(self, page: str = "", query: str = "") -> Run:
        """A first load of `/<page>?<query>`."""
        self.query = query
        return self._rerun(page_name=page)

    def set(self, widget: Any, **value: Any) -> Run:
        """Change one widget (e.g. `string_value="..."`, `trigger_value=True`) and rerun."""
        message = BackMsg()
        state = message.rerun_script.widget_states.widgets.add()
        state.id = widget.id
        for name, v in value.items():
            setattr(state, name, v)
        return self._rerun(message=message)

    def _rerun(self, page_name: str = "", message: BackMsg | None = None) -> Run:
        message = message or BackMsg()
        message.rerun_script.query_string = self.query
        message.rerun_script.page_script_hash = self.page_script_hash
        if page_name:
            message.rerun_script.page_name = page_name
        started = time.perf_counter()
        self.ws.send(message.SerializeToString())
        run = Run()
        deadline = time.monotonic() + self.timeout
        while True:
            forward = ForwardMsg()
            forward.ParseFromString(self.ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            kind = forward.WhichOneof("type")
            if kind == "new_session":
                run.new_session = forward.new_session
                self.page_script_hash = forward.new_session.page_script_hash
                run.elements.clear()
            elif kind == "page_info_changed":
                self.query = forward.page_info_changed.query_string
            elif kind == "delta" and forward.delta.WhichOneof("type") == "new_element":
                run.elements[tuple(forward.metadata.delta_path)] = forward.delta.new_element
            elif kind == "page_not_found":
                run.page_not_found = True
            elif kind == "auth_redirect":
                run.auth_redirect = forward.auth_redirect.url
            elif (kind == "script_finished"
                  and forward.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN):
                run.seconds = time.perf_counter() - started
                return run
