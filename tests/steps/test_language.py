"""language and language_filter on real labelled documents (shared/data/langid), fully offline."""

from __future__ import annotations

import io
from collections import Counter, defaultdict

import orjson
import pytest
import zstandard

from winnow import read_output, run
from winnow.errors import RecipeError
from winnow.records import make_batch
from winnow.steps.language import LanguageFilter, LanguageTagger, default_model_path, iso639_1
from winnow.steps.registry import build_step

PER_LANGUAGE = 30
# The languages with >= 150 documents in labeled-dev (the accuracy bar applies to them).
BIG = ("en", "fr", "ja", "zh", "de", "es", "tr", "ko", "pl", "ru", "pt")


@pytest.fixture(scope="module")
def labelled(sample_data) -> list[dict]:
    """The first PER_LANGUAGE documents of each big language, in file order."""
    taken: dict[str, list[dict]] = defaultdict(list)
    with open(sample_data / "langid" / "labeled-dev.jsonl.zst", "rb") as raw:
        for line in io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(raw)):
            doc = orjson.loads(line)
            if doc["lang"] in BIG and len(taken[doc["lang"]]) < PER_LANGUAGE:
                taken[doc["lang"]].append(doc)
    return [doc for lang in BIG for doc in taken[lang]]


def tag(docs: list[dict], **params):
    step = LanguageTagger(**params)
    batch = make_batch({"id": [d["id"] for d in docs], "text": [d["text"] for d in docs]})
    return step.process(batch).kept


def test_the_default_model_ships_in_a_wheel_and_is_read_from_disk():
    path = default_model_path()
    assert path.is_file() and path.name == "lid.176.ftz"
    assert "site-packages" in str(path) or "dist-packages" in str(path)


def test_accuracy_at_least_98_percent_per_big_language_on_the_whole_dev_set(tier):
    """The issue's bar, on every document of labeled-dev in a language with >= 150 documents (second
    tier); the first tier runs the excerpt's 40+ documents per language."""
    with open(tier.path / "langid" / "labeled-dev.jsonl.zst", "rb") as raw:
        lines = io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(raw)).read().splitlines()
    docs = [d for d in map(orjson.loads, lines) if d["lang"] in BIG]
    assert len(docs) >= tier.pick(sample=40, full=150) * len(BIG)
    tagged = tag(docs)
    right, total = Counter(), Counter()
    for doc, lang in zip(docs, tagged.column("language.lang").to_pylist(), strict=True):
        total[doc["lang"]] += 1
        right[doc["lang"]] += lang == doc["lang"]
    accuracy = {lang: right[lang] / total[lang] for lang in BIG}
    assert all(total[lang] >= tier.pick(sample=40, full=150) for lang in BIG)
    assert min(accuracy.values()) >= 0.98, accuracy
    assert all(0.0 < s <= 1.0 for s in tagged.column("language.score").to_pylist())


def test_explicit_model_path_gives_the_same_tags(labelled):
    sample = labelled[::15]
    default = tag(sample)
    explicit = tag(sample, model_path=str(default_model_path()))
    assert default.column("language.lang").to_pylist() == explicit.column("language.lang").to_pylist()


def test_missing_model_file_is_a_recipe_error_before_any_data(tmp_path):
    step = build_step("language", {"model_path": str(tmp_path / "lid.176.bin")})
    with pytest.raises(RecipeError, match="lid.176.bin"):
        step.check()


def test_empty_text_gets_no_language():
    tagged = tag([{"id": "a", "text": ""}, {"id": "b", "text": " \n "}])
    assert tagged.column("language.lang").to_pylist() == [None, None]
    assert tagged.column("language.score").to_pylist() == [0.0, 0.0]


def test_model_labels_become_iso_639_1():
    assert iso639_1("__label__fr") == "fr"
    assert iso639_1("__label__eng_Latn") == "en"  # GlotLID
    assert iso639_1("__label__cmn_Hani") == "zh"  # individual language -> macrolanguage code
    assert iso639_1("__label__als") == "als"  # lid.176's Alemannic keeps its code (not Albanian)
    assert iso639_1("__label__ceb") == "ceb"  # no two-letter code


def test_filter_keeps_listed_languages_above_the_score(labelled):
    tagged = tag(labelled)
    step = LanguageFilter(languages=["en", "de"], min_score=0.65)
    result = step.process(tagged)
    kept_langs = set(result.kept.column("language.lang").to_pylist())
    assert kept_langs <= {"en", "de"}
    # English and German documents the model is sure of are kept; the rest are dropped with a reason.
    confident = [
        lang in ("en", "de") and score >= 0.65
        for lang, score in zip(
            tagged.column("language.lang").to_pylist(), tagged.column("language.score").to_pylist(), strict=True
        )
    ]
    assert result.kept.num_rows == sum(confident) >= PER_LANGUAGE
    assert all(s >= 0.65 for s in result.kept.column("language.score").to_pylist())
    reasons = Counter(result.rejected.column("reason").to_pylist())
    assert set(reasons) <= {"language_filter: other_language", "language_filter: low_language_score"}
    assert result.kept.num_rows + result.rejected.num_rows == len(labelled)
    assert step.counters["dropped_language.fr"] >= PER_LANGUAGE - 1


def test_filter_without_tags_says_what_is_missing():
    from winnow.errors import WinnowError

    with pytest.raises(WinnowError, match="put the 'language' step before it"):
        LanguageFilter().process(make_batch({"id": ["a"], "text": ["hello"]}))


def test_run_end_to_end(labelled, tmp_path):
    path = tmp_path / "docs.jsonl"
    path.write_bytes(b"".join(orjson.dumps(d) + b"\n" for d in labelled))
    recipe = {
        "input": {"path": str(path)},
        "steps": [{"language": {}}, {"language_filter": {"languages": ["ja", "ko"]}}],
        "output": {"path": str(tmp_path / "out"), "keep_rejected": True},
    }
    run(recipe, workers=2)
    kept = read_output(tmp_path / "out")
    rejected = read_output(tmp_path / "out", rejected=True)
    assert kept.num_rows + rejected.num_rows == len(labelled)
    gold = {d["id"]: d["lang"] for d in labelled}
    assert sum(gold[i] in ("ja", "ko") for i in kept.column("id").to_pylist()) >= kept.num_rows - 1
    assert kept.num_rows >= 2 * PER_LANGUAGE - 2


def test_cjk_documents_full_of_english_commands_are_asked_again(sample_data, labelled):
    """Chinese documentation the model alone calls English (unspaced CJK text loses against the
    spaced English command names) is recognised when asked again about its non-ASCII text."""
    with open(sample_data / "langid" / "labeled-dev.jsonl.zst", "rb") as raw:
        lines = io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(raw)).read().splitlines()
    chinese = [d for d in map(orjson.loads, lines) if d["lang"] == "zh"]
    plain = LanguageTagger(cjk_recheck_share=None)
    missed = [d for d in chinese if plain.identify(d["text"])[0] != "zh"]
    assert len(missed) >= 5  # the weakness is real: these are the model's own misses
    step = LanguageTagger()
    assert [step.identify(d["text"])[0] for d in missed].count("zh") >= len(missed) - 1
    assert step.counters["cjk_recheck"] >= len(missed) - 1
    # Documents in other languages are never rechecked.
    others = LanguageTagger()
    tag_docs = [d for d in labelled if d["lang"] not in ("zh", "ja", "ko")]
    assert [others.identify(d["text"])[0] for d in tag_docs] == [plain.identify(d["text"])[0] for d in tag_docs]
    assert others.counters["cjk_recheck"] == 0
