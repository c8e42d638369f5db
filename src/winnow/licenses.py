"""Licence vocabulary and detection: SPDX ids, name normalisation, licences found in text and metadata.

The core of the ``license`` step (``winnow.steps.license``, which documents the evidence kinds), kept
beside the record schema because readers need it too: the ``git`` reader names a repository's licence
from its LICENSE/COPYING files with the same detection the step applies to records.
"""

from __future__ import annotations

import re
from typing import Any

from winnow.records import UNKNOWN_LICENSE

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
    r"|available under|distributed under|published under|under the terms of|Permission is hereby granted|Permission to use, copy"
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
