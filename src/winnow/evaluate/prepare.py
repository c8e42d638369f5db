"""Before training: run the recipe variants, get one tokenizer, tokenise every variant with it."""

from __future__ import annotations

from pathlib import Path

from winnow.errors import WinnowError
from winnow.evaluate.config import AblationConfig, Variant
from winnow.exec.runner import run
from winnow.export.tokenize import HEADER, tokenize
from winnow.export.tokenizer import train_tokenizer
from winnow.recipe import Recipe


def variant_data(variant: Variant, out: Path, resume: bool) -> str:
    """The data a variant trains on: its path, or the output of its recipe (run now, or resumed)."""
    if variant.data:
        if not Path(variant.data).exists():
            raise WinnowError(f"variant {variant.name!r}: data not found: {variant.data}")
        return variant.data
    recipe = Recipe.load(variant.recipe or "")
    names = [name for item in recipe.steps for name in item]
    missing = [s for s in variant.drop_steps if s not in names]
    if missing:
        raise WinnowError(f"variant {variant.name!r}: {variant.recipe} has no step {', '.join(missing)}")
    data = recipe.to_dict()
    data["steps"] = [item for item in data["steps"] if next(iter(item)) not in variant.drop_steps]
    target = out / "variants" / variant.name
    data["output"]["path"] = str(target)
    if resume and (target / "_winnow" / "manifest.json").is_file():
        return str(target)  # finished before
    run(Recipe.from_dict(data, where=f"{variant.recipe} (variant {variant.name})"), overwrite=True, resume=False)
    return str(target)


def ablation_tokenizer(config: AblationConfig, data: dict[str, str], out: Path, resume: bool) -> str:
    """The one tokenizer of the ablation: given, or a byte-level BPE trained on one variant."""
    spec = config.tokenizer
    if spec.path:
        return spec.path
    source = spec.train_on or config.all_variants()[0].name
    if source not in data:
        raise WinnowError(f"tokenizer.train_on: {source!r} is not a variant ({', '.join(data)})")
    path = out / "tokenizer.json"
    if not (resume and path.is_file()):
        train_tokenizer([data[source]], spec.vocab_size, str(path))
    return str(path)


def tokenize_variant(name: str, data: str, tokenizer: str, config: AblationConfig, out: Path, resume: bool) -> Path:
    """``winnow tokenize`` of one variant; the held-out share only where the data has no split of its own."""
    target = out / "tokens" / name
    if resume and (target / HEADER).is_file():
        return target
    tokenize([data], tokenizer, str(target), val_fraction=config.val_fraction, seed=0, workers=1)
    return target
