"""Server-side SVG charts (matplotlib), one code path for the browser and the PDFs.

Charts are returned as data: URIs for <img> so that no inline style or script
reaches the page (the Content-Security-Policy forbids both); every chart is
shown next to a table with its numbers.
"""

import base64
import io

import matplotlib

matplotlib.use("svg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402


def _german_number(value, _position=None) -> str:
    return f"{value:,.0f}".replace(",", ".")


PALETTE = ["#1d4e5f", "#c0392b", "#6c757d", "#b8860b"]
MONTH_LABELS = ["Jan", "Feb", "Mär", "Apr", "Mai", "Jun", "Jul", "Aug", "Sep", "Okt", "Nov", "Dez"]


def _to_data_uri(fig) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(fig)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def svg_of(data_uri: str) -> bytes:
    """The SVG document of a chart made here (they are data URIs, for the PDF reports)."""
    return base64.b64decode(data_uri.split(",", 1)[1])


def line_chart(
    series: dict[str, list], *, title: str, ylabel: str, labels: list[str] = MONTH_LABELS
) -> str:
    fig, ax = plt.subplots(figsize=(6.4, 3.0), dpi=100)
    for (name, values), color in zip(series.items(), PALETTE, strict=False):
        points = [float(v) if v is not None else float("nan") for v in values]
        ax.plot(labels[: len(points)], points, label=name, color=color, linewidth=2)
    ax.set_title(title, fontsize=10)
    ax.set_ylabel(ylabel, fontsize=9)
    ax.yaxis.set_major_formatter(FuncFormatter(_german_number))
    ax.tick_params(labelsize=8)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return _to_data_uri(fig)


def bar_chart(values: dict[str, float], *, title: str, ylabel: str) -> str:
    fig, ax = plt.subplots(figsize=(6.4, 3.0), dpi=100)
    ax.bar(list(values), [float(v or 0) for v in values.values()], color=PALETTE[0])
    ax.set_title(title, fontsize=10)
    ax.set_ylabel(ylabel, fontsize=9)
    ax.yaxis.set_major_formatter(FuncFormatter(_german_number))
    ax.tick_params(labelsize=8)
    ax.grid(axis="y", alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    return _to_data_uri(fig)
