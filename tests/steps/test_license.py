"""`license` and `license_filter` on real corpus documents (Debian documentation) and through a run."""

from __future__ import annotations

import json
import re

import pytest

from corpus_sample import corpus_lines
from winnow import read_output, run
from winnow.errors import RecipeError
from winnow.records import make_batch
from winnow.steps.license import detect_in_text, license_ids, normalize_license
from winnow.steps.registry import build_step

pytestmark = pytest.mark.core  # needs only the core dependencies


@pytest.fixture(scope="module")
def docs(sample_data) -> list[dict]:
    return [json.loads(line) for line in corpus_lines(sample_data, 3000)]


def _batch(docs: list[dict], **extra) -> object:
    columns = {
        "id": [d["id"] for d in docs],
        "text": [d["text"] for d in docs],
        "source": [d["source"] for d in docs],
        "url": [d.get("url") for d in docs],
    }
    columns.update(extra)
    return make_batch(columns)


@pytest.mark.parametrize(
    ("name", "spdx"),
    [
        ("MIT License", "MIT"),
        ("Apache 2.0", "Apache-2.0"),
        ("apache-2.0", "Apache-2.0"),
        ("GPLv2+", "GPL-2.0-or-later"),
        ("GPL-2", "GPL-2.0-only"),
        ("LGPL-2.1+", "LGPL-2.1-or-later"),
        ("BSD 3-clause", "BSD-3-Clause"),
        ("CC BY-SA 4.0", "CC-BY-SA-4.0"),
        ("Creative Commons BY-NC 3.0", "CC-BY-NC-3.0"),
        ("https://creativecommons.org/publicdomain/zero/1.0/", "CC0-1.0"),
        ("http://www.boost.org/LICENSE_1_0.txt", "BSL-1.0"),
        ("https://opensource.org/licenses/MIT", "MIT"),
        ("gpl-2.0+ or mit", "GPL-2.0-or-later OR MIT"),
        ("Apache-2.0 WITH LLVM-exception", "Apache-2.0 WITH LLVM-exception"),
        ("GPL2 with Classpath exception", "GPL-2.0-only WITH Classpath-exception-2.0"),  # Debian's OpenJDK
        ("GPL-1+ or Artistic", "GPL-1.0-or-later OR Artistic-1.0"),  # Debian's Perl
        ("unknown", None),
        ("my own terms", None),
    ],
)
def test_normalise_to_spdx(name, spdx):
    assert normalize_license(name) == spdx


def test_spdx_headers_in_real_source_files_are_detected(docs):
    with_header = [d for d in docs if "SPDX-License-Identifier:" in d["text"]]
    assert with_header, "the sample holds source files with SPDX headers"
    out = build_step("license", {}).process(_batch(with_header)).kept
    for doc, detected, evidence, license_ in zip(
        with_header,
        out.column("license.detected").to_pylist(),
        out.column("license.evidence").to_pylist(),
        out.column("license").to_pylist(),
        strict=True,
    ):
        written = re.search(r"SPDX-License-Identifier:\s*([A-Za-z0-9.+-]+)", doc["text"]).group(1)
        assert (detected, evidence) == (normalize_license(written) or written, "spdx_header")
        assert license_ == detected  # the input declared nothing: the detection fills the column


def test_licence_texts_in_real_documents(docs):
    step = build_step("license", {})
    out = step.process(_batch(docs)).kept
    detected = out.column("license.detected").to_pylist()
    boost = [i for i, d in enumerate(docs) if "Distributed under the Boost Software License, Version 1.0" in d["text"]]
    assert len(boost) > 50
    assert all(detected[i] == "BSL-1.0" for i in boost)
    # documents that merely talk about a licence are not labelled with it
    mentions = [
        i
        for i, d in enumerate(docs)
        if "GNU General Public License" in d["text"] and "any later version" not in d["text"]
    ]
    assert mentions and all(detected[i] is None or not detected[i].startswith("GPL") for i in mentions)
    assert step.counters["detected.license_text"] >= len(boost)


def test_html_links_and_meta_hints():
    page = (
        '<html><body><p>Text</p><a rel="license" href="http://creativecommons.org/licenses/by-sa/4.0/">'
        '<img src="https://i.creativecommons.org/l/by-sa/4.0/88x31.png"></a></body></html>'
    )
    assert detect_in_text(page) == ("CC-BY-SA-4.0", "html_link")
    batch = make_batch(
        {
            "id": ["a", "b", "c"],
            "text": ["plain words", "plain words", "// SPDX-License-Identifier: MIT\nint x;"],
            "license": ["unknown", "Apache 2.0", "unknown"],
            "meta": [{"license_hints": ["http://www.boost.org/LICENSE_1_0.txt"]}, None, None],
        }
    )
    out = build_step("license", {}).process(batch).kept
    assert out.column("license").to_pylist() == ["BSL-1.0", "Apache-2.0", "MIT"]
    assert out.column("license.evidence").to_pylist() == ["meta", None, "spdx_header"]
    assert out.column("license.declared").to_pylist() == [None, "Apache 2.0", None]


def test_filter_allow_deny_and_expressions():
    step = build_step("license_filter", {"allow": ["MIT", "Apache 2.0", "CC-BY-4.0"], "deny": ["GPL-3.0-only"]})
    batch = make_batch(
        {
            "id": list("abcdef"),
            "text": ["t"] * 6,
            "license": [
                "MIT",
                "GPL-3.0-only OR MIT",
                "GPL-3.0-only",
                "BSD-3-Clause",
                "unknown",
                "MIT AND BSD-3-Clause",
            ],
        }
    )
    result = step.process(batch)
    assert result.kept.column("id").to_pylist() == ["a", "b"]
    assert result.rejected.column("reason").to_pylist() == [
        "license_filter: denied:GPL-3.0-only",
        "license_filter: not_allowed:BSD-3-Clause",
        "license_filter: unknown_license",
        "license_filter: not_allowed:MIT AND BSD-3-Clause",
    ]
    assert license_ids("(MIT OR Apache-2.0) AND BSD-3-Clause") == [["MIT"], ["Apache-2.0", "BSD-3-Clause"]]
    with pytest.raises(RecipeError, match="not a licence name"):
        build_step("license_filter", {"allow": ["whatever I like"]})


def test_run_keeps_provenance_and_drops_with_reason(docs, tmp_path):
    sample = docs[:400]
    corpus = tmp_path / "web.jsonl"
    corpus.write_text("".join(json.dumps(d) + "\n" for d in sample))
    recipe = {
        "input": {"path": str(corpus), "source": "debian-docs", "license": "unknown"},
        "steps": [{"license": {}}, {"license_filter": {"allow": ["BSL-1.0", "PSF-2.0"]}}],
        "output": {"path": str(tmp_path / "out")},
    }
    manifest = run(recipe, workers=1)
    kept = read_output(str(tmp_path / "out"))
    rejected = read_output(str(tmp_path / "out"), rejected=True)
    assert kept.num_rows + rejected.num_rows == 400
    assert kept.num_rows > 10
    assert set(kept.column("license").to_pylist()) <= {"BSL-1.0", "PSF-2.0"}
    urls = {d["id"]: d["url"] for d in sample}
    for row in kept.select(["id", "url", "source", "input_file"]).to_pylist():
        assert (
            row["url"] == urls[row["id"]] and row["source"] == "debian-docs" and row["input_file"].endswith("web.jsonl")
        )
    reasons = set(rejected.column("reason").to_pylist())
    assert "license_filter: unknown_license" in reasons
    step = next(s for s in manifest["steps"] if s["name"] == "license")
    assert step["counters"]["detected.license_text"] >= kept.num_rows - step["counters"].get("detected.spdx_header", 0)
