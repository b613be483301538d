"""Recipes: every training hyper-parameter in one TOML file (train/recipes/NAME.toml), read
into typed dataclasses, with `key=value` overrides from the command line."""
from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from inpaint.generator import GeneratorConfig

RECIPE_DIR = Path(__file__).resolve().parent / "recipes"


@dataclass
class ModelSection:
    width: float = 0.5  # channel multiplier of the PConv U-Net (1.0 = the paper's)
    layer_size: int = 7  # encoder levels (7 at 256 px)
    sketch_levels: int = 5  # decoder levels that see the sketch features
    resolution: int = 256  # the resolution the model is shipped for
    upsample: str = "nearest"  # the decoder's 2× step: nearest or bilinear (see inpaint.generator)
    sketch_from: int = 0  # the finest decoder level given the sketch features (0 = full resolution)

    def generator_config(self) -> GeneratorConfig:
        return GeneratorConfig(self.width, self.layer_size, self.sketch_levels, resolution=self.resolution,
                               upsample=self.upsample, sketch_from=self.sketch_from)


@dataclass
class DataSection:
    batch_size: int = 8  # per process
    workers: int = 1  # DataLoader worker processes
    low_res: int = 0  # progressive training: this resolution first (0 = off)
    low_res_steps: int = 0  # ... for this many steps
    sketch_dropout: float = 0.25  # fraction of samples without a sketch
    color_prob: float = 0.3  # fraction of samples with colour hints
    recolor_prob: float = 0.0  # of those, the share whose hole is recoloured first (sketch.synthesis.recolour_hole)
    level_power: float = 1.0  # faithfulness level = U**level_power, U uniform (2: half of them < 0.25)
    hole_min: float = 0.01  # hole-ratio range of the random masks
    hole_max: float = 0.6
    part_prob: float = 0.0  # share of holes that are face parts from the landmarks (train.part_masks)
    gap_prob: float = 0.0  # share of holes that are the thin gaps a reshape leaves (train.gap_masks)
    pen_prob: float = 0.0  # share of sketches drawn like the app's pen (sketch.pen) instead of warped HED
    mismatch_prob: float = 0.0  # share of samples whose sketch is another face's part (train.mismatch): no truth
    crop: int = 0  # train on crops of this side (0 = whole images at the model resolution)
    crop_prob: float = 0.75  # with crop: share of crops around the hole at native scale; the rest are whole faces resized
    full_every: int = 0  # with crop: every N-th step is a batch of whole faces at the model resolution (0 = never) ...
    full_batch: int = 2  # ... of this many images (2 at 256 px = the pixels of 8 crops of 128), free-form holes


@dataclass
class OptimSection:
    steps: int = 60000
    lr: float = 2e-4
    finetune_from: int = 40000  # from this step: encoder BN frozen, lr_finetune
    lr_finetune: float = 5e-5
    anneal_to: int = 0  # 0: lr_finetune stays; else it falls (cosine) to 0 at this step
    ema: float = 0.999  # EMA decay of the generator weights (what gets exported)
    disc_lr: float = 2e-4
    warmup: int = 0  # steps of linear learning-rate warm-up (generator and discriminator)
    clip: float = 0.0  # clip the generator's gradient norm to this (0 = no clipping)


@dataclass
class LossSection:
    valid: float = 1.0
    hole: float = 6.0
    perceptual: float = 0.05
    style: float = 120.0
    tv: float = 0.1
    perceptual_size: int = 256  # VGG terms run at this resolution (cheaper when lower)
    adversarial: float = 0.0  # weight of the mask-aware patch-GAN term (0 = no discriminator; train.adversarial)
    feature_matching: float = 0.0  # discriminator feature matching on the hole
    r1: float = 1.0  # R1 penalty γ on the discriminator
    r1_every: int = 4  # lazy R1: every N steps, weight scaled by N
    disc_width: float = 0.5
    structure: float = 0.0  # 1 − local SSIM against the truth in the hole (train.losses.structure_loss)
    structure_colour: bool = False  # that SSIM per RGB channel, not on grey (grey leaves the hole's hue free)
    follow: float = 0.0  # mismatched samples: weight of the step-edges-on-the-lines term (train.losses.line_following)
    follow_oracle: bool = False  # the line term on every sketched sample, not only the mismatched ones
    inked_fakes: float = 0.0  # weight of real images with their sketch painted on as ink, shown as fakes (train.adversarial)


@dataclass
class RunSection:
    precision: str = "bf16"  # "fp32", "bf16" (CPU autocast) or "amp" (CUDA autocast)
    channels_last: bool = True
    log_every: int = 25
    sample_every: int = 500
    checkpoint_every: int = 250
    validate_every: int = 0  # in-loop validation (sharpness, edge F1, transfer) every N steps (0 = off)
    validate_images: int = 16  # held-out faces it uses
    seed: int = 0


@dataclass
class Recipe:
    name: str = "custom"
    model: ModelSection = field(default_factory=ModelSection)
    data: DataSection = field(default_factory=DataSection)
    optim: OptimSection = field(default_factory=OptimSection)
    loss: LossSection = field(default_factory=LossSection)
    run: RunSection = field(default_factory=RunSection)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Recipe":
        recipe = cls(name=data.get("name", "custom"))
        for section in SECTIONS:
            values = data.get(section, {})
            target = getattr(recipe, section)
            known = {f.name for f in fields(target)}
            unknown = set(values) - known
            if unknown:
                raise ValueError(f"unknown field(s) in [{section}]: {', '.join(sorted(unknown))}")
            for key, value in values.items():
                setattr(target, key, _coerce(value, type(getattr(target, key)), f"{section}.{key}"))
        return recipe

    def validate(self) -> None:
        """Cross-field checks that a single field's type cannot express."""
        step = 2**self.model.layer_size
        for name, res in (("model.resolution", self.model.resolution), ("data.low_res", self.data.low_res)):
            if res % step:
                raise ValueError(f"{name}={res} must be a multiple of 2**layer_size = {step}")
        if self.run.precision not in ("fp32", "bf16", "amp"):
            raise ValueError(f"run.precision must be fp32, bf16 or amp, not {self.run.precision!r}")
        if not 0 <= self.data.hole_min < self.data.hole_max <= 1:
            raise ValueError("data.hole_min < data.hole_max must lie in [0, 1]")
        if not self.data.level_power > 0:
            raise ValueError(f"data.level_power must be > 0, not {self.data.level_power}")
        if self.optim.anneal_to and self.optim.anneal_to <= self.optim.finetune_from:
            raise ValueError(f"optim.anneal_to={self.optim.anneal_to} must come after "
                             f"optim.finetune_from={self.optim.finetune_from} (or be 0: no anneal)")

    def override(self, assignment: str) -> None:
        """Apply `key=value` or `section.key=value` (value parsed as TOML, else a string)."""
        if "=" not in assignment:
            raise ValueError(f"override {assignment!r} must look like key=value")
        key, raw = assignment.split("=", 1)
        section, name = key.split(".", 1) if "." in key else (_section_of(key), key)
        target = getattr(self, section, None)
        if target is None or not hasattr(target, name):
            raise ValueError(f"unknown recipe field {key!r}")
        try:
            value = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw
        setattr(target, name, _coerce(value, type(getattr(target, name)), key))


SECTIONS = ("model", "data", "optim", "loss", "run")


def _section_of(name: str) -> str:
    owners = [s for s in SECTIONS if name in {f.name for f in fields(globals()[s.capitalize() + "Section"])}]
    if len(owners) != 1:
        raise ValueError(f"unknown recipe field {name!r}" if not owners else f"{name!r} is ambiguous: use SECTION.{name}")
    return owners[0]


def _coerce(value, kind: type, key: str):
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ValueError(f"{key} must be {kind.__name__}, got {value!r}")
    return value


def read_recipe_file(path: Path) -> dict:
    """A recipe file's fields; with `extends = "NAME"`, on top of that recipe's (section by
    section, so a variant states only what it changes)."""
    data = tomllib.loads(path.read_text())
    base = data.pop("extends", None)
    if base is None:
        return data
    merged = load_recipe(base).to_dict()
    for key, value in data.items():
        if isinstance(value, dict):
            merged[key] = {**merged.get(key, {}), **value}
        else:
            merged[key] = value
    return merged


def load_recipe(name_or_path: str, overrides: list[str] | None = None) -> Recipe:
    """A recipe by name (train/recipes/NAME.toml) or path, with overrides applied."""
    path = Path(name_or_path)
    if not path.suffix:
        path = RECIPE_DIR / f"{name_or_path}.toml"
    if not path.is_file():
        available = ", ".join(sorted(p.stem for p in RECIPE_DIR.glob("*.toml")))
        raise ValueError(f"no recipe {name_or_path!r} (available: {available})")
    recipe = Recipe.from_dict(read_recipe_file(path))
    for assignment in overrides or []:
        recipe.override(assignment)
    return recipe
