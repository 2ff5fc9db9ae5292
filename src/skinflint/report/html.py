"""HTML pieces for the report: a self-contained page (inline CSS, images as data URIs)."""

from __future__ import annotations

import html
from typing import Sequence

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2em auto;max-width:1000px;color:#222}
h1{font-size:1.6em}h2{font-size:1.2em;border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;margin:.6em 0;font-size:.9em}td,th{border:1px solid #ccc;padding:.25em .6em}
th{background:#f3f5f8;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}
.kpi{display:flex;gap:1em;flex-wrap:wrap}.kpi div{background:#f3f5f8;border-radius:6px;padding:.6em 1em}
.kpi b{display:block;font-size:1.4em}.grid{display:grid;grid-template-columns:1fr 1fr;gap:1em}
img{max-width:100%}.note{color:#666;font-size:.85em}
"""


def esc(text: object) -> str:
    """HTML-escaped text."""
    return html.escape(str(text))


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A table; cells that are numbers are right-aligned."""
    def cell(v: object) -> str:
        numeric = isinstance(v, (int, float)) or (isinstance(v, str) and v[:1].isdigit())
        return f'<td class="n">{esc(v)}</td>' if numeric else f"<td>{esc(v)}</td>"
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(cell(v) for v in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def kpis(items: Sequence[tuple[str, str]]) -> str:
    """Headline figures in boxes."""
    return '<div class="kpi">' + "".join(f"<div>{esc(k)}<b>{esc(v)}</b></div>" for k, v in items) + "</div>"


def image(uri: str, alt: str) -> str:
    """An embedded PNG (a data: URI)."""
    return f'<img src="{uri}" alt="{esc(alt)}">'


def page(title: str, sections: Sequence[tuple[str, str]], footer: str = "") -> str:
    """The whole page: a title, (heading, html) sections, a footer note."""
    body = "".join(f"<section><h2>{esc(h)}</h2>{content}</section>" for h, content in sections)
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>'
            f"<style>{STYLE}</style></head><body><h1>{esc(title)}</h1>{body}"
            f'<p class="note">{esc(footer)}</p></body></html>\n')
