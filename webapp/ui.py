"""The page: the editor and its controls, the result, the examples, and the `edit` API endpoint."""
from __future__ import annotations

import functools

import gradio as gr

from inpaint.inputs import MODES, REFERENCE_MODES
from inpaint.reference import REFERENCE_PARTS

from . import client_js, examples, text
from .config import Settings
from .guards import Canvas, GuardedBlocks, GuardedImage
from .handlers import Handlers
from .layers import LAYER_NAMES
from .service import FACE_PARTS, REFERENCE_BUTTONS

ENGINE = "engine"  # one concurrency group for everything that runs the model or the detectors

# Per-layer brush presets, switched by the "Draw on" selector. Sizes are radii in photo pixels.
BRUSHES = {
    "Mask": gr.Brush(default_size=24, colors=[("#ffffff", 0.7)], color_mode="fixed"),  # broad, light, see-through
    "Sketch": gr.Brush(default_size=2, colors=["#181818", "#4a3426"], color_mode="fixed"),  # thin dark pen
    "Color": gr.Brush(default_size=6, colors=["#b5535b", "#e0ac8a", "#8d5a3c", "#3b2a20", "#c9a15a", "#4a78a8"],
                      color_mode="defaults"),  # lips, skin, tan, dark hair, blond, blue eyes; any via the picker
}


def brush_for(layer: str) -> dict:
    """The editor update that loads `layer`'s brush preset."""
    return gr.update(brush=BRUSHES.get(layer, BRUSHES["Mask"]))


def build(handlers: Handlers, settings: Settings) -> gr.Blocks:
    limit = {"concurrency_id": ENGINE, "concurrency_limit": settings.concurrency}
    # `edit` took six inputs before `reference`, `parts`, `mode` and `reference_mode`,
    # `run_canvas` three before `mode`, `reference` and `parts`, the reference buttons two
    # before the parts taken: a client may still send those; `edit_info` needs only the photo.
    with GuardedBlocks(title="SketchFace", delete_cache=(1800, 3600),
                       optional_tail={"edit": 4, "edit_info": 9, "run_canvas": 3,
                                      **{f"reference_{label.lower()}": 1 for label in REFERENCE_BUTTONS}}) as demo:
        gr.Markdown(text.INTRO)
        if handlers.service.warning:
            gr.Markdown(f"⚠️ **Classical fallback in use.** {handlers.service.warning}", elem_id="fallback-warning")
        with gr.Accordion("How to", open=False):
            gr.Markdown(text.HOW_TO)
        with gr.Row():
            with gr.Column(min_width=300):
                canvas = Canvas(
                    label="Photo", type="pil", image_mode="RGBA", format="png",
                    layers=gr.LayerOptions(layers=list(LAYER_NAMES), allow_additional_layers=False),
                    transforms=[],  # no crop/resize: layers must stay aligned with the photo's pixels
                    brush=BRUSHES["Mask"], eraser=gr.Eraser(default_size=16), elem_id="canvas",
                )
                draw_on = gr.Radio(list(LAYER_NAMES), value="Mask", label="Draw on", elem_id="draw-on",
                                   info="Picks the layer and its brush: broad light mask, thin dark pen, colour dabs")
                with gr.Row():
                    part_buttons = [gr.Button(label, size="sm", min_width=64) for label in FACE_PARTS]
                edges = gr.Button("Start from the photo's edges", size="sm", elem_id="edges")
                with gr.Accordion("Make it look like this: a part from another photo", open=False):
                    reference = GuardedImage(label="Reference photo", type="filepath", sources=["upload", "clipboard"],
                                             height=180, elem_id="reference")
                    with gr.Row():
                        reference_buttons = [gr.Button(f"Take its {label.lower()}", size="sm", min_width=64,
                                                       elem_id=f"reference-{label.lower()}")
                                             for label in REFERENCE_BUTTONS]
                faithfulness = gr.Slider(0, 1, value=0.5, step=0.05, label="Sketch faithfulness",
                                         info="0 = follow the sketch exactly, 1 = loosely")
                mode = gr.Radio([(m.capitalize(), m) for m in MODES], value="auto", label="What the lines do", elem_id="mode",
                                info="Reshape moves the photo's own part onto your lines; Redraw paints the "
                                     "masked region anew; Auto reshapes when your lines match the photo's")
                align = gr.Checkbox(value=True, label="Align the face",
                                    info="Find the face and edit it in the model's face frame")
                run = gr.Button("Run", variant="primary", elem_id="run")
            with gr.Column(min_width=300):
                result = gr.ImageSlider(label="Before / after", type="filepath", format="png",
                                        interactive=False, buttons=["fullscreen"], elem_id="result")
                download = gr.DownloadButton("Download the result (PNG)", visible=False, elem_id="download")
                status = gr.Markdown(elem_id="status")
        taken = gr.State({})  # the parts taken into the layers, with the reference and photo: Run moves them in
        example_key = gr.Textbox(visible=False)  # which example's layers to draw once its photo loads
        gr.Examples([[str(examples.PHOTO), example.faithfulness, True, example.key] for example in examples.EXAMPLES],
                    inputs=[canvas, faithfulness, align, example_key], label=text.EXAMPLES_LABEL,
                    example_labels=[example.label for example in examples.EXAMPLES])

        # Layers computed on the server travel as PNG data URLs and are drawn in the browser.
        layer_urls = [gr.Textbox(visible=False) for _ in LAYER_NAMES]
        mask_url, sketch_url, _ = layer_urls
        private = {"queue": False, "api_visibility": "private"}

        draw_on.change(brush_for, draw_on, canvas, js=client_js.SELECT_LAYER, **private)
        # A new photo keeps the layer the user has chosen (Gradio reports the upload late: a
        # layer picked meanwhile must not be overridden).
        canvas.upload(None, None, None, js=client_js.SYNC_LAYER, **private)
        (canvas.upload(handlers.example_layers, example_key, [*layer_urls, example_key], **private)
         .success(None, layer_urls, None, js=client_js.draw_into_layers(*LAYER_NAMES, activate=False)))
        # A button picks its layer at once, in the browser; layers drawn in later never take
        # the pen back (the user may have chosen another layer while the server worked).
        for button in part_buttons:
            button.click(None, None, draw_on, js=client_js.choose_layer("Mask"), **private)
            (button.click(handlers.face_part, [canvas, button], mask_url, api_visibility="private", **limit)
             .success(None, mask_url, None, js=client_js.draw_into_layers("Mask", activate=False)))
        for button, label in zip(reference_buttons, REFERENCE_BUTTONS):
            (button.click(functools.partial(handlers.reference_part, label=label), [canvas, reference, taken],
                          [*layer_urls, status, taken], api_name=f"reference_{label.lower()}",
                          api_visibility="undocumented", **limit)
             .success(None, layer_urls, None, js=client_js.draw_into_layers(*LAYER_NAMES, activate=False)))
        edges.click(None, None, draw_on, js=client_js.choose_layer("Sketch"), **private)
        (edges.click(handlers.photo_edges, canvas, sketch_url, api_name="photo_edges",
                     api_visibility="undocumented", **limit)
         .success(None, sketch_url, None, js=client_js.draw_into_layers("Sketch", activate=False)))
        run.click(handlers.run_canvas, [canvas, faithfulness, align, mode, reference, taken], [result, download, status],
                  api_name="run_canvas", api_visibility="undocumented", **limit)

        # The plain-image API: files in, PNG out (the UI's Run above takes the editor's value).
        with gr.Group(visible=False):
            api_inputs = [gr.File(label=name) for name in ("image", "mask", "sketch", "color")]
            api_inputs += [gr.Number(0.5, label="faithfulness"), gr.Checkbox(True, label="align"),
                           gr.File(label="reference"), gr.CheckboxGroup(list(REFERENCE_PARTS), label="parts"),
                           gr.Radio(list(MODES), value="auto", label="mode"),
                           gr.Radio(list(REFERENCE_MODES), value="pixels", label="reference_mode")]
            api_output = gr.Image(type="filepath", format="png", label="edited")
            api_report = gr.JSON(label="report")
        description = ("Redraw the masked region of a photo. image, mask (white or opaque = redraw), optional sketch "
                       "and color layers (alpha > 127 = stroke / hint), all the photo's size; faithfulness 0–1; "
                       "align; optional reference photo and the parts to take from it (mouth, nose, eyes, eyebrows; "
                       "the mask is optional then); mode: auto (reshape when the sketch matches the photo's own "
                       "lines, else redraw), reshape (move the photo's own part onto the sketch's lines) or redraw; "
                       "reference_mode: pixels (the reference's own part moved in, matched to the photo's light; a "
                       "sketch unlike its lines reshapes it) or lines (the network draws it from its lines and "
                       "colours).")
        gr.on([], handlers.edit, api_inputs, api_output, api_name="edit", **limit,
              api_description=description + " Returns the edited photo, PNG, same size.")
        gr.on([], handlers.edit_info, api_inputs, [api_output, api_report], api_name="edit_info", **limit,
              api_description=description + " Returns the edited photo and a report: the model, the mode and "
                                            "why, the frame, the warnings and the time per stage.")
    return demo
