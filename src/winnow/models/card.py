"""The model card written beside every model Winnow trains: what it is, what it learnt from, how it did."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field

from winnow.version import __version__


class ModelCard(BaseModel):
    kind: str  # fasttext-classifier | static-embeddings
    model_file: str
    trained_by: str = Field(default_factory=lambda: f"winnow {__version__}")
    source: str  # the labels or corpus it was trained on
    params: dict[str, float | int | str | bool | None]
    labels: list[str] = []
    positive_label: str | None = None
    train_records: int = 0
    heldout_records: int = 0
    heldout: dict[str, float] | None = None  # BinaryMetrics at the 0.5 threshold
    heldout_best: dict[str, float] | None = None  # BinaryMetrics at the best-F1 threshold
    notes: list[str] = []

    def path_for(self, model: Path) -> Path:
        return card_path(model)

    def markdown(self) -> str:
        lines = [f"# Model card: {Path(self.model_file).name}", "", f"- kind: {self.kind}"]
        lines += [f"- trained by: {self.trained_by}", f"- trained on: {self.source} ({self.train_records:,} records)"]
        if self.labels:
            lines.append(f"- labels: {', '.join(self.labels)} (scored: {self.positive_label})")
        lines.append("- parameters: " + ", ".join(f"{k}={v}" for k, v in sorted(self.params.items())))
        for title, metrics in (
            ("held-out, threshold 0.5", self.heldout),
            ("held-out, best-F1 threshold", self.heldout_best),
        ):
            if metrics:
                lines += ["", f"## {title} ({self.heldout_records:,} records)", "", "| metric | value |", "|---|---|"]
                lines += [
                    f"| {k} | {v:.4g} |" if isinstance(v, float) else f"| {k} | {v} |" for k, v in metrics.items()
                ]
        if self.notes:
            lines += ["", "## Notes", "", *(f"- {n}" for n in self.notes)]
        return "\n".join(lines) + "\n"

    def write(self, model: Path) -> Path:
        path = card_path(model)
        path.write_text(self.model_dump_json(indent=1) + "\n")
        path.with_suffix(".md").write_text(self.markdown())
        return path


def card_path(model: Path) -> Path:
    """``model.bin`` → ``model.card.json`` (and ``model.card.md``); a model directory holds ``card.json``."""
    model = Path(model)
    if model.is_dir():
        return model / "card.json"
    return model.with_name(model.stem + ".card.json")
