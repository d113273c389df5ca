"""Empty states for the tabs' plots: a figure or plot update that says why there is nothing to draw yet.

Gradio 6 draws an empty gr.Plot as a blank box with an icon, and a gr.LinePlot without data the
same way, its caption hidden; so an empty matplotlib plot gets a figure with the message written in
it, and an empty line plot an empty frame (drawn as axes) with the message as its caption.
"""

from __future__ import annotations

import gradio as gr
import pandas as pd
from matplotlib.figure import Figure


MIN_STEP_AXIS = 10  # the shortest step axis a line plot draws


def empty_figure(message: str) -> Figure:
    """A short figure with `message` in the middle and no axes."""
    fig = Figure(figsize=(6.4, 1.4), dpi=110)
    ax = fig.subplots()
    ax.text(0.5, 0.5, message, ha="center", va="center", wrap=True, color="#555555")
    ax.axis("off")
    return fig


def line_plot(frame: pd.DataFrame, empty_message: str) -> gr.LinePlot:
    """A LinePlot update: the frame with no caption, or, when it has no rows, `empty_message` as the caption."""
    if frame.empty:
        return gr.LinePlot(value=frame, caption=empty_message)
    if "step" in frame:
        # Steps are whole numbers; on a short axis (a 2-step job) Vega-Lite ticks 1.0, 1.1, 1.2, ... An
        # axis from 0 to at least MIN_STEP_AXIS gets whole-number ticks, and "d" prints them as such.
        top = max(MIN_STEP_AXIS, int(frame["step"].max()))
        return gr.LinePlot(value=frame, caption=None, x_lim=[0, top], x_axis_format="d")
    return gr.LinePlot(value=frame, caption=None)
