"""The 68-point (iBUG 300-W) landmark scheme: which points outline which part, defined once.

Framing (the eye and mouth centres), the one-click part masks, the training masks and the
transfer warp all index landmarks through these. "Left" is the image's left: points 36–41
are the eye on the left of the picture (the person's right eye).
"""
from __future__ import annotations

JAW = slice(0, 17)
BROW_LEFT = slice(17, 22)
BROW_RIGHT = slice(22, 27)
NOSE = slice(27, 36)
EYE_LEFT = slice(36, 42)
EYE_RIGHT = slice(42, 48)
EYES = slice(36, 48)
MOUTH = slice(48, 68)
OUTER_LIPS = slice(48, 60)  # the mouth's outline
INNER_LIPS = slice(60, 68)
BROWS = slice(17, 27)
MOUTH_CORNERS = (48, 54)

GROUPS: dict[str, slice] = {
    "jaw": JAW, "eyebrow_left": BROW_LEFT, "eyebrow_right": BROW_RIGHT, "nose": NOSE,
    "eye_left": EYE_LEFT, "eye_right": EYE_RIGHT, "eyes": EYES, "mouth": MOUTH,
}
