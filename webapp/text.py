"""The words on the page."""

INTRO = """# SketchFace
Paint over part of a face and draw its new lines: the face's own mouth, eyes, brows or nose are
moved onto them, at full resolution, every other pixel untouched.
*What today's model does well and not:* it moves and reshapes what the photo already has, and
fills a small blemish or gap; asked to draw a part the photo lacks (teeth in a closed mouth,
another person's eye), it gives a soft patch with the lines painted on, not a real part."""

HOW_TO = """
1. **Upload a photo** (drop it on the canvas, paste it, or pick an example below). Up to
   4096 px on a side.
2. **Mask** — with *Draw on: Mask*, paint over what should change, or click a face-part
   button (eyes, brows, nose, mouth, face, hair) to add that region. The eraser removes mask.
3. **Sketch** *(optional)* — click **Start from the photo's edges**: the photo's own lines
   inside the mask go onto the Sketch layer. Erase and redraw the few that should move (a wider
   smile, a raised brow): the photo's own part follows them (*What the lines do: Reshape*).
   Or draw new lines with the thin pen for the network to draw from (*Redraw*).
4. **Color** *(optional)* — on *Draw on: Color*, dab a colour where it should go (lips, eyes,
   hair).
   *Or make it look like another photo*: open **Make it look like this**, choose a reference
   photo of a face and click **Take its mouth** (eyes, brows, nose): that part's mask, its
   lines and colour dabs are drawn into the three layers, matched to this face. Run moves the
   reference's own part in, in this face's light; redraw its lines to reshape it, or choose
   *Redraw* to have the network draw it from the lines and dabs instead.
5. **Run.** Drag the slider to compare before and after; download the PNG.

*What the lines do*: *Auto* moves the photo's own part when your lines match its own (and no
colour is dabbed), else redraws. *Sketch faithfulness*: 0 follows your lines exactly, 1 treats them as a loose
suggestion (in a reshape, 1 keeps only each part's overall shift, scale and tilt).
*Align the face*: the model works in a standard face frame; turn it off for non-faces.

**Keys**: Ctrl/⌘ + Enter runs · Ctrl/⌘ + Z undoes, Ctrl/⌘ + Shift + Z redoes · Alt + 1 / 2 / 3
picks Mask / Sketch / Color · Tab moves between controls.
"""

EXAMPLES_LABEL = "Examples (NASA's public-domain astronaut photo, from scikit-image)"


def user_message(text: str) -> str:
    """A message as the user reads it: a sentence starts with a capital, but a message that
    starts with a file's name (`truncated.png: …`) keeps the name as it was typed."""
    first = text.split(" ", 1)[0]
    return text[:1].upper() + text[1:] if first.isalpha() and first.islower() else text
