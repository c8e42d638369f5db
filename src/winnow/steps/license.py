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
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field, field_validator

from winnow.manifest import RENAMED, RENAMED_TO, Section
from winnow.records import UNKNOWN_LICENSE, decode_meta, with_column
from winnow.steps.base import Step, StepParams
from winnow.steps.registry import register

# SPDX ids we normalise to (case-insensitive lookup); others pass through when they look like SPDX.
SPDX_IDS = """0BSD AFL-3.0 AGPL-3.0-only AGPL-3.0-or-later Apache-1.1 Apache-2.0 APSL-2.0 Artistic-1.0 Artistic-2.0
BSD-1-Clause BSD-2-Clause BSD-3-Clause BSD-4-Clause BSL-1.0 CC-BY-1.0 CC-BY-2.0 CC-BY-2.5 CC-BY-3.0 CC-BY-4.0
CC-BY-NC-2.0 CC-BY-NC-3.0 CC-BY-NC-4.0 CC-BY-NC-ND-3.0 CC-BY-NC-ND-4.0 CC-BY-NC-SA-2.0 CC-BY-NC-SA-3.0
CC-BY-NC-SA-4.0 CC-BY-ND-3.0 CC-BY-ND-4.0 CC-BY-SA-2.0 CC-BY-SA-2.5 CC-BY-SA-3.0 CC-BY-SA-4.0 CC0-1.0 CDDL-1.0
CDDL-1.1 CECILL-2.1 EPL-1.0 EPL-2.0 EUPL-1.1 EUPL-1.2 FTL GFDL-1.2-only GFDL-1.2-or-later GFDL-1.3-only
GFDL-1.3-or-later GPL-1.0-only GPL-1.0-or-later GPL-2.0-only GPL-2.0-or-later GPL-3.0-only GPL-3.0-or-later
HPND ICU IJG ISC LGPL-2.0-only LGPL-2.0-or-later LGPL-2.1-only LGPL-2.1-or-later LGPL-3.0-only LGPL-3.0-or-later
LPPL-1.3c MIT MIT-0 MPL-1.1 MPL-2.0 MS-PL MS-RL NCSA ODbL-1.0 ODC-By-1.0 OFL-1.1 OpenSSL PDDL-1.0 PHP-3.01
PostgreSQL PSF-2.0 Python-2.0 Ruby Sleepycat TCL Unicode-DFS-2016 Unlicense UPL-1.0 Vim W3C WTFPL X11 Zlib ZPL-2.1
LLVM-exception Classpath-exception-2.0 GCC-exception-3.1""".split()
_CANONICAL = {s.lower(): s for s in SPDX_IDS}

# Common names and old SPDX forms -> SPDX (keys: lower case, runs of space/_ as one space).
ALIASES = {
    "mit license": "MIT", "the mit license": "MIT", "expat": "MIT", "mit/x11": "MIT",
    "apache": "Apache-2.0", "apache 2": "Apache-2.0", "apache 2.0": "Apache-2.0", "apache-2": "Apache-2.0",
    "apache license 2.0": "Apache-2.0", "apache license, version 2.0": "Apache-2.0", "apache license version 2.0": "Apache-2.0",
    "asl 2.0": "Apache-2.0", "apache2": "Apache-2.0", "apache software license": "Apache-2.0",
    "bsd": "BSD-3-Clause", "bsd license": "BSD-3-Clause", "bsd-3": "BSD-3-Clause", "bsd 3-clause": "BSD-3-Clause",
    "new bsd": "BSD-3-Clause", "modified bsd": "BSD-3-Clause", "bsd-2": "BSD-2-Clause", "bsd 2-clause": "BSD-2-Clause",
    "simplified bsd": "BSD-2-Clause", "freebsd": "BSD-2-Clause",
    "gpl": "GPL-2.0-or-later", "gplv2": "GPL-2.0-only", "gpl-2": "GPL-2.0-only", "gpl2": "GPL-2.0-only",
    "gpl-2.0": "GPL-2.0-only", "gpl-2+": "GPL-2.0-or-later", "gpl-2.0+": "GPL-2.0-or-later", "gplv2+": "GPL-2.0-or-later",
    "gplv3": "GPL-3.0-only", "gpl-3": "GPL-3.0-only", "gpl3": "GPL-3.0-only", "gpl-3.0": "GPL-3.0-only",
    "gpl-3+": "GPL-3.0-or-later", "gpl-3.0+": "GPL-3.0-or-later", "gplv3+": "GPL-3.0-or-later",
    "lgpl": "LGPL-2.1-or-later", "lgpl-2": "LGPL-2.0-only", "lgpl-2+": "LGPL-2.0-or-later", "lgpl-2.1": "LGPL-2.1-only",
    "lgpl-2.1+": "LGPL-2.1-or-later", "lgplv2.1": "LGPL-2.1-only", "lgplv2.1+": "LGPL-2.1-or-later",
    "lgpl-3": "LGPL-3.0-only", "lgpl-3.0": "LGPL-3.0-only", "lgpl-3+": "LGPL-3.0-or-later", "lgplv3": "LGPL-3.0-only",
    "lgpl-3.0+": "LGPL-3.0-or-later", "lgplv3+": "LGPL-3.0-or-later",
    "agpl-3": "AGPL-3.0-only", "agpl-3.0": "AGPL-3.0-only", "agplv3": "AGPL-3.0-only", "agpl-3+": "AGPL-3.0-or-later",
    "agpl-3.0+": "AGPL-3.0-or-later",
    "gfdl-1.2": "GFDL-1.2-only", "gfdl-1.2+": "GFDL-1.2-or-later", "gfdl-1.3": "GFDL-1.3-only", "gfdl-1.3+": "GFDL-1.3-or-later",
    "mpl 2.0": "MPL-2.0", "mpl2": "MPL-2.0", "mozilla public license 2.0": "MPL-2.0",
    "psf": "PSF-2.0", "psf license": "PSF-2.0", "python": "PSF-2.0", "python software foundation license": "PSF-2.0",
    "boost": "BSL-1.0", "boost software license": "BSL-1.0", "bsl": "BSL-1.0", "boost software license 1.0": "BSL-1.0",
    "postgresql license": "PostgreSQL", "zlib license": "Zlib", "zlib/libpng": "Zlib", "isc license": "ISC",
    "public domain": "LicenseRef-public-domain", "public-domain": "LicenseRef-public-domain",
    "cc0": "CC0-1.0", "cc0 1.0": "CC0-1.0", "cc-0": "CC0-1.0", "the unlicense": "Unlicense", "wtfpl": "WTFPL",
    "eclipse public license 2.0": "EPL-2.0", "epl": "EPL-1.0", "cddl": "CDDL-1.0", "artistic": "Artistic-1.0",
    "perl": "Artistic-1.0 OR GPL-1.0-or-later", "gpl-1": "GPL-1.0-only", "gpl-1+": "GPL-1.0-or-later",
    "gpl-1.0+": "GPL-1.0-or-later", "classpath exception": "Classpath-exception-2.0",
    # as Debian writes the OpenJDK licence
    "gpl2 with classpath exception": "GPL-2.0-only WITH Classpath-exception-2.0",
    "gpl-2 with classpath exception": "GPL-2.0-only WITH Classpath-exception-2.0",
    "gplv2 with classpath exception": "GPL-2.0-only WITH Classpath-exception-2.0",
    "gpl-2.0 with classpath exception": "GPL-2.0-only WITH Classpath-exception-2.0",
    "ofl": "OFL-1.1", "sil ofl 1.1": "OFL-1.1", "odbl": "ODbL-1.0",
}  # fmt: skip
LICENSE_REF = re.compile(r"^LicenseRef-[A-Za-z0-9.-]+$")
CC_NAME = re.compile(
    r"^(?:creative commons |cc[- ]?)(by(?:[- ](?:nc|sa|nd)){0,2})[- ]?(\d\.\d)?(?: international| unported)?$", re.I
)
CC_URL = re.compile(
    r"creativecommons\.org/(?:licenses/(by(?:-(?:nc|sa|nd)){0,2})/(\d\.\d)|publicdomain/(zero)/1\.0)", re.I
)
SPDX_URL = re.compile(r"(?:spdx\.org/licenses/|opensource\.org/licenses?/)([A-Za-z0-9.+-]+?)(?:\.html|\.php)?/?$", re.I)
OPERATORS = {"and": "AND", "or": "OR", "with": "WITH"}
# Links to licence texts that pages use instead of rel=license (seen in the Debian documentation corpus).
LICENSE_URLS = [
    (re.compile(r"apache\.org/licenses/LICENSE-2\.0", re.I), "Apache-2.0"),
    (re.compile(r"boost\.org/LICENSE_1_0\.txt", re.I), "BSL-1.0"),
    (re.compile(r"gnu\.org/licenses/(?:old-licenses/)?(a?gpl|lgpl|fdl)-?(\d\.\d)", re.I), None),
    (re.compile(r"opensource\.org/licenses/bsd-license", re.I), "BSD-2-Clause"),
    (re.compile(r"mozilla\.org/(?:en-US/)?MPL/2\.0", re.I), "MPL-2.0"),
]
# Counter keys "renamed.<licence as read> -> <licence set>" (winnow.manifest.RENAMED): the manifest records
# every renaming, and Manifest.renamings() reads them back for the report and the card.

SPDX_TOKEN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+-]*$")


def _cc(kind: str, version: str | None) -> str:
    return f"CC-{kind.upper().replace(' ', '-')}-{version or '4.0'}"


def normalize_license(value: str | None) -> str | None:
    """An SPDX id or expression for a licence name, URL or expression; None when not recognised."""
    if value is None:
        return None
    text = " ".join(value.replace("_", " ").split()).strip().strip(".;,")
    if not text:
        return None
    key = text.lower()
    if key in (UNKNOWN_LICENSE, "none", "n/a", "other", "noassertion"):
        return None
    if key in _CANONICAL:
        return _CANONICAL[key]
    if key in ALIASES:
        return ALIASES[key]
    if LICENSE_REF.match(text):
        return text
    raw = value.strip()  # URLs as written (underscores matter: LICENSE_1_0.txt)
    m = CC_URL.search(raw)
    if m:
        return "CC0-1.0" if m.group(3) else _cc(m.group(1), m.group(2))
    m = CC_NAME.match(text)
    if m:
        return _cc(m.group(1), m.group(2))
    m = SPDX_URL.search(raw)
    if m:
        return normalize_license(m.group(1))
    for pattern, spdx in LICENSE_URLS:
        m = pattern.search(raw)
        if m:
            if spdx is None:  # a GNU licence: the family and version are in the URL
                family = {"gpl": "GPL", "agpl": "AGPL", "lgpl": "LGPL", "fdl": "GFDL"}[m.group(1).lower()]
                return f"{family}-{m.group(2)}-only" if f"{family}-{m.group(2)}-only".lower() in _CANONICAL else None
            return spdx
    if key.endswith(("+", " or later", " or-later")):  # "GPL-2.0 or later"
        base = normalize_license(re.sub(r"(\+| or[ -]later)$", "", text, flags=re.I))
        if base and base.endswith("-only"):
            return base.removesuffix("-only") + "-or-later"
    # an expression: "MIT OR Apache-2.0", "(GPL-2.0+ AND BSD-3-Clause)", "Apache-2.0 WITH LLVM-exception"
    tokens = re.findall(r"\(|\)|[^\s()]+", text)
    if any(t.lower() in OPERATORS for t in tokens):
        parts: list[str] = []
        for token in tokens:
            if token in "()":
                parts.append(token)
            elif token.lower() in OPERATORS:
                parts.append(OPERATORS[token.lower()])
            else:
                symbol = normalize_license(token)
                if symbol is None or " " in symbol:
                    return None
                parts.append(symbol)
        return " ".join(parts).replace("( ", "(").replace(" )", ")")
    return None


# -- detection in the data ---------------------------------------------------------------------------------
SPDX_HEADER = re.compile(r"SPDX-License-Identifier:\s*([A-Za-z0-9.+\-() ]+?)\s*(?:\*/|-->|#|\"|$)", re.M)
HTML_LICENSE_LINK = re.compile(
    r"<(?:a|link)\b[^>]*?\brel\s*=\s*[\"']?[^\"'>]*\blicense\b[^>]*>", re.I
)  # the whole tag; its href is read below
HREF = re.compile(r"\bhref\s*=\s*[\"']?([^\"'\s>]+)", re.I)
CC_MENTION = re.compile(
    r"\b(?:licen[cs]ed|available|distributed|released|published)\s+under\s+(?:the\s+|a\s+)?"
    r"(?:Creative Commons\s+|CC[- ])(Attribution(?:[- ](?:NonCommercial|ShareAlike|NoDerivatives|NoDerivs)){0,2}|"
    r"BY(?:[- ](?:NC|SA|ND)){0,2})[- ]?(?:License\s+)?(\d\.\d)?",
    re.I,
)
_CC_WORDS = {"attribution": "by", "noncommercial": "nc", "sharealike": "sa", "noderivatives": "nd", "noderivs": "nd"}

# (SPDX id, pattern) in order: the first that matches wins, so the more specific texts come first.
_ANY = r"[\s\S]{0,400}?"
LICENSE_TEXTS: list[tuple[str, re.Pattern[str]]] = [
    (spdx, re.compile(pattern, re.I))
    for spdx, pattern in [
        ("AGPL-3.0-or-later", r"GNU Affero General Public License" + _ANY + r"version 3" + _ANY + r"any later version"),
        ("AGPL-3.0-only", r"under the terms of the GNU Affero General Public License" + _ANY + r"version 3"),
        ("LGPL-2.1-or-later", r"GNU Lesser General Public" + _ANY + r"version 2\.1" + _ANY + r"any later version"),
        ("LGPL-3.0-or-later", r"GNU Lesser General Public" + _ANY + r"version 3" + _ANY + r"any later version"),
        ("LGPL-2.0-or-later", r"GNU Library General Public" + _ANY + r"version 2" + _ANY + r"any later version"),
        ("GPL-2.0-or-later", r"under the terms of the GNU General Public License" + _ANY + r"version 2" + _ANY + r"any later version"),
        ("GPL-3.0-or-later", r"under the terms of the GNU General Public License" + _ANY + r"version 3" + _ANY + r"any later version"),
        ("GPL-2.0-only", r"under the terms of the GNU General Public License version 2 as published"),
        ("GPL-3.0-only", r"under the terms of the GNU General Public License version 3 as published"),
        ("Apache-2.0", r"Licensed under the Apache License,? Version 2\.0"),
        ("MPL-2.0", r"subject to the terms of the Mozilla Public\s+License, v\. 2\.0"),
        ("MIT", r"Permission is hereby granted, free of charge, to any person obtaining a copy"),
        ("ISC", r"Permission to use, copy, modify, and(?:/or)? distribute this software for any\s+purpose with or without fee"),
        ("BSD-3-Clause", r"Redistribution and use in source and binary forms" + _ANY + r"Neither the name"),
        ("BSD-2-Clause", r"Redistribution and use in source and binary forms, with or without\s+modification, are permitted provided that the following conditions\s+are met:"),
        ("BSL-1.0", r"Boost Software License,? (?:-\s+)?Version 1\.0"),
        ("Zlib", r"This software is provided 'as-is', without any express or implied\s+warranty\." + _ANY + r"Permission is granted to anyone to use this software for any purpose"),
        ("PSF-2.0", r"PYTHON SOFTWARE FOUNDATION LICENSE VERSION 2"),
        ("Unlicense", r"This is free and unencumbered software released into the public domain"),
        ("CC0-1.0", r"CC0 1\.0 Universal"),
    ]
]  # fmt: skip
# Cheap pre-check (Arrow RE2, over the whole batch): only texts with one of these go through the patterns.
DETECT_PRECHECK = (
    r"SPDX-License-Identifier|(?i:creativecommons\.org|rel\s*=\s*[\"']?[^\"'>]*license|licen[cs]ed|released under"
    r"|available under|distributed under|published under|Permission is hereby granted|Permission to use, copy"
    r"|Redistribution and use|Boost Software License|PYTHON SOFTWARE FOUNDATION|free and unencumbered|CC0 1\.0"
    r"|provided 'as-is')"
)
META_KEYS = ("license", "licence", "license_name", "spdx", "spdx_id", "rights")


def detect_in_text(text: str) -> tuple[str, str] | None:
    """(SPDX id, evidence) of the licence a text declares or contains, strongest evidence first."""
    m = SPDX_HEADER.search(text)
    if m:
        value = m.group(1).strip()
        # an id in an SPDX header is taken as written even when our table does not know it (FSFAP, …)
        spdx = normalize_license(value) or (value if SPDX_TOKEN.match(value) else None)
        if spdx:
            return spdx, "spdx_header"
    for tag in HTML_LICENSE_LINK.finditer(text):
        href = HREF.search(tag.group())
        spdx = normalize_license(href.group(1)) if href else None
        if spdx:
            return spdx, "html_link"
    m = CC_URL.search(text)
    if m:
        return ("CC0-1.0" if m.group(3) else _cc(m.group(1), m.group(2))), "html_link"
    m = CC_MENTION.search(text)
    if m:
        words = re.split(r"[- ]", m.group(1).lower())
        return _cc("-".join(_CC_WORDS.get(w, w) for w in words), m.group(2)), "cc_mention"
    for spdx, pattern in LICENSE_TEXTS:
        if pattern.search(text):
            return spdx, "license_text"
    return None


def detect_in_meta(meta: dict[str, Any]) -> str | None:
    for key in META_KEYS:
        value = meta.get(key)
        if isinstance(value, str):
            spdx = normalize_license(value)
            if spdx:
                return spdx
    for hint in meta.get("license_hints") or ():
        if isinstance(hint, str):
            spdx = normalize_license(hint)
            if spdx:
                return spdx
    return None


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
