"""The few lines of browser JavaScript the app needs.

Gradio 6.31's ImageEditor cannot take layers back from the server intact: a value with layers
is reloaded as layers all named "Layer 1" (placed against the 800×800 default canvas, not the
photo) and the undo history is lost. So the face-part and photo-edge buttons (and the
examples) compute their layers on the server and return them as PNG data URLs, and this script
draws them into the named layers of the live editor (`window.editor`, which the component sets
for itself), over what is there. The layers keep their names and positions, the user's strokes
stay. It relies on the editor's internals (layer_manager, draw_textures, app.renderer) as of
Gradio 6.31, the version the Space pins; tests/test_app_browser.py checks that it still works.
"""
from __future__ import annotations

import json


def draw_into_layers(*layers: str, activate: bool = True) -> str:
    """JS taking one PNG data URL per named layer ("" = leave that layer alone) and painting
    each over its layer of the editor. With `activate`, the first layer drawn into becomes
    the active one; without, the layer the user is drawing on stays active (a response that
    arrives late must not move their pen to another layer)."""
    return f"""
async (...urls) => {{
  const names = {json.dumps(list(layers))};
  const editor = window.editor;
  if (!editor || !editor.layer_manager) {{ console.warn("sketchface: no image editor to draw into"); return urls; }}
  const manager = editor.layer_manager;
  let first = null;
  for (let i = 0; i < names.length; i++) {{
    if (!urls[i]) continue;
    const layer = manager.layers.find((l) => l.name === names[i]);
    const target = layer && manager.draw_textures.get(layer.container);
    if (!target) {{ console.warn(`sketchface: no ${{names[i]}} layer to draw into`); continue; }}
    const bitmap = await createImageBitmap(await (await fetch(urls[i])).blob());
    const base = layer.container.children[0];
    const sprite = new base.constructor(base.texture.constructor.from(bitmap));
    editor.app.renderer.render({{container: sprite, target: target, clear: false}});
    sprite.destroy();
    first = first || layer;
  }}
  if (first && {json.dumps(activate)}) manager.set_active_layer(first.id);
  if (first) editor.notify("change");
  return urls;
}}
"""


def choose_layer(name: str) -> str:
    """JS for a button's click: picks the "Draw on" layer at once, in the browser, so the
    user's next choice (made while the server still works) is the one that stays."""
    return f"() => {json.dumps(name)}"


SELECT_LAYER = """
(name) => {
  const editor = window.editor;
  const layer = editor && editor.layer_manager && editor.layer_manager.layers.find((l) => l.name === name);
  if (layer) editor.set_layer(layer.id);
  return name;
}
"""

# After an upload: the editor draws on the layer "Draw on" shows *now*. Read from the page, not
# passed in: Gradio reports an upload late, with the value it had then.
SYNC_LAYER = """
() => {
  const checked = document.querySelector("#draw-on input:checked");
  const editor = window.editor;
  const layer = checked && editor && editor.layer_manager && editor.layer_manager.layers.find((l) => l.name === checked.value);
  if (layer) editor.set_layer(layer.id);
}
"""

# Page-wide keys: Ctrl/⌘+Enter runs, Ctrl/⌘+Z undoes, Ctrl/⌘+Shift+Z or Ctrl+Y redoes,
# Alt+1/2/3 picks the layer to draw on. Keys typed into text fields are left alone.
KEYBOARD = """
() => {
  const click = (selector) => { const el = document.querySelector(selector); if (el && !el.disabled) el.click(); };
  document.addEventListener("keydown", (event) => {
    const typing = event.target.closest && event.target.closest("input[type=text], input[type=number], textarea");
    const mod = event.ctrlKey || event.metaKey;
    if (mod && event.key === "Enter") { event.preventDefault(); click("#run"); return; }
    if (typing) return;
    const key = event.key.toLowerCase();
    if (mod && key === "z" && !event.shiftKey) { event.preventDefault(); click("#canvas button[aria-label='Undo']"); }
    else if (mod && (key === "y" || (key === "z" && event.shiftKey))) { event.preventDefault(); click("#canvas button[aria-label='Redo']"); }
    else if (event.altKey && ["1", "2", "3"].includes(event.key)) {
      const radios = document.querySelectorAll("#draw-on input[type=radio]");
      const radio = radios[Number(event.key) - 1];
      if (radio) { event.preventDefault(); radio.click(); }
    }
  });
}
"""
