"""Gradio app: paint a Mask, draw a Sketch, add Colour hints, get the photo back redrawn.

`python app.py` serves on 127.0.0.1 (GRADIO_SERVER_NAME / GRADIO_SERVER_PORT override).
The model is loaded once, at start.
"""
from __future__ import annotations

import logging

import gradio as gr
import numpy as np
from PIL import Image

from inpaint import Editor

LAYERS = ["Mask", "Sketch", "Color"]
logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
EDITOR = Editor.load()


def run_edit(value: dict | None, faithfulness: float, align: bool) -> tuple[tuple[Image.Image, Image.Image], str]:
    if not value or value.get("background") is None:
        raise gr.Error("Upload a photo first.")
    photo = value["background"]
    layers = list(value.get("layers") or []) + [None] * len(LAYERS)
    mask, sketch, color = layers[: len(LAYERS)]
    if mask is None or not np.asarray(mask.convert("RGBA"))[..., 3].any():
        raise gr.Error("Paint the region to redraw on the Mask layer.")
    try:
        result = EDITOR.edit(photo, mask, sketch=sketch, color=color, faithfulness=faithfulness, align=align)
    except ValueError as exc:
        raise gr.Error(str(exc)) from None
    info = EDITOR.last_info
    status = f"{info.engine} · {info.path} · {sum(info.ms.values()):.0f} ms"
    if EDITOR.warning:
        status = f"⚠️ {EDITOR.warning}\n\n{status}"
    return (photo.convert("RGB"), result), status


def build() -> gr.Blocks:
    with gr.Blocks(title="SketchFace") as demo:
        gr.Markdown("# SketchFace\nPaint over part of a face on the **Mask** layer, draw lines on **Sketch**, "
                    "dab colours on **Color**, then Run.")
        if EDITOR.warning:
            gr.Markdown(f"⚠️ {EDITOR.warning}")
        with gr.Row():
            with gr.Column():
                canvas = gr.ImageEditor(
                    type="pil",
                    image_mode="RGBA",
                    format="png",
                    layers=gr.LayerOptions(layers=LAYERS, allow_additional_layers=False),
                    transforms=[],
                    brush=gr.Brush(default_size=12, colors=["#ffffff", "#000000", "#c0392b", "#e0ac69", "#5d3a1a"]),
                    label="Photo",
                )
                faithfulness = gr.Slider(0, 1, value=0.5, step=0.05, label="Sketch faithfulness (0 = exact, 1 = loose)")
                align = gr.Checkbox(value=True, label="Align the face")
                run = gr.Button("Run", variant="primary")
            with gr.Column():
                result = gr.ImageSlider(type="pil", format="png", label="Before / after")
                status = gr.Markdown()
        run.click(run_edit, [canvas, faithfulness, align], [result, status], api_name="edit_layers",
                  concurrency_limit=1)
    return demo


if __name__ == "__main__":
    build().queue(max_size=16).launch(max_file_size="50mb")
