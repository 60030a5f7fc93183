"""A scripted Streamlit session: a websocket client that speaks the app's own protocol (the
protobuf messages of streamlit.proto) to a running app, asks for a page as a browser would,
and collects the text of what the rerun draws. Cheaper than a browser, and served by the same
app process as the browsers."""

from __future__ import annotations

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.sync.client import connect    # the websocket library Streamlit's own server runs on


def rerun(port: int, page: str, query: str = "", timeout: float = 60.0) -> tuple[list[str], list[str]]:
    """(texts, errors) of one rerun of `page`?`query` on a fresh session: every markdown text
    drawn (captions included), and every exception or error box."""
    with connect(f"ws://127.0.0.1:{port}/_stcore/stream", subprotocols=["streamlit"],
                 origin=f"http://127.0.0.1:{port}", open_timeout=timeout, max_size=None) as ws:
        msg = BackMsg()
        msg.rerun_script.query_string = query
        msg.rerun_script.page_name = page
        ws.send(msg.SerializeToString())
        texts, errors = [], []
        while True:
            fm = ForwardMsg()
            fm.ParseFromString(ws.recv(timeout=timeout))
            kind = fm.WhichOneof("type")
            if kind == "new_session":                     # a run starts (again, after a rerun): draw afresh
                texts, errors = [], []
            elif kind == "delta" and fm.delta.WhichOneof("type") == "new_element":
                el = fm.delta.new_element
                which = el.WhichOneof("type")
                if which == "markdown":
                    texts.append(el.markdown.body)
                elif which == "exception":
                    errors.append(el.exception.message)
                elif which == "alert" and el.alert.format == 1:      # an error box
                    errors.append(el.alert.body)
            elif kind == "script_finished" and fm.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                return texts, errors
