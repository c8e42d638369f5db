"""ablation.yaml: generated leave-one-step-out variants, and clear errors for bad configs."""

from __future__ import annotations

import pytest

from winnow.errors import WinnowError
from winnow.evaluate.config import AblationConfig


def test_the_example_config_generates_leave_one_out_variants():
    config = AblationConfig.load("examples/ablation.yaml")
    names = [v.name for v in config.all_variants()]
    assert names == ["raw", "curated", "curated-minus-minhash_dedup"]
    assert config.all_variants()[2].drop_steps == ["minhash_dedup"]
    assert config.baseline_name() == "raw"
    spec = config.train_spec(config.models[1], seed=2)
    assert spec.seed == 2 and spec.steps == 300_000 // (16 * 128)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("variants: [{name: a}]", "exactly one of data or recipe"),
        ("variants: [{name: a, data: x}, {name: a, data: y}]", "variant names used twice: a"),
        ("variants: [{name: a, data: x}]\nbaseline: b", "baseline 'b' is not a variant"),
        ("variants: [{name: a, data: x}]\nmodels: [{d_model: 10, heads: 4}]", "not a multiple of heads"),
        ("variants: [{name: a, data: x}]\neval: [{name: e, kind: text}]", "needs a path"),
        ("- just a list", "is a mapping"),
    ],
)
def test_bad_configs_name_the_file_and_the_problem(tmp_path, text, message):
    path = tmp_path / "ablation.yaml"
    path.write_text(text)
    with pytest.raises(WinnowError, match=message) as error:
        AblationConfig.load(path)
    assert str(path) in str(error.value)
