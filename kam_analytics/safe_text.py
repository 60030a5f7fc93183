"""Text that came from a file, drawn as text (issue 27): names, notes and reasons are never
Markdown, LaTeX or HTML. `md` for Streamlit's Markdown contexts (markdown, caption, write,
info, metric, expander and tab labels), `html` for plotly's labels, hovers, ticks and legends
(plotly draws a subset of HTML), `frame` for a DataFrame of them before it is charted."""

from __future__ import annotations

import html as _html
import re

import pandas as pd

# CommonMark's backslash escapes, plus $ (Streamlit's LaTeX), ~ (strike-through), : (emoji
# and :color[...] directives), & (entities) and < > (raw HTML and autolinks).
_MARKDOWN = set("\\`*_{}[]()#+-.!|<>$~:&=")
# Streamlit's Markdown links bare addresses (GFM autolink literals) whatever the escapes: an
# invisible word joiner keeps "http://", "www." and "name@host" from being recognised.
_AUTOLINK = re.compile(r"(?i)(?:https?|ftp|mailto|xmpp)(?=:)|www(?=\.)|@(?=[\w-])")
_JOINER = "\u2060"


def md(value) -> str:
    """`value` as Markdown that shows exactly its characters on one line (and a word joiner
    inside bare addresses)."""
    text = "" if value is None else str(value)
    text = text.replace("\r\n", " ").replace("\r", " ").replace("\n", " ")
    text = _AUTOLINK.sub(lambda m: m.group(0) + _JOINER, text)
    return "".join("\\" + ch if ch in _MARKDOWN else ch for ch in text)


def html(value) -> str:
    """`value` as text in plotly's HTML subset: < > & as entities (no tag, link or image)."""
    return _html.escape("" if value is None else str(value), quote=False)


def frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of `df` whose text cells (and text attrs) are escaped with `html`; numbers,
    dates and missing values as they are, column names unchanged."""
    out = df.copy()
    for col in out.columns:
        values = out[col]
        if isinstance(values.dtype, pd.CategoricalDtype):
            out[col] = values.cat.rename_categories(lambda v: html(v) if isinstance(v, str) else v)
        elif values.dtype == object or pd.api.types.is_string_dtype(values):
            out[col] = values.map(lambda v: html(v) if isinstance(v, str) else v)
    out.attrs = {k: html(v) if isinstance(v, str) else v for k, v in df.attrs.items()}
    return out
