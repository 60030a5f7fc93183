"""Issue 27 item 3: the one helper that makes text from files show as text."""

import pandas as pd

from kam_analytics import safe_text

HOSTILE = ('**bold** [link](http://127.0.0.1:9/x) ![img](http://127.0.0.1:9/i.png) $x^2$ '
           '<a href="http://127.0.0.1:9/">a</a> <img src=x> `code` # h _i_ ~~s~~ :red[r] | a | 1. 2) - + & &amp; www.example.com me@example.com')


def _unescape(text: str) -> str:
    """What CommonMark shows for `text`: a backslash before ASCII punctuation is dropped."""
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text) and not text[i + 1].isalnum() and text[i + 1].isascii():
            out.append(text[i + 1])
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def test_markdown_escapes_every_markup_character():
    text = safe_text.md(HOSTILE)
    # every character that starts markup (emphasis, links, images, code, headings, lists,
    # tables, strike-through, LaTeX, HTML, entities, directives) is escaped ...
    bare = text.replace("\\\\", "")
    for ch in "*_[]()!`#~$<>&|:":
        assert all(bare[i - 1] == "\\" for i, c in enumerate(bare) if c == ch), ch
    # bare addresses are not linked (GFM autolink literals ignore escapes)
    import re

    assert not re.search(r"(?i)https?:|www\.|@[\w-]", text.replace("\\", ""))
    # ... and what shows is exactly the original text, but for invisible word joiners
    assert _unescape(text).replace("\u2060", "") == HOSTILE


def test_markdown_keeps_one_line_and_latex_dollars_escaped():
    assert safe_text.md("a\nb\r\nc") == "a b c"
    assert safe_text.md("$x$") == "\\$x\\$"
    assert safe_text.md(None) == ""
    assert safe_text.md(12.5) == "12\\.5"


def test_html_for_plotly():
    assert safe_text.html('<a href="http://127.0.0.1:9/">x</a> & <b>') == \
        '&lt;a href="http://127.0.0.1:9/"&gt;x&lt;/a&gt; &amp; &lt;b&gt;'
    assert safe_text.html("plain") == "plain"


def test_frame_escapes_text_cells_only():
    df = pd.DataFrame({"stage": ["<b>S</b>", None], "n": [-5, 2]})
    df.attrs = {"won_stage": "<i>W</i>", "as_of": 3}
    out = safe_text.frame(df)
    assert out["stage"][0] == "&lt;b&gt;S&lt;/b&gt;" and pd.isna(out["stage"][1])
    assert list(out["n"]) == [-5, 2] and list(out.columns) == ["stage", "n"]
    assert out.attrs == {"won_stage": "&lt;i&gt;W&lt;/i&gt;", "as_of": 3}
    assert df["stage"][0] == "<b>S</b>"          # the input is left alone


def test_frame_escapes_categories():
    df = pd.DataFrame({"stage": pd.Categorical(["<b>S</b>", "T"])})
    assert list(safe_text.frame(df)["stage"].astype(str)) == ["&lt;b&gt;S&lt;/b&gt;", "T"]


def test_charts_draw_names_as_text(tiny_db):
    """Every label, tick, legend and hover of a figure drawn from a name holding HTML carries it
    escaped: plotly shows the characters, never a link or a tag."""
    from kam_analytics import batches, charts, db
    from kam_analytics.reports.forecasting import pushes_by_owner
    from kam_analytics.reports.stage_durations import stage_durations
    from kam_analytics.reports.win_loss import win_loss

    owner = '<a href="http://127.0.0.1:9/">Ann</a> <b>Lee</b>'
    with batches.batch(tiny_db, "test", "hostile owner") as b:
        b.con.execute("update deals set owner = ? where owner = 'Ann Lee'", [owner])
        b.touched.add("deals")
    with db.read(tiny_db) as con:
        figures = [charts.win_rates(win_loss(con, by="owner"), "owner", f"Win rate by {owner}"),
                   charts.stage_durations(stage_durations(con, by="owner"), "owner"),
                   charts.pushes_by_owner(pushes_by_owner(con))]
    import json

    for fig in figures:
        spec = json.dumps(json.loads(fig.to_json()), ensure_ascii=False)     # plotly's JSON escapes < and /
        assert "<a " not in spec and "<b>Lee" not in spec
        assert '&lt;a href=\\"http://127.0.0.1:9/\\"&gt;Ann&lt;/a&gt; &lt;b&gt;Lee&lt;/b&gt;' in spec
