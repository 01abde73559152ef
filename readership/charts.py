"""SVG charts drawn on the server with pygal from a report's rows (readership/reports.py).

No script: pygal's tooltips script is left out (``js=[]``, and its configuration script is
removed), so the SVG is a picture, shown by
an ``<img>`` and allowed by the site's CSP; its labels use the CJK fonts a reader's system has.
"""

from __future__ import annotations

import pygal
from pygal.etree import etree
from pygal.style import Style

from readership.reports import Report

FONTS = (
    '"Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", '
    '"WenQuanYi Micro Hei", "Noto Sans", sans-serif'
)
STYLE = Style(
    font_family=FONTS,
    label_font_family=FONTS,
    major_label_font_family=FONTS,
    value_font_family=FONTS,
    title_font_family=FONTS,
    legend_font_family=FONTS,
    label_font_size=12,
    major_label_font_size=12,
    legend_font_size=13,
    title_font_size=15,
    background="white",
    plot_background="white",
    colors=("#1f5fa8", "#d9822b", "#2e8b57", "#8e44ad"),
)


def _config(title: str, **extra):
    return {
        "title": title,
        "style": STYLE,
        "js": [],
        "disable_xml_declaration": True,
        "width": 800,
        "height": 360,
        "explicit_size": True,
        "print_values": False,
        "show_minor_x_labels": False,
        "truncate_label": 40,
        "truncate_legend": 30,
        "no_data_text": "—",
        **extra,
    }


def svg(report: Report) -> str:
    """The report's chart as an SVG document."""
    title = str(report.title)
    if report.chart == "line":
        rows = report.rows
        every = max(1, len(rows) // 12)  # at most a dozen dates under the axis
        chart = pygal.Line(
            **_config(title, x_label_rotation=30, show_dots=len(rows) <= 60, fill=False)
        )
        chart.x_labels = [row[0] for row in rows]
        chart.x_labels_major = [row[0] for row in rows[::every]]
        for i, column in enumerate(report.columns[1:], start=1):
            chart.add(str(column), [row[i] for row in rows])
    else:
        rows = list(reversed(report.rows))  # pygal draws the first bar at the bottom
        chart = pygal.HorizontalBar(
            **_config(title, show_legend=False, height=max(220, 60 + 28 * len(rows)))
        )
        chart.x_labels = [str(row[0]) for row in rows]
        chart.add(str(report.columns[1]), [row[1] for row in rows])
    return _without_scripts(chart)


def _without_scripts(chart) -> str:
    """pygal always writes a small script (its tooltips' configuration) even with no script
    file: the picture needs none, so it is taken out."""
    root = chart.render_tree()
    for parent in list(root.iter()):
        for child in list(parent):
            if isinstance(child.tag, str) and child.tag.rsplit("}", 1)[-1] == "script":
                parent.remove(child)
    return etree.tostring(root, encoding="unicode")
