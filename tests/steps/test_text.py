"""fix_unicode and normalize on real documents."""

from __future__ import annotations

import unicodedata

import orjson
import pytest

from corpus_sample import corpus_lines
from winnow.records import make_batch
from winnow.steps.registry import build_step
from winnow.steps.text import FixUnicode, Normalize, normalize_text


@pytest.fixture(scope="module")
def docs(sample_data) -> list[dict]:
    return [orjson.loads(line) for line in corpus_lines(sample_data, 300)]


@pytest.fixture(scope="module")
def translated(sample_data) -> list[dict]:
    """Real non-ASCII text: the first documents in French, German, Japanese and Russian."""
    import io

    import zstandard

    wanted, found = {"fr", "de", "ja", "ru"}, {}
    with open(sample_data / "langid" / "labeled-dev.jsonl.zst", "rb") as raw:
        for line in io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(raw)):
            doc = orjson.loads(line)
            if doc["lang"] in wanted and doc["lang"] not in found:
                found[doc["lang"]] = doc
            if len(found) == len(wanted):
                break
    return list(found.values())


def run_step(step, texts: list[str]) -> list[str]:
    batch = make_batch({"id": [str(i) for i in range(len(texts))], "text": texts})
    result = step.process(batch)
    assert result.rejected is None  # mappers drop nothing
    return result.kept.column("text").to_pylist()


def test_fix_unicode_repairs_real_mojibake(translated):
    # The classic damage: UTF-8 bytes read as Windows-1252 (or Latin-1), as broken crawlers do.
    originals = [unicodedata.normalize("NFC", d["text"][:2000]) for d in translated]
    broken = [t.encode("utf-8").decode("cp1252", errors="replace") for t in originals[:2]]  # fr, de
    broken += [t.encode("utf-8").decode("latin-1") for t in originals[2:]]  # ja, ru: latin-1 keeps every byte
    assert all(b != o for b, o in zip(broken, originals, strict=True))
    step = FixUnicode()
    fixed = run_step(step, broken)
    repaired = sum(f == o for f, o in zip(fixed, originals, strict=True))
    assert repaired >= 3, [f[:80] for f in fixed]
    assert step.counters["changed"] == len(broken)


def test_fix_unicode_leaves_clean_real_text_alone(docs, translated):
    texts = [d["text"] for d in docs[:100]] + [unicodedata.normalize("NFC", d["text"]) for d in translated]
    step = FixUnicode()
    fixed = run_step(step, texts)
    unchanged = sum(a == b for a, b in zip(texts, fixed, strict=True))
    assert unchanged >= 0.95 * len(texts)  # only entities/control characters in a few docs may change
    assert all("\x00" not in f and "\x07" not in f for f in fixed)


def test_fix_unicode_removes_control_characters_and_entities(docs):
    text = docs[0]["text"][:300]
    fixed = run_step(FixUnicode(), [text.replace(" ", "\x07 ", 3) + " Tom &amp; Jerry"])[0]
    assert "\x07" not in fixed and fixed.endswith("Tom & Jerry")
    kept = run_step(FixUnicode(unescape_html=False), ["Tom &amp; Jerry"])[0]
    assert kept == "Tom &amp; Jerry"


def test_normalize_rules():
    text = "  def f():\r\n      return  1\t\t \n\n\n\nCafe\u0301\u00a0 au lait  \r\n"
    assert normalize_text(text) == "  def f():\n      return 1\n\nCafé au lait"
    assert normalize_text(text, max_blank_lines=0) == "  def f():\n      return 1\nCafé au lait"
    assert normalize_text("e\u0301", form=None) == "e\u0301"
    assert normalize_text("a\n\nb\n\n\nc", max_blank_lines=0) == "a\nb\nc"  # no blank line at all
    assert normalize_text("a\n\n\nb\n\n\n\nc", max_blank_lines=2) == "a\n\n\nb\n\n\nc"
    assert normalize_text("a \u3000\tb\u00a0\nc\u2028d") == "a b\nc\nd"  # Unicode spaces and line separators
    assert normalize_text("a\x1fb\x1c\nc") == "a b\nc"  # ASCII text can hold Python whitespace beyond ' ' and tab


def test_normalize_real_documents_is_idempotent_and_keeps_indentation(docs):
    texts = [d["text"] for d in docs]
    step = Normalize()
    once = run_step(step, texts)
    assert run_step(Normalize(), once) == once
    assert all(unicodedata.is_normalized("NFC", t) for t in once)
    assert all("\r" not in t and "\n\n\n" not in t and " \n" not in t for t in once)
    python_sources = [(t, o) for t, o, d in zip(texts, once, docs, strict=True) if d.get("kind") == "python"]
    for original, normalized in python_sources[:5]:
        indented = [line for line in original.splitlines() if line.startswith("    ") and line.strip()]
        assert all(line.rstrip() in normalized for line in indented[:20])
    # words are never lost: the same words in the same order
    assert all(o.split() == n.split() for o, n in zip(texts, once, strict=True) if "\u00a0" not in o)


def test_params_validated():
    from winnow.errors import RecipeError

    assert build_step("normalize", {"form": "NFKC"}).params.form == "NFKC"
    with pytest.raises(RecipeError):
        build_step("normalize", {"form": "NFX"})
    with pytest.raises(RecipeError):
        build_step("fix_unicode", {"normalisation": "NFC"})


def test_the_ascii_fast_path_gives_what_ftfy_gives(docs):
    """Texts that skip ftfy (plain ASCII, no control characters, no '&') are exactly what ftfy returns."""
    import ftfy

    step = FixUnicode()
    config = step.config()
    skipped = [d["text"] for d in docs if not step.needs_ftfy(d["text"])]
    assert len(skipped) >= 50  # most of the corpus takes the fast path
    assert all(ftfy.fix_text(t, config) == t for t in skipped)
    assert step.needs_ftfy("caf\u00c3\u00a9") and step.needs_ftfy("a\x07b") and step.needs_ftfy("a &amp; b")


@pytest.mark.parametrize(
    "params",
    [{}, {"unescape_html": True}, {"unescape_html": False}, {"remove_control_chars": False}, {"normalization": None}],
)
def test_the_line_fast_path_gives_what_ftfy_gives(docs, translated, params):
    """fix_unicode calls ftfy only on the lines it could change: the result is ftfy's, to the
    character, on real documents, real mojibake, entities before and after an HTML line (ftfy's
    'auto' stops decoding after the first '<'), control characters and terminal escapes."""
    import ftfy

    texts = [d["text"] for d in docs] + [d["text"] for d in translated]
    texts += [d["text"].encode("utf-8").decode("cp1252", errors="replace") for d in translated]
    texts += ["a &amp; b\n<p>x &lt; y</p>\nc &amp; d &eacute;\n" + d["text"][:400] for d in docs[:20]]
    texts += ["x\x07y\n\x1b[31mred\x1b[0m\nJos\u00c3\u00a9 &amp;\n" + d["text"][:400] for d in docs[20:40]]
    step = build_step("fix_unicode", params)
    config = step.config()
    assert run_step(step, texts) == [ftfy.fix_text(t, config) for t in texts]
