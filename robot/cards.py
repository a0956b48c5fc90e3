"""What a card number looks like: one definition for log redaction, evidence and input checks.

A card number (PAN) is 12-19 ASCII digits, Luhn-valid, possibly grouped by separators
("dddd dddd dddd dddd", "dddd-dddd-...", "dddd_dddd_..."), and bounded by characters that are
not letters or digits. The bound is what keeps identifiers whole: `job-564c<16 Luhn-valid
digits>bd` holds such a run, but inside a word of letters and digits, so it is a piece of an id,
not a card number, and support must be able to find that id in the logs. `tok_<16 digits>` and
`(dddd-dddd-dddd-dddd)` are bounded by punctuation, so they are card numbers.

Where a run of grouped digits is longer than a card number (a PAN then expiry and CVV), every
window of whole groups is tried, so the PAN inside is still found.

Two separator sets:
- `GROUPING` (logs, evidence): spaces, dashes, underscores, slashes; not dots, colons or commas,
  whose digit runs (IP addresses, times, lists of invoice numbers) are too often 12+ digits.
- `ANY` (input fields, where a false alarm costs a re-typed field, not a lost log line): any one
  to three characters that are not letters or digits.
"""

from __future__ import annotations

import re
import unicodedata

MIN_DIGITS = 12
MAX_DIGITS = 19

GROUPING = r"[ \t\u00a0\u2007\u202f\-\u2010-\u2015_/]"
ANY = r"[^A-Za-z0-9\r\n]"


def _run_re(sep: str) -> re.Pattern[str]:
    # a maximal run of digit groups: not preceded or followed by a letter or digit
    return re.compile(rf"(?<![A-Za-z0-9])[0-9]+(?:{sep}{{1,3}}[0-9]+)*(?![A-Za-z0-9])")


_RUNS = {GROUPING: _run_re(GROUPING), ANY: _run_re(ANY)}
_GROUP_RE = re.compile(r"[0-9]+")


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2 == 1:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return total % 10 == 0


def card_number_spans(text: str, separators: str = GROUPING) -> list[tuple[int, int]]:
    """(start, end) of every card number in `text`, overlapping windows merged."""
    spans: list[tuple[int, int]] = []
    for run in _RUNS[separators].finditer(text):
        groups = [(m.start() + run.start(), m.end() + run.start(), m.group(0))
                  for m in _GROUP_RE.finditer(run.group(0))]
        if sum(len(g[2]) for g in groups) < MIN_DIGITS:
            continue
        for i in range(len(groups)):
            digits = ""
            best: tuple[int, int] | None = None
            for j in range(i, len(groups)):
                digits += groups[j][2]
                if len(digits) > MAX_DIGITS:
                    break
                if len(digits) >= MIN_DIGITS and luhn_ok(digits):
                    best = (groups[i][0], groups[j][1])  # the longest window from group i
            if best is not None:
                spans.append(best)
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def looks_like_card_number(value: str) -> bool:
    """True when a field's text holds a card number with any separators (or in another script's
    digits, or full-width ones: NFKC folds them to ASCII first)."""
    folded = unicodedata.normalize("NFKC", value)
    folded = "".join(str(unicodedata.digit(ch)) if ch.isdigit() and not ch.isascii() else ch for ch in folded)
    return bool(card_number_spans(folded, ANY))


CARD_NUMBER_RULE = "looks like a card or account number; tokenize it first (jobber-robot tokenize)"
