"""Personal data and secrets: find them, then tag, redact or pseudonymise them.

What the default detects (regular expressions compiled once, a cheap pre-check per type, then a
validation that rules out look-alikes):

========================  =================================================================
EMAIL                     ``local@domain.tld`` (IDN ``xn--`` domains too)
PHONE                     international ``+CC …`` numbers validated by ``phonenumbers``; North
                          American ``(555) 123-4567`` / ``555-123-4567``; any other digit group
                          pattern (6-15 digits) only with a phone word on the same line
                          (``phone``, ``tel``, ``fax``, ``mobile``, ``call``, ``office``…)
IP_ADDRESS                IPv4 and IPv6 (compressed, zone ids, IPv4-mapped), checked by ``ipaddress``
CREDIT_CARD               13-19 digits, optional space/dash groups, Luhn-checked, known card prefixes
IBAN                      country code + check digits + BBAN, length per country, mod-97 checked
US_SSN                    ``AAA-GG-SSSS`` (``-``, ``.`` or space, consistent), invalid areas/groups excluded
AWS_KEY                   access key ids (``AKIA…``) and ``aws_secret_access_key = …`` values
GITHUB_TOKEN              ``ghp_/gho_/ghu_/ghs_/ghr_…`` and ``github_pat_…``
GITLAB_TOKEN              ``glpat-…``
SLACK_TOKEN               ``xoxb-/xoxp-/…`` tokens and ``hooks.slack.com`` webhooks
OPENAI_KEY                ``sk-…`` keys (legacy ``T3BlbkFJ`` keys, ``sk-proj-``/``sk-svcacct-``)
PRIVATE_KEY               PEM ``-----BEGIN … PRIVATE KEY-----`` blocks, whole
JWT                       ``eyJ….eyJ….sig``
URL_PASSWORD              the password in ``scheme://user:password@host``
========================  =================================================================

Not detected by default: person names, postal addresses, dates of birth, national ids other than the
US SSN. Names and places need a language model; none is bundled (nothing is downloaded at run time).
``ner_model`` points at a local spaCy pipeline (e.g. an unpacked ``en_core_web_sm``): its PERSON
entities become ``PERSON`` spans and its GPE/LOC/FAC entities ``LOCATION`` spans; pattern types win
where the two overlap.

Modes: ``tag`` leaves the text alone and lists the spans; ``redact`` replaces each span with
``<TYPE>``; ``hash`` replaces it with ``<TYPE:pseudonym>``, where the pseudonym is a keyed hash
(HMAC-SHA256) of the normalised value, so the same address always gets the same pseudonym within
a run — and across runs and resumes that use the same key. The key comes from the environment
variable named by ``salt_env`` and must be set in hash mode (the run fails before reading data
otherwise): a random key drawn per run would give a resumed run other pseudonyms than its first
part, and a key stored beside the output would travel with it. The key is never a recipe
parameter, so it never lands in the manifest.

The ``pii.spans`` column is a list of ``{type, start, end}`` structs: character offsets into the
record's text *as the step emits it* (the original text in ``tag`` mode; the placeholders in
``redact`` and ``hash`` modes).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field, field_validator

from winnow.errors import RecipeError
from winnow.manifest import Section
from winnow.records import with_column
from winnow.steps.base import Step, StepParams
from winnow.steps.registry import register

Span = tuple[int, int, str]  # start, end, type

SECRET_TYPES = (
    "AWS_KEY",
    "GITHUB_TOKEN",
    "GITLAB_TOKEN",
    "SLACK_TOKEN",
    "OPENAI_KEY",
    "PRIVATE_KEY",
    "JWT",
    "URL_PASSWORD",
)
ALL_TYPES = ("EMAIL", "PHONE", "IP_ADDRESS", "CREDIT_CARD", "IBAN", "US_SSN", *SECRET_TYPES)
# When two detections overlap, the one listed first wins (a private key block beats the e-mail
# inside it; an IBAN beats the digit run a phone pattern would also take).
# Types found by an optional local named-entity model (``ner_model``), from its entity labels.
NER_LABELS = {"PERSON": "PERSON", "PER": "PERSON", "GPE": "LOCATION", "LOC": "LOCATION", "FAC": "LOCATION"}
NER_TYPES = ("PERSON", "LOCATION")
PRIORITY = {
    t: i
    for i, t in enumerate(
        (*SECRET_TYPES, "EMAIL", "IBAN", "CREDIT_CARD", "US_SSN", "IP_ADDRESS", "PHONE", "PERSON", "LOCATION")
    )
}

SPAN_TYPE = pa.list_(pa.struct([("type", pa.string()), ("start", pa.int32()), ("end", pa.int32())]))

# ---------------------------------------------------------------------------------------------
# E-mail: scanning for a literal "@" is fast; the local part is found by walking left from it.
EMAIL_DOMAIN = re.compile(
    r"@((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+(?:[A-Za-z]{2,24}|xn--[A-Za-z0-9-]{2,59}))(?![\w-]|\.\w)"
)
EMAIL_LOCAL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._%+-'")


def find_emails(text: str) -> Iterator[Span]:
    if "@" not in text:
        return
    for m in EMAIL_DOMAIN.finditer(text):
        at = m.start()
        start = at
        while start > 0 and text[start - 1] in EMAIL_LOCAL_CHARS:
            start -= 1
        while start < at and text[start] in ".'-":  # a local part does not start with these
            start += 1
        if start < at:
            yield start, m.end(), "EMAIL"


# ---------------------------------------------------------------------------------------------
# IP addresses: a loose candidate pattern, then the standard library decides.
# Patterns that must not start inside a word begin with the character class and check the character
# before it in a lookbehind placed *after* it: a leading lookbehind would stop ``re`` from skipping
# ahead to the next digit (3x slower).
IPV4 = re.compile(r"\d(?<![\w.]\d)\d{0,2}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?!\w|\.\d)", re.ASCII)
# "8.5.1.1. Tuples": a section number, not an address
SECTION_NUMBER = re.compile(r"(?:\d\.){3}\d{1,2}\.(?:\s|$)", re.ASCII)
IPV6_CANDIDATE = re.compile(r"(?<![\w:.])[0-9A-Fa-f]{0,4}:[0-9A-Fa-f]{0,4}:[0-9A-Fa-f:.]*(?:%[A-Za-z0-9]+)?")
IPV6_HINT = re.compile(r":[0-9A-Fa-f]{0,4}:")  # starts with a literal ":": fast to scan for


def _valid_ipv4(value: str) -> bool:
    parts = value.split(".")
    # Leading zeros ("010") are ambiguous (octal in some parsers): not an address.
    return all(int(p) <= 255 and (p == "0" or not p.startswith("0")) for p in parts)


def find_ipv4(text: str, lo: int = 0, hi: int | None = None) -> Iterator[Span]:
    for m in IPV4.finditer(text, lo, len(text) if hi is None else hi):
        if _valid_ipv4(m.group()) and not SECTION_NUMBER.match(text, m.start()):
            yield m.start(), m.end(), "IP_ADDRESS"


def find_ipv6(text: str) -> Iterator[Span]:
    for lo, hi in _merge((h.start() - 40, h.end() + 45) for h in IPV6_HINT.finditer(text)):
        yield from _find_ipv6_in(text, max(lo, 0), min(hi, len(text)))


def _find_ipv6_in(text: str, lo: int, hi: int) -> Iterator[Span]:
    for m in IPV6_CANDIDATE.finditer(text, lo, hi):
        value = m.group()
        end = m.end()
        while value and value[-1] in ".:" and value[-2:] != "::":  # sentence punctuation after it
            value, end = value[:-1], end - 1
        if value.count(":") < 2 or not any(c in "0123456789abcdefABCDEF" for c in value.split("%")[0]):
            continue
        if end < len(text) and (text[end].isalnum() or text[end] == "_"):
            continue  # "fe80::1text", "<T>::Error": part of a word
        try:
            ipaddress.IPv6Address(value)
        except ValueError:
            continue
        yield m.start(), end, "IP_ADDRESS"


# ---------------------------------------------------------------------------------------------
# Credit cards: digit groups, then Luhn and the issuer prefixes that exist.
CARD_CANDIDATE = re.compile(r"\d(?<![\w.,-]\d)(?:[ -]?\d){11,18}(?![\w-]|[.,]\d)", re.ASCII)
# Visa 4, Mastercard 51-55/22-27, Amex 34/37, Diners 30/36/38, JCB 35/1800/2131, Discover 6, Maestro 50/56-69.
CARD_PREFIX = re.compile(r"^(?:4|5[0-9]|2[2-7]|3[0-8]|6|1800|2131)")
MAESTRO_PREFIX = re.compile(r"^(?:50|5[6-9]|6)")
# With separators, a card is printed in its issuer's groups: 4-4-4-4(-3), Amex 4-6-5, Diners 4-6-4.
CARD_GROUPS = re.compile(
    r"^\d{4}(?:(?P<sep>[ -])\d{4}(?P=sep)\d{4}(?P=sep)\d{1,7}|(?P<sep2>[ -])\d{6}(?P=sep2)\d{4,5})$"
)


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = ord(c) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def find_cards(text: str, lo: int = 0, hi: int | None = None) -> Iterator[Span]:
    for m in CARD_CANDIDATE.finditer(text, lo, len(text) if hi is None else hi):
        value = m.group()
        if ("-" in value or " " in value) and not CARD_GROUPS.match(value):
            continue  # digit groups of a table row or an id, not a card
        digits = value.replace(" ", "").replace("-", "")
        if len(digits) < 13 and not MAESTRO_PREFIX.match(digits):
            continue  # only Maestro cards are this short
        if CARD_PREFIX.match(digits) and luhn_ok(digits) and len(set(digits)) > 2:
            yield m.start(), m.end(), "CREDIT_CARD"


# ---------------------------------------------------------------------------------------------
# IBAN: ISO 13616 lengths per country, then the mod-97 check.
IBAN_LENGTH = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29,
    "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29,
    "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28,
    "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20,
    "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22,
    "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25,
    "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27,
    "ST": 25, "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}  # fmt: skip
# Scanned from the check digits (a digit class is fast to skip to), the country code checked behind them.
IBAN_CANDIDATE = re.compile(
    r"\d\d(?<=(?<![A-Za-z0-9])[A-Za-z]{2}\d\d)(?: ?[A-Za-z0-9]{4}){2,7}(?: ?[A-Za-z0-9]{1,3})?(?!\w)", re.ASCII
)


def iban_ok(compact: str) -> bool:
    compact = compact.upper()
    if IBAN_LENGTH.get(compact[:2]) != len(compact):
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def find_ibans(text: str, lo: int = 0, hi: int | None = None) -> Iterator[Span]:
    for m in IBAN_CANDIDATE.finditer(text, lo, len(text) if hi is None else hi):
        start = m.start() - 2
        if iban_ok(text[start : m.end()].replace(" ", "")):
            yield start, m.end(), "IBAN"


# ---------------------------------------------------------------------------------------------
# US social security numbers: formatted only (a bare 9-digit number is too often something else).
SSN = re.compile(r"(\d(?<![\w.-]\d)\d\d)([- .])(\d{2})\2(\d{4})(?![\w-]|\.\d)", re.ASCII)


def find_ssns(text: str, lo: int = 0, hi: int | None = None) -> Iterator[Span]:
    for m in SSN.finditer(text, lo, len(text) if hi is None else hi):
        area, group, serial = m.group(1), m.group(3), m.group(4)
        if area == "000" or area == "666" or area[0] == "9" or group == "00" or serial == "0000":
            continue
        yield m.start(), m.end(), "US_SSN"


# ---------------------------------------------------------------------------------------------
# Phone numbers. Digit groups are everywhere (versions, tables, dates), so a candidate counts as
# a phone number when its format is unmistakable (+CC validated by phonenumbers, or the North
# American (555) 123-4567 shape) or a phone word stands on the same line near it.
PHONE_CANDIDATE = re.compile(
    r"(?<![\w.+/-])(?:(?:\+|00)\d{1,3}[ .-]?(?:\(0\)[ ]?)?)?(?:\(\d{1,5}\)[ .-]?)?\d{1,12}(?:[ .-]\d{1,10}){0,6}"
    r"(?:[ ]?(?:x|ext\.?)[ ]?\d{1,6})?(?!\w|[.-]\d)",
    re.ASCII,
)
NANP = re.compile(
    r"^(?:\+?1[ .-]?|001[ .-])?(?:\([2-9]\d{2}\)[ ]?\d{3}-|[2-9]\d{2}(?P<sep>[-.])\d{3}(?P=sep))\d{4}"
    r"(?:[ ]?(?:x|ext\.?)[ ]?\d{1,6})?$"
)
# "… at 17031 2202 Rissik St": a number followed by a capitalised word is a street address.
STREET_AFTER = re.compile(r" [A-Z][a-z]{2,}")
RANGE_LIKE = re.compile(r"^\d{1,4}-\d{1,4}$")  # pages 203-215, years 1998-2004
DATE_LIKE = re.compile(r"^(?:\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{2,4})$")
PHONE_WORDS = re.compile(
    r"(?i)\b(?:phone|telephone|tel|ph|cell|mobile|mob|fax|call|calls|calling|dial|contact|reach|sms|whatsapp|"
    r"office|desk|answering|messages? to|hotline|helpline)\b",
    re.ASCII,
)
DIGIT = re.compile(r"\d")


def _phone_context(text: str, start: int, end: int) -> bool:
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line_end = len(text) if line_end < 0 else line_end
    # the phone word may stand on the line before ("Phone:\n555 1234")
    prev_line_start = text.rfind("\n", 0, max(line_start - 1, 0)) + 1 if line_start else 0
    before = text[max(prev_line_start, start - 50) : start]
    after = text[end : min(line_end, end + 20)]
    return bool(PHONE_WORDS.search(before) or PHONE_WORDS.search(after))


def find_phones(text: str, lo: int = 0, hi: int | None = None) -> Iterator[Span]:
    for m in PHONE_CANDIDATE.finditer(text, lo, len(text) if hi is None else hi):
        value = m.group()
        digits = sum(c.isdigit() for c in value)
        if digits < 6 or digits > 18 or DATE_LIKE.match(value) or RANGE_LIKE.match(value):
            continue
        if "." in value and (value.count(".") < 2 or " " in value):
            continue  # a decimal number ("291.865911", "3.003 251215"), not 930.167.3943
        if NANP.match(value):
            yield m.start(), m.end(), "PHONE"
        elif value.startswith("+") and _valid_international(value):
            yield m.start(), m.end(), "PHONE"
        elif (
            (" " in value or "-" in value or "." in value or "(" in value or digits >= 9)
            and not STREET_AFTER.match(text, m.end())
            and _phone_context(text, m.start(), m.end())
        ):
            yield m.start(), m.end(), "PHONE"


def _valid_international(value: str) -> bool:
    import phonenumbers  # the pii extra (imported once; later imports are a dictionary look-up)

    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_possible_number(number)


# ---------------------------------------------------------------------------------------------
# Secrets: each pattern has a literal marker, checked with ``in`` before the regex runs.
def _regex_finder(
    kind: str, marker: str | tuple[str, ...], pattern: str, group: int = 0
) -> Callable[[str], Iterator[Span]]:
    compiled = re.compile(pattern)
    markers = (marker,) if isinstance(marker, str) else marker

    def find(text: str) -> Iterator[Span]:
        if not any(mk in text for mk in markers):
            return
        for m in compiled.finditer(text):
            yield m.start(group), m.end(group), kind

    return find


SECRET_FINDERS: dict[str, list[Callable[[str], Iterator[Span]]]] = {
    "AWS_KEY": [
        _regex_finder(
            "AWS_KEY", ("AKIA", "ASIA", "ABIA", "ACCA", "A3T"), r"\b(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z0-9]{16}\b"
        ),
        _regex_finder(
            "AWS_KEY",
            ("ecret", "ECRET"),
            r"(?i)aws_?secret(?:_?access)?_?key[\"']?\s*[:=]\s*[\"']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])",
            group=1,
        ),
    ],
    "GITHUB_TOKEN": [
        _regex_finder("GITHUB_TOKEN", ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"), r"\bgh[pousr]_[A-Za-z0-9]{36,255}\b"),
        _regex_finder("GITHUB_TOKEN", "github_pat_", r"\bgithub_pat_[A-Za-z0-9_]{22,255}\b"),
    ],
    "GITLAB_TOKEN": [_regex_finder("GITLAB_TOKEN", "glpat-", r"\bglpat-[A-Za-z0-9_-]{20,}")],
    "SLACK_TOKEN": [
        _regex_finder("SLACK_TOKEN", "xox", r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
        _regex_finder("SLACK_TOKEN", "hooks.slack.com", r"https://hooks\.slack\.com/services/[A-Za-z0-9_/]+"),
    ],
    "OPENAI_KEY": [
        _regex_finder(
            "OPENAI_KEY",
            "sk-",
            r"\bsk-(?:(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,}|[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}|[A-Za-z0-9]{48})\b",
        )
    ],
    "PRIVATE_KEY": [
        _regex_finder(
            "PRIVATE_KEY",
            "PRIVATE KEY",
            r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----",
        )
    ],
    "JWT": [_regex_finder("JWT", "eyJ", r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")],
    "URL_PASSWORD": [
        _regex_finder(
            "URL_PASSWORD",
            "://",
            r"\b[A-Za-z][A-Za-z0-9+.-]{1,15}://[^\s:/@\"'<>]{1,64}:([^\s:/@\"'<>]{1,128})@[\w.-]+",
            group=1,
        )
    ],
}

# Finders that need a run of digits (>= 6 characters of digits and separators) only look inside the
# windows around such runs: one scan for the runs is cheaper than one scan per type.
NUMBER_RUN = re.compile(r"\d[\d ().+/-]{4,}\d", re.ASCII)
NUMBER_FINDERS: dict[str, Callable[[str, int, int], Iterator[Span]]] = {
    "PHONE": find_phones,
    "IP_ADDRESS": find_ipv4,
    "CREDIT_CARD": find_cards,
    "IBAN": find_ibans,
    "US_SSN": find_ssns,
}
# The finder groups a document can be sent through; ``detect_batch`` picks them per document.
GROUPS = ("NUMBERS", "PHONE_WORDS", "EMAIL", "IPV6", "SECRETS")


def _merge(windows: Iterator[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for lo, hi in windows:
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
        else:
            merged.append((lo, hi))
    return merged


def number_windows(text: str) -> list[tuple[int, int]]:
    """Stretches of text around digit runs: 34 characters before (an IBAN's country code and letters),
    12 after (a phone extension, the character that ends a match)."""
    n = len(text)
    return [
        (max(lo, 0), min(hi, n)) for lo, hi in _merge((m.start() - 34, m.end() + 12) for m in NUMBER_RUN.finditer(text))
    ]


def detect(text: str, types: tuple[str, ...] = ALL_TYPES, groups: tuple[str, ...] = GROUPS) -> list[Span]:
    """Every PII span of the given types in ``text``, sorted; where two overlap, the higher-priority type
    (then the longer span) wins. ``groups`` narrows which finder groups run (see ``detect_batch``)."""
    found: list[Span] = []
    if "NUMBERS" in groups:
        number_finders = [NUMBER_FINDERS[t] for t in types if t in NUMBER_FINDERS]
        if number_finders:
            for lo, hi in number_windows(text):
                for finder in number_finders:
                    found.extend(finder(text, lo, hi))
    elif "PHONE_WORDS" in groups and "PHONE" in types:
        # Only a phone number next to a phone word can be here (the pre-checks ruled out the other number
        # types and the telltale phone formats).
        for lo, hi in number_windows(text):
            found.extend(find_phones(text, lo, hi))
    if "EMAIL" in groups and "EMAIL" in types:
        found.extend(find_emails(text))
    if "IPV6" in groups and "IP_ADDRESS" in types:
        found.extend(find_ipv6(text))
    if "SECRETS" in groups:
        for kind in types:
            for finder in SECRET_FINDERS.get(kind, ()):
                found.extend(finder(text))
    if len(found) < 2:
        return found
    return _resolve_overlaps(found)


def _resolve_overlaps(found: list[Span]) -> list[Span]:
    # One sweep in text order: a span that overlaps the last kept one replaces it when it ranks higher
    # (type priority, then length). The same span found from two windows is dropped as an overlap.
    found.sort()
    kept: list[Span] = []
    for span in found:
        if kept and span[0] < kept[-1][1]:
            last = kept[-1]
            if (PRIORITY[span[2]], span[0] - span[1]) < (PRIORITY[last[2]], last[0] - last[1]):
                kept[-1] = span
        else:
            kept.append(span)
    return kept


# Per-document pre-checks, run over a whole batch at once by Arrow's RE2 (hundreds of MB/s): a finder
# group runs only on the documents whose pre-check matched. Each pattern matches wherever the finders'
# own candidate patterns could (a superset), so a pre-check never hides a detection.
NUMBER_PRECHECK = (
    r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}"  # IPv4
    r"|\d(?:[ -]?\d){11,18}"  # card
    r"|\d{3}[- .]\d{2}[- .]\d{4}"  # SSN
    r"|[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]{4}){2}"  # IBAN
    r"|(?:\(\d{3}\) ?|\d{3}[-.])\d{3}[-.]\d{4}"  # North American phone
)
_PHONE_WORD = "(?i:" + PHONE_WORDS.pattern.removeprefix("(?i)") + ")"
# a phone word up to 50 characters (and one line break) before a digit run, or up to 20 after it
PHONE_CONTEXT_PRECHECK = (
    f"{_PHONE_WORD}[^\\n]{{0,50}}\\n?[^\\n]{{0,50}}{NUMBER_RUN.pattern}|{NUMBER_RUN.pattern}[^\\n]{{0,20}}{_PHONE_WORD}"
)
SECRET_PRECHECK = (
    r"AKIA|ASIA|ABIA|ACCA|A3T|gh[pousr]_|github_pat_|glpat-|xox|hooks\.slack\.com|sk-|PRIVATE KEY|eyJ|[Ss]ecret|SECRET"
    r"|://[^\s:/@\"'<>]{1,64}:[^\s:/@\"'<>]{1,128}@"
)


def _mask(texts: pa.Array | pa.ChunkedArray, pattern: str, literal: bool = False) -> np.ndarray:
    hit = pc.match_substring(texts, pattern) if literal else pc.match_substring_regex(texts, pattern)
    return np.asarray(hit.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)


def detect_batch(texts: pa.Array | pa.ChunkedArray, types: tuple[str, ...] = ALL_TYPES) -> list[list[Span]]:
    """``detect`` over a column of texts; Arrow RE2 pre-checks decide which finder groups run on which text."""
    n = len(texts)
    masks: dict[str, np.ndarray] = {}
    if any(t in NUMBER_FINDERS for t in types):
        numbers = _mask(texts, NUMBER_PRECHECK)
        if "PHONE" in types:
            numbers |= _mask(texts, r"\+\d")
            # a phone number without a telltale format needs a phone word and a digit run in the document
            # the proximity pattern is slow in RE2: run it only where a phone word and a digit run both occur
            candidates = _mask(texts, _PHONE_WORD) & _mask(texts, NUMBER_RUN.pattern) & ~numbers
            near = np.zeros(n, dtype=bool)
            rows = np.flatnonzero(candidates)
            if len(rows):
                near[rows] = _mask(texts.take(pa.array(rows)), PHONE_CONTEXT_PRECHECK)
            masks["PHONE_WORDS"] = near
        masks["NUMBERS"] = numbers
    if "EMAIL" in types:
        masks["EMAIL"] = _mask(texts, "@", literal=True)
    if "IP_ADDRESS" in types:
        # two colons with hex digits between, not preceded by a word character ("std::cout" is not)
        masks["IPV6"] = _mask(texts, r"(?:^|[^\w:.])[0-9A-Fa-f]{0,4}:[0-9A-Fa-f]{0,4}:[0-9A-Fa-f:]")
    if any(t in SECRET_TYPES for t in types):
        masks["SECRETS"] = _mask(texts, SECRET_PRECHECK)
    if not masks:
        return [[] for _ in range(n)]
    any_hit = np.logical_or.reduce(list(masks.values()))
    out: list[list[Span]] = [[] for _ in range(n)]
    rows = np.flatnonzero(any_hit)
    if len(rows) == 0:
        return out
    picked = texts.take(pa.array(rows)).to_pylist()
    for row, text in zip(rows.tolist(), picked, strict=True):
        groups = tuple(g for g, m in masks.items() if m[row])
        out[row] = detect(text, types, groups)
    return out


def _is_public_ip(value: str) -> bool:
    try:
        return ipaddress.ip_address(value.split("%", 1)[0]).is_global
    except ValueError:
        return True


def normalise(kind: str, value: str) -> str:
    """The form of a value that is hashed: formatting differences do not make a new pseudonym."""
    if kind in ("PHONE", "CREDIT_CARD", "US_SSN"):
        return "".join(c for c in value if c.isdigit())
    if kind in ("EMAIL", "IBAN", "IP_ADDRESS"):
        return value.replace(" ", "").lower()
    return value


@register
class PII(Step):
    """Find personal data and secrets (e-mail, phone, IP, card, IBAN, SSN, API keys, private keys, JWTs); tag, redact or hash them."""

    name = "pii"
    needs = ("phonenumbers",)
    extra = "pii"
    report_section = Section.PII
    on_conversations = "contents"
    produces = ("pii.spans",)

    class Params(StepParams):
        mode: Literal["tag", "redact", "hash"] = Field(
            "redact",
            description="tag: list spans, leave the text; redact: replace with <TYPE>; hash: replace with <TYPE:pseudonym>",
        )
        types: list[str] = Field(
            list(ALL_TYPES),
            description=f"types to detect; 'SECRETS' stands for all secret types. Known: {', '.join(ALL_TYPES)}",
        )
        salt_env: str = Field(
            "WINNOW_PII_SALT",
            description="hash mode: the environment variable holding the secret key (required in hash mode)",
        )
        pseudonym_chars: int = Field(12, ge=8, le=64, description="hash mode: hex characters of each pseudonym")
        public_ips_only: bool = Field(
            False,
            description="leave private, loopback, link-local and documentation IP addresses alone (DataTrove's choice)",
        )
        ner_model: str | None = Field(
            None,
            description="optional: a local spaCy pipeline directory whose entities add PERSON and LOCATION spans "
            "(needs `pip install spacy` and a model on disk; nothing is downloaded)",
        )
        ner_types: list[Literal["PERSON", "LOCATION"]] = Field(
            ["PERSON", "LOCATION"], description="with ner_model: the entity types taken from the model"
        )
        ner_max_chars: int = Field(100_000, gt=0, description="with ner_model: characters of each text given to it")

        @field_validator("types")
        @classmethod
        def _known_types(cls, value: list[str]) -> list[str]:
            expanded: list[str] = []
            for t in value:
                names = SECRET_TYPES if t.upper() == "SECRETS" else (t.upper(),)
                for name in names:
                    if name not in ALL_TYPES:
                        raise ValueError(f"unknown PII type {t!r} (known: {', '.join(ALL_TYPES)}, SECRETS)")
                    if name not in expanded:
                        expanded.append(name)
            if not expanded:
                raise ValueError("types is empty")
            return expanded

    def __init__(self, **params):
        super().__init__(**params)
        self.types = tuple(self.params.types)
        # Read where the step is built (the driver), then pickled to every worker. Not a
        # parameter, so it never reaches the manifest.
        self._salt = os.environ.get(self.params.salt_env, "").encode()

    def check(self) -> None:
        if self.params.mode == "hash" and not self._salt:
            raise RecipeError(
                f"step 'pii': hash mode needs a secret key in the environment variable {self.params.salt_env} "
                f"(e.g. export {self.params.salt_env}=$(python -c 'import secrets; print(secrets.token_hex(32))')); "
                "keep it to get the same pseudonyms in later runs"
            )
        path = self.params.ner_model
        if path is None:
            return
        if not Path(path).is_dir():
            raise RecipeError(f"step 'pii': ner_model is not a spaCy pipeline directory: {path}")
        try:
            import spacy  # noqa: F401 - optional dependency, only with ner_model
        except ImportError:
            raise RecipeError("step 'pii': ner_model needs spaCy: pip install spacy") from None
        self._ner()

    def _ner(self):
        nlp = getattr(self, "_lazy_nlp", None)
        if nlp is None:
            import spacy

            try:
                nlp = spacy.load(self.params.ner_model)
            except (OSError, ValueError) as error:
                raise RecipeError(f"step 'pii': cannot load ner_model {self.params.ner_model}: {error}") from None
            self._lazy_nlp = nlp
        return nlp

    def entities(self, texts: list[str]) -> list[list[Span]]:
        """PERSON / LOCATION spans from the local named-entity model."""
        wanted = set(self.params.ner_types)
        limit = self.params.ner_max_chars
        out = []
        for doc in self._ner().pipe((t[:limit] for t in texts), batch_size=64):
            spans = []
            for ent in doc.ents:
                kind = NER_LABELS.get(ent.label_)
                if kind in wanted:
                    spans.append((ent.start_char, ent.end_char, kind))
            out.append(spans)
        return out

    def pseudonym(self, kind: str, value: str) -> str:
        digest = hmac.new(self._salt, f"{kind}\0{normalise(kind, value)}".encode(), hashlib.sha256).hexdigest()
        return f"<{kind}:{digest[: self.params.pseudonym_chars]}>"

    def rewrite(self, text: str, spans: list[Span]) -> tuple[str, list[Span]]:
        """The text with each span replaced, and the spans of the replacements in the new text."""
        pieces: list[str] = []
        out_spans: list[Span] = []
        position = 0
        length = 0
        for start, end, kind in spans:
            pieces.append(text[position:start])
            length += start - position
            placeholder = f"<{kind}>" if self.params.mode == "redact" else self.pseudonym(kind, text[start:end])
            pieces.append(placeholder)
            out_spans.append((length, length + len(placeholder), kind))
            length += len(placeholder)
            position = end
        pieces.append(text[position:])
        return "".join(pieces), out_spans

    def transform(self, batch: pa.Table) -> pa.Table:
        texts = batch.column("text").to_pylist()
        rewrite = self.params.mode != "tag"
        column: list[list[dict]] = []
        new_texts: list[str] = []
        counters = self.counters
        found = detect_batch(batch.column("text"), self.types)
        if self.params.ner_model:
            for spans, named in zip(found, self.entities([t or "" for t in texts]), strict=True):
                if named:
                    spans[:] = _resolve_overlaps(spans + named)
        for text, spans in zip(texts, found, strict=True):
            if self.params.public_ips_only and spans:
                spans = [s for s in spans if s[2] != "IP_ADDRESS" or _is_public_ip(text[s[0] : s[1]])]
            for span in spans:
                counters[span[2]] += 1
            if spans:
                counters["docs_with_pii"] += 1
                if rewrite:
                    text, spans = self.rewrite(text, spans)
            new_texts.append(text)
            column.append([{"type": k, "start": s, "end": e} for s, e, k in spans])
        if rewrite:
            batch = with_column(batch, "text", pa.array(new_texts, pa.string()))
        return with_column(batch, self.tag("spans"), pa.array(column, SPAN_TYPE))
