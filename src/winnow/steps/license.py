"""Licences: normalise the declared licence to SPDX, detect licences in the data, filter by allow/deny lists.

``license`` fills the ``license`` column with an SPDX identifier (or an SPDX expression such as
``MIT OR Apache-2.0``; ``unknown`` when nothing is known) and records what it found in the data:

* ``license.detected``: the SPDX id found in the record itself, or null;
* ``license.evidence``: where it was found, the strongest first:
  ``spdx_header`` (an ``SPDX-License-Identifier:`` line), ``meta`` (a declared licence in the record's
  metadata: ``license``/``licence``/``spdx`` keys, or the ``license_hints`` html_extract keeps: rel=license
  links, Creative Commons links, ``<meta name=license>``), ``html_link`` (a ``rel="license"`` or Creative
  Commons link in HTML text), ``cc_mention`` ("licensed under CC BY-SA 4.0"), ``license_text`` (the
  grant or the text of a well-known licence: MIT, Apache-2.0, GPL/LGPL/AGPL with their versions and "or
  any later version", BSD-2/3-Clause, MPL-2.0, ISC, Zlib, BSL-1.0, PSF-2.0, Unlicense, CC0).

A licence declared by the input (``input.license``, or a licence field of the data) is kept, normalised,
unless ``prefer: detected``; a record without one gets the detected licence. Names are normalised by an
alias table (``Apache 2.0``, ``GPLv2+``, ``BSD 3-clause``, ``CC BY-SA 4.0``, licence URLs…); a
declared name that is not recognised becomes ``unknown`` and is kept verbatim in ``license.declared``.

Mentions of a licence in documentation ("see the GNU General Public License") are *not* detections:
only grant sentences and licence texts count.
"""

from __future__ import annotations

import re
from typing import Literal

import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field, field_validator

from winnow.licenses import DETECT_PRECHECK, detect_in_meta, detect_in_text, normalize_license
from winnow.manifest import RENAMED, RENAMED_TO, Section
from winnow.records import UNKNOWN_LICENSE, decode_meta, with_column
from winnow.steps.base import Step, StepParams
from winnow.steps.registry import register


# SPDX ids we normalise to (case-insensitive lookup); others pass through when they look like SPDX.
@register
class License(Step):
    """Normalise the licence to SPDX and detect licences in the data (SPDX headers, licence texts, rel=license/CC links, metadata)."""

    name = "license"
    report_section = Section.LICENSE
    requires = ("text", "license", "meta")
    produces = ("license.detected", "license.evidence", "license.declared")

    class Params(StepParams):
        prefer: Literal["declared", "detected"] = Field(
            "declared",
            description="which licence goes to the license column when the input declares one and the data shows another",
        )
        detect: bool = Field(True, description="look for licences in the text and metadata")
        max_chars: int = Field(
            200_000, gt=0, description="characters of each text searched (licence headers sit at the start or the end)"
        )

    def transform(self, batch: pa.Table) -> pa.Table:
        declared_raw = batch.column("license").to_pylist()
        metas = batch.column("meta").to_pylist()
        texts = batch.column("text")
        if self.params.detect:
            maybe = pc.match_substring_regex(texts, DETECT_PRECHECK).fill_null(False).to_pylist()
            text_list = texts.to_pylist()
        licenses, detected, evidence, declared_out = [], [], [], []
        limit = self.params.max_chars
        for i, raw in enumerate(declared_raw):
            declared = normalize_license(raw)
            if raw not in (None, UNKNOWN_LICENSE) and declared is None:
                self.counters["declared_unrecognised"] += 1
            found: tuple[str, str] | None = None
            if self.params.detect:
                meta = decode_meta(metas[i]) if metas[i] else {}
                from_meta = detect_in_meta(meta) if meta else None
                if maybe[i]:
                    text = text_list[i]
                    if len(text) > 2 * limit:  # licence statements sit at the start or the end of a file
                        text = text[:limit] + "\n" + text[-limit:]
                    found = detect_in_text(text)
                if from_meta and (found is None or found[1] != "spdx_header"):
                    found = (from_meta, "meta")
            if found:
                self.counters[f"detected.{found[1]}"] += 1
            if declared and (self.params.prefer == "declared" or not found):
                licenses.append(declared)
            else:
                licenses.append(found[0] if found else UNKNOWN_LICENSE)
            if declared and declared != raw:
                self.counters["normalised"] += 1
            if raw != licenses[-1]:  # the report shows what each licence name became
                self.counters[f"{RENAMED}{raw or UNKNOWN_LICENSE}{RENAMED_TO}{licenses[-1]}"] += 1
            detected.append(found[0] if found else None)
            evidence.append(found[1] if found else None)
            declared_out.append(raw if raw not in (None, UNKNOWN_LICENSE) else None)
        batch = with_column(batch, "license", pa.array(licenses, pa.string()))
        batch = with_column(batch, self.tag("detected"), pa.array(detected, pa.string()))
        batch = with_column(batch, self.tag("evidence"), pa.array(evidence, pa.string()))
        return with_column(batch, self.tag("declared"), pa.array(declared_out, pa.string()))


def license_ids(expression: str) -> list[list[str]]:
    """An SPDX expression as alternatives (OR) of required ids (AND); ``WITH`` exceptions stay on their id.
    Parentheses are flattened, which is exact for the common shapes (A OR B, A AND B, (A OR B) AND C)."""
    alternatives: list[list[str]] = [[]]
    tokens = re.findall(r"\(|\)|[^\s()]+", expression)
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token == "OR":
            alternatives.append([])
        elif token == "WITH" and i + 1 < len(tokens) and alternatives[-1]:
            alternatives[-1][-1] += f" WITH {tokens[i + 1]}"
            i += 1
        elif token not in ("(", ")", "AND"):
            alternatives[-1].append(token)
        i += 1
    return [a for a in alternatives if a]


@register
class LicenseFilter(Step):
    """Keep records whose licence is allowed (allow list) and not denied (deny list); drops name the licence."""

    name = "license_filter"
    requires = ("license",)

    class Params(StepParams):
        allow: list[str] | None = Field(
            None,
            description="SPDX ids to keep (names are normalised: 'Apache 2.0' is Apache-2.0); null: all not denied",
        )
        deny: list[str] = Field([], description="SPDX ids to drop")
        keep_unknown: bool = Field(False, description="keep records whose licence is unknown")

        @field_validator("allow", "deny")
        @classmethod
        def _spdx(cls, value: list[str] | None) -> list[str] | None:
            if value is None:
                return None
            out = []
            for name in value:
                spdx = normalize_license(name)
                if spdx is None:
                    raise ValueError(f"not a licence name or SPDX id: {name!r}")
                out.append(spdx)
            return out

    def reasons(self, batch: pa.Table) -> list[str | None]:
        allow = set(self.params.allow) if self.params.allow is not None else None
        deny = set(self.params.deny)
        out: list[str | None] = []
        for value in batch.column("license").to_pylist():
            spdx = normalize_license(value) if value else None
            if spdx is None:
                out.append(None if self.params.keep_unknown else "unknown_license")
                continue
            alternatives = license_ids(spdx)
            # a record may be used under any one alternative whose every licence passes
            # (a licence with an exception, "Apache-2.0 WITH LLVM-exception", is judged by its licence)
            alternatives = [[x.split(" WITH ", 1)[0] for x in a] for a in alternatives]
            usable = [
                a
                for a in alternatives
                if not any(x in deny for x in a) and (allow is None or all(x in allow for x in a))
            ]
            if usable:
                out.append(None)
            elif any(x in deny for a in alternatives for x in a):
                out.append(f"denied:{spdx}")
            else:
                out.append(f"not_allowed:{spdx}")
        return out
