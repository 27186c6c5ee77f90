"""Text repair: ftfy for mojibake (only where needed), and restoration of lost U+FFFD punctuation.

Two independent repairs, each skipped in one C-speed check when the text does not need it:

* **Mojibake** ("donâ€™t", "cafÃ©", "don‚Äôt", "donвЂ™t": UTF-8 that was once read in
  Windows-1252, MacRoman, Windows-1251 or another single-byte code page). ftfy fixes it, but
  ftfy runs at ~3 MB/s, so a cheap gate finds the lines that show a tell-tale pair of
  characters (a UTF-8 lead byte and a continuation byte as one of ftfy's code pages shows
  them, or a C1 control) and only those lines go through ftfy, with a configuration that
  changes nothing else (curly quotes, ligatures, widths, HTML entities and line breaks stay as
  the author wrote them).
* **U+FFFD** where a converter lost cp1252 smart punctuation (’ “ ” … — é). ftfy cannot know
  what was there; we guess from context, line by line, with the quote state carried from line
  to line (see :func:`restore_replacements`). No U+FFFD ever survives: any case the rules do not
  cover gets a best guess.

``repair`` is idempotent: its output contains no U+FFFD, and lines ftfy has fixed no longer
look like mojibake (or are left as ftfy leaves them, which ftfy leaves alone the second time).
"""

from __future__ import annotations

import re

import ftfy
from ftfy.chardata import CHARMAP_ENCODINGS

__all__ = ["needs_repair", "repair", "restore_replacements"]

FFFD = "\ufffd"

# ---- the mojibake gate ------------------------------------------------------------------
# Mojibake is UTF-8 read in a single-byte code page: each multi-byte sequence shows as the
# page's character for a lead byte (0xC2-0xF4) followed by its character for a continuation
# byte (0x80-0xBF). ftfy can undo it only where such a pair is in a line, in one of the code
# pages it tries (Latin-1, Windows-1250/1251/1252/1253/1254/1257, ISO-8859-2, MacRoman,
# cp437), or where a lead's 0xA0 continuation became a space (ftfy's restore_byte_a0), or where
# a C1 control is left. So a line goes to ftfy only when it shows one of these signatures: for
# "donâ€™t" (cp1252), "don‚Äôt" (MacRoman), "donвЂ™t" (Windows-1251), "╨┐╤Ç" (cp437)...
# The signatures are derived from the code pages themselves, not listed by hand.
_UTF8_LEADS = range(0xC2, 0xF5)
_UTF8_CONTINUATIONS = range(0x80, 0xC0)
# the lead bytes whose continuation ftfy restores from a space (chardata.ALTERED_UTF8_RE)
_A0_LEADS = (0xC2, 0xC3, 0xC5, 0xCE, 0xD0, 0xD9, 0xE2, 0xE3, 0xF0)
# ... looked for in the Latin code pages only: in the others those leads are common letters
# (Cyrillic в, г, р; Greek β, γ, π) that end words before a space, and every line of a Russian
# or Greek story would go to ftfy for nothing (one that needs it shows other signatures too)
_A0_ENCODINGS = ("latin-1", "sloppy-windows-1252")


def _signatures() -> tuple[dict[str, str], str]:
    """For each character some code page shows for a UTF-8 lead byte, the characters that may
    follow it in mojibake (continuations, and a space or no-break space where ftfy restores
    one); and the characters after which a space may be a lost 0xA0."""
    follow: dict[str, set[str]] = {}
    space_leads: set[str] = set()
    for encoding in CHARMAP_ENCODINGS:
        shown = {b: _decode_byte(b, encoding) for b in range(0x80, 0x100)}
        continuations = {c for b, c in shown.items() if b in _UTF8_CONTINUATIONS and c}
        for byte in _UTF8_LEADS:
            lead = shown[byte]
            if lead:
                follow.setdefault(lead, set()).update(continuations)
                if byte in _A0_LEADS and encoding in _A0_ENCODINGS:
                    space_leads.add(lead)
    for lead in space_leads:
        follow[lead].update(" \u00a0")
    return {lead: "".join(sorted(chars)) for lead, chars in follow.items()}, "".join(
        sorted(space_leads)
    )


def _decode_byte(byte: int, encoding: str) -> str:
    try:
        return bytes([byte]).decode(encoding)
    except UnicodeDecodeError:
        return ""


_FOLLOW, _SPACE_LEADS = _signatures()
_C1_RANGE = "\u0080-\u009f"
# Run on the text's runs of non-ASCII characters (see _non_ascii_runs), overlapping: a lead
# then a continuation, or a lead at the end of a run (a space may follow it in the text), or a
# C1 control. The first character of each match is what to look for in the text.
_RUN_HINT = re.compile(
    "(?=([{leads}][{follow}]|[{space}](?= |$)|[{c1}]))".format(
        leads=re.escape("".join(_FOLLOW)),
        follow=re.escape("".join(sorted(set("".join(_FOLLOW.values())) - set(" ")))),
        space=re.escape(_SPACE_LEADS),
        c1=_C1_RANGE,
    )
)
# One pattern per lead character, its literal first (so it scans at C speed): compiled when a
# text first shows that lead.
_LEAD_PATTERNS: dict[str, re.Pattern[str]] = {}
_C1 = re.compile(f"[{_C1_RANGE}]")
_C1_CHARS = tuple(chr(c) for c in range(0x80, 0xA0))
# every ASCII byte as a space, every other byte as it is
_ASCII_TO_SPACE = bytes(0x20 if b < 0x80 else b for b in range(256))


def _lead_pattern(lead: str) -> re.Pattern[str]:
    pattern = _LEAD_PATTERNS.get(lead)
    if pattern is None:
        pattern = re.compile(f"{re.escape(lead)}[{re.escape(_FOLLOW[lead])}]")
        _LEAD_PATTERNS[lead] = pattern
    return pattern


def _non_ascii_runs(text: str) -> str:
    """The text's runs of adjacent non-ASCII characters, one space between runs.

    Encoding, mapping ASCII bytes to spaces, splitting and joining run at C speed (~600 MB/s
    here, where a regex over the text runs at ~100 MB/s); what is left is a few characters in
    a hundred of an English story, curly quotes and dashes, searched in no time.
    """
    return b" ".join(
        text.encode("utf-8", "surrogatepass").translate(_ASCII_TO_SPACE).split()
    ).decode("utf-8", "surrogatepass")


def _mojibake_spots(text: str) -> list[int]:
    """Where a line of the text shows a mojibake signature (see _signatures), or a C1 control;
    empty when none does."""
    if text.isascii():
        return []
    hints = {
        pair[0]
        for pair in _RUN_HINT.findall(_non_ascii_runs(text))
        # a lead then one of its own continuations ("”“" is no code page's mojibake)
        if len(pair) == 1 or pair[1] in _FOLLOW[pair[0]]
    }
    if not hints:
        return []
    spots: list[int] = []
    for lead in hints.intersection(_FOLLOW):
        spots.extend(m.start() for m in _lead_pattern(lead).finditer(text))
    if not hints.issubset(_FOLLOW):  # a C1 control
        spots.extend(m.start() for m in _C1.finditer(text))
    return sorted(spots)


_FTFY_CONFIG = ftfy.TextFixerConfig(
    unescape_html=False,
    remove_terminal_escapes=False,
    fix_encoding=True,
    restore_byte_a0=True,
    replace_lossy_sequences=True,
    decode_inconsistent_utf8=True,
    fix_c1_controls=True,
    fix_latin_ligatures=False,
    fix_character_width=False,
    uncurl_quotes=False,
    fix_line_breaks=False,
    fix_surrogates=True,
    remove_control_chars=False,
    normalization=None,
    explain=False,
)

# ---- U+FFFD restoration ------------------------------------------------------------------

_APOSTROPHE = "\u2019"
_OPEN_D, _CLOSE_D = "\u201c", "\u201d"
_OPEN_S = "\u2018"
_ELLIPSIS = "\u2026"
_EM_DASH = "\u2014"
_EN_DASH = "\u2013"

# What follows an apostrophe inside a word: didn't, it's, she'd, I'm, we'll, they're, I've,
# li'l, rock'n'roll, y'all, ma'am.
_CONTRACTION_SUFFIXES = frozenset({"s", "t", "d", "m", "ll", "re", "ve", "l", "n", "all", "am"})
# Words that start with an apostrophe: 'cause, 'em, 'bout ... (used only where a quote is open)
_ELISIONS = frozenset(
    {"cause", "cos", "coz", "em", "bout", "til", "till", "tis", "twas", "round", "kay", "n",
     "llo", "ello", "ere", "nuff", "scuse", "fraid", "sides", "course", "im", "er", "ow"}
)  # fmt: skip
_OPENERS = frozenset(" \t\u00a0([{<" + _OPEN_D + _OPEN_S)
# After an s, words that start a new clause rather than name what is possessed.
_NOT_POSSESSED = frozenset(
    {"thank", "no", "well", "um", "uh", "oh", "and", "but", "or", "so", "hmm"}
)
_TERMINAL = frozenset(".?!,;:-*" + _ELLIPSIS + _EM_DASH + _EN_DASH)
# Sounds of hesitation: an FFFD between one and a word is a pause ("hmm…I see").
_HESITATIONS = frozenset({"hmm", "hm", "um", "umm", "uh", "uhh", "er", "erm", "ah", "eh", "mm"})

# Words whose accented letters a lost encoding turned into U+FFFD (fianc� -> fiancé).
_ACCENTED_WORDS = (
    "fiancé", "fiancée", "fiancés", "fiancées", "café", "cafés", "résumé", "résumés", "naïve",
    "naïvely", "naïveté", "naïf", "cliché", "clichés", "clichéd", "touché", "protégé", "protégée",
    "décor", "séance", "séances", "entrée", "entrées", "passé", "exposé", "soufflé", "attaché",
    "blasé", "déjà", "façade", "façades", "crème", "brûlée", "née", "rosé", "sauté", "sautéed",
    "purée", "jalapeño", "jalapeños", "piñata", "señor", "señora", "señorita", "mañana", "über",
    "Zoë", "Chloë", "Renée", "Beyoncé", "Pokémon", "Noël", "doppelgänger", "grâce", "voilà",
    "château", "éclair", "élan", "émigré", "frappé", "habitué", "matinée", "mêlée", "négligée",
    "outré", "pâté", "première", "soirée", "rôle", "être", "ménage", "Zürich", "Björk", "Mötley",
    "André", "René", "Chloé", "Amélie", "Hélène", "Josée", "Valérie", "Clémence", "Gisèle",
    "Thérèse", "Raphaël", "Anaïs", "Zoé", "coöperate",
)  # fmt: skip


def _accent_pattern(word: str) -> str:
    return "".join(FFFD if not ch.isascii() else ch for ch in word)


_ACCENTED_BY_PATTERN: dict[str, str] = {}
for _word in _ACCENTED_WORDS:
    _ACCENTED_BY_PATTERN.setdefault(_accent_pattern(_word).lower(), _word)
# (up to two characters before an FFFD, the letters after it) for each FFFD of a known word:
# a cheap test that a FFFD may belong to one, before the word is looked up in full
_KNOWN_KEYS: set[tuple[str, str]] = set()
for _pattern in _ACCENTED_BY_PATTERN:
    for _i, _ch in enumerate(_pattern):
        if _ch == FFFD:
            _after = re.match(r"[^\W_]*", _pattern[_i + 1 :])
            _KNOWN_KEYS.add((_pattern[max(0, _i - 2) : _i], _after.group() if _after else ""))
_WORD_AFTER = re.compile(r"[^\W_]+")
# An FFFD after a letter or digit, and the letters after it. Each regex here starts with the
# literal FFFD (lookbehinds come after it), so it scans at C speed.
_FFFD_THEN_LETTERS = re.compile(r"\ufffd(?<=[^\W_]\ufffd)(?=([^\W_]{0,12}))")


def _clear_contraction() -> re.Pattern[str]:
    """The FFFDs that restore_replacements' contraction callback surely makes apostrophes,
    found without calling it: letter-FFFD-suffix-end, where no known word can be (a known key
    with a contraction suffix, as in fianc�s or caf�s, has one of a few letters before it)."""

    def either_case(char: str) -> str:
        # the characters whose str.lower() is this ASCII letter (the Kelvin sign lowers to k)
        return char + char.upper() + ("\u212a" if char == "k" else "")

    key_letters = {b[-1] for b, a in _KNOWN_KEYS if b and a in _CONTRACTION_SUFFIXES}
    assert all(c.isascii() for c in key_letters)
    not_after = "".join(either_case(c) for c in sorted(key_letters))
    suffixes = "|".join(
        "".join(f"[{either_case(c)}]" for c in suffix)
        for suffix in sorted(_CONTRACTION_SUFFIXES, key=len, reverse=True)
    )
    return re.compile(
        rf"\ufffd(?<=[^\W_]\ufffd)(?<![{not_after}]\ufffd)(?=(?:{suffixes})(?![^\W_]|\ufffd))"
    )


_CLEAR_CONTRACTION = _clear_contraction()
_REPLACEMENT = re.compile(FFFD)


def _has_c1(text: str) -> bool:
    return any(c in text for c in _C1_CHARS)


def _word_start(line: str, pos: int) -> int:
    """Index where the run of letters, digits and FFFDs ending at ``pos`` starts."""
    start = pos
    limit = max(0, pos - 40)
    while start > limit and (line[start - 1].isalnum() or line[start - 1] == FFFD):
        start -= 1
    return start


def _word_end(line: str, pos: int) -> int:
    end = pos
    size = min(len(line), pos + 40)
    while end < size and (line[end].isalnum() or line[end] == FFFD):
        end += 1
    return end


def _word_start_filter() -> re.Pattern[str]:
    """A regex for the FFFDs that may start a known word (�lan, �clair): what follows is the
    rest of such a word, case ignored (the exact lookup is done by :func:`_known_words`)."""
    run_char = r"(?:[^\W_]|\ufffd)"
    rests = sorted((p[1:] for p in _ACCENTED_BY_PATTERN if p[0] == FFFD), key=len, reverse=True)
    alternatives = "|".join(map(re.escape, rests))
    return re.compile(rf"\ufffd(?=(?i:{alternatives})(?!{run_char}))(?<!{run_char}\ufffd)")


_KNOWN_AT_WORD_START = _word_start_filter()


def _known_words_text(text: str, candidates: list[int]) -> str:
    """:func:`_known_words` over a whole text, looking only at the words around the FFFDs in
    ``candidates`` and those that may start a known word.

    ``candidates`` must hold the first FFFD of every known word with letters before it (the
    contraction pass finds them by their _KNOWN_KEYS). A word never spans a line break, so
    this is the line-by-line lookup done in one pass.
    """
    starts = sorted({*candidates, *(m.start() for m in _KNOWN_AT_WORD_START.finditer(text))})
    parts: list[str] = []
    last = 0
    for pos in starts:
        if pos < last:
            continue  # inside a word already looked up
        start, end = _word_start(text, pos), _word_end(text, pos + 1)
        if start < last:
            continue
        parts.append(text[last:start])
        parts.append(_known_words(text[start:end]))
        last = end
    parts.append(text[last:])
    return "".join(parts)


def _known_words(line: str) -> str:
    """fianc� -> fiancé, caf� -> café, r�sum� -> résumé (keeping the word's case)."""
    pos = line.find(FFFD)
    while pos >= 0:
        start, end = _word_start(line, pos), _word_end(line, pos + 1)
        found = line[start:end]
        word = _ACCENTED_BY_PATTERN.get(found.lower()) if end - start > 2 else None
        if word is not None:
            shout = found.isupper() if found.replace(FFFD, "") else False
            fixed = "".join(
                (want.upper() if shout else want) if have == FFFD else have
                for have, want in zip(found, word, strict=True)
            )
            line = line[:start] + fixed + line[end:]
        pos = line.find(FFFD, end)
    return line


def _is_word_char(ch: str) -> bool:
    return ch.isalnum()


def _opening_context(line: str, pos: int) -> bool:
    """An FFFD after the line start, a space or a bracket and before a non-space."""
    before = line[pos - 1] if pos else ""
    after = line[pos + 1] if pos + 1 < len(line) else ""
    return (before == "" or before in _OPENERS) and after not in ("", " ", "\t")


def _closing_context(line: str, pos: int) -> bool:
    before = line[pos - 1] if pos else ""
    after = line[pos + 1] if pos + 1 < len(line) else ""
    return before not in ("", " ", "\t") and not _is_word_char(after)


def _inside_word(line: str, pos: int) -> str:
    """Letter-FFFD-letter: an apostrophe (didn't, Li'l, d'you) or an unspaced dash (alive—well)."""
    after = _WORD_AFTER.match(line, pos + 1)
    suffix = after.group().lower() if after else ""
    prefix = line[_word_start(line, pos) : pos].rsplit(FFFD, 1)[-1]
    if suffix in _CONTRACTION_SUFFIXES or (len(prefix) == 1 and prefix.lower() in "doyc"):
        return _APOSTROPHE
    if prefix.lower() in ("o", "ma") or (len(prefix) == 1 and suffix[:1].isupper()):
        return _APOSTROPHE  # O'Brien, ma'am
    if prefix.lower() in _HESITATIONS:
        return _ELLIPSIS  # "hmm…I see": a pause, not a break
    return _EM_DASH


# A table of cases (radon D): what an FFFD stood for is decided by the characters either side
# of it and the open quote level, one branch a case, each with the seed line it came from;
# splitting the branches further would only hide the order in which they are tried.
def _restore_line(line: str, depth: int, known: bool = True) -> tuple[str, int]:
    """Replace every FFFD of one line; ``depth`` is the open quote level (0, 1 or 2)."""
    if known:
        line = _known_words(line)
    if FFFD not in line:
        return line, depth
    positions = [m.start() for m in _REPLACEMENT.finditer(line)]
    first = positions[0]
    if depth and line[:first].strip() == "" and _opening_context(line, first):
        depth = 0  # a new paragraph opening its own quote: the carried one was left open
    closers = [_closing_context(line, p) for p in positions]
    remaining_closers = sum(closers)
    following = _following(line, positions, closers)
    out: list[str] = []
    last = 0
    prev_out = ""  # the character before the current FFFD as it will be output
    for index, pos in enumerate(positions):
        out.append(line[last:pos])
        if pos > last:
            prev_out = line[pos - 1]
        elif pos == 0:
            prev_out = ""
        if closers[index]:
            remaining_closers -= 1
        char, depth = _restored(
            line,
            pos,
            prev_out,
            depth,
            remaining_closers=remaining_closers,
            following=following[index],
        )
        out.append(char)
        prev_out = char
        last = pos + 1
    out.append(line[last:])
    return "".join(out), depth


def _restored(
    line: str, pos: int, prev_out: str, depth: int, *, remaining_closers: int, following: str
) -> tuple[str, int]:
    """What the FFFD at ``pos`` stands for, and the quote level after it: ``prev_out`` is the
    character output before it, ``remaining_closers`` the FFFDs after it in closing context,
    ``following`` what ``_following`` found after it."""
    after = line[pos + 1] if pos + 1 < len(line) else ""
    if _is_word_char(prev_out) and _is_word_char(after):
        return _inside_word(line, pos), depth
    if after == FFFD and (prev_out == "" or prev_out in _OPENERS):
        return _OPEN_D, 1  # "��llo": an opening quote, then an apostrophe
    if after == FFFD:
        return _EM_DASH, depth  # "a��": interrupted speech, then the closing quote
    if prev_out in (_OPEN_D, _OPEN_S) and after not in ("", " "):
        return _APOSTROPHE, depth
    if prev_out == "" or prev_out in _OPENERS:
        return _after_opener(line, pos, prev_out, depth, remaining_closers)
    if prev_out in _TERMINAL or prev_out in (_CLOSE_D, _APOSTROPHE, ")", "]"):
        if _is_word_char(after) and depth == 0:
            return _OPEN_D, 1  # 'said.�Hi': a missing space
        if depth == 2:
            return _APOSTROPHE, 1
        return _CLOSE_D, 0
    if depth == 2:
        return _APOSTROPHE, 1
    return _after_word(line, pos, prev_out, depth, following)


def _following(line: str, positions: list[int], closers: list[bool]) -> list[str]:
    """For each FFFD, whether the next one that is not inside a word closes ("c") or opens
    ("o"), or "" when none does."""
    following: list[str] = [""] * len(positions)
    upcoming = ""
    for index in range(len(positions) - 1, -1, -1):
        following[index] = upcoming
        if closers[index]:
            upcoming = "c"
        elif _opening_context(line, positions[index]):
            upcoming = "o"
    return following


def _after_opener(
    line: str, pos: int, prev_out: str, depth: int, remaining_closers: int
) -> tuple[str, int]:
    """An FFFD at the line start or after a space or bracket: (its character, the new depth)."""
    after = line[pos + 1] if pos + 1 < len(line) else ""
    if after in ("", " ", "\t", "\u00a0"):
        return (_EN_DASH if prev_out else _ELLIPSIS), depth  # " � " is a spaced dash
    if depth == 0:
        return _OPEN_D, 1
    word = _WORD_AFTER.match(line, pos + 1)
    if word and word.group().lower() in _ELISIONS:
        return _APOSTROPHE, depth
    if depth == 1 and remaining_closers >= 2:
        return _OPEN_S, 2  # "“... well ‘fine’.”"
    return _OPEN_D, 1  # the previous quote was never closed


def _after_word(line: str, pos: int, prev_out: str, depth: int, following: str) -> tuple[str, int]:
    """An FFFD after a letter or digit, before a space, punctuation or the line end: (its
    character, the new depth); ``following`` is what the next FFFD does ("c", "o" or "")."""
    after = line[pos + 1] if pos + 1 < len(line) else ""
    next_closes = following == "c"
    next_word = _WORD_AFTER.match(line, pos + 2) if after == " " else None
    word = next_word.group() if next_word else ""
    possessive = prev_out in "sS" and (
        (word[:1].islower() and word not in _NOT_POSSESSED) or after in ",.;:!?"
    )
    elided = _word_start(line, pos) == pos - 1 and prev_out in "tTo"
    if possessive and (depth == 0 or next_closes):
        return _APOSTROPHE, depth  # Summers' house, Giles' red face
    if elided and after == " " and word[:1].islower():
        return _APOSTROPHE, depth  # "said t' take it easy", "cup o' tea"
    if (depth and not next_closes) or (depth and following == "o"):
        return _CLOSE_D, 0
    return _ELLIPSIS, depth  # "as a sister… no, a friend"


def restore_replacements(text: str) -> str:
    """Replace each U+FFFD by the punctuation it most likely stood for; none remains.

    Rules, from the cases in the seed library:

    * a known word (fianc� -> fiancé, caf�, r�sum�, na�ve, clich� ...);
    * letter-?-letter: an apostrophe when what follows is a contraction (didn’t, I’m, she’d,
      we’ll, Li’l, d’you), else an unspaced em dash (alive—well, Um—where);
    * ? at a line start or after a space or bracket, before a non-space: an opening “ (an
      apostrophe right after an opening quote: “’llo”; a nested ‘ when two closers follow);
    * ? after . ? ! , - * or a closing quote: a closing ” (”-” after an interrupted line);
    * s-? before a lowercase word or punctuation: a possessive apostrophe (Summers’ house),
      unless it must be the quote's closer;
    * letter-? before a space or the end: the closing ” of an open quote when no later closer
      on the line could close it, else an ellipsis (“as a sister… no, a friend”);
    * a pair ?? after a letter: a dash then the closing quote ("a—”").

    The open-quote state carries from a line to the next (quoted lyrics span lines) until a
    blank line or a line that opens its own quote.
    """
    if FFFD not in text:
        return text
    known: list[int] = []  # where a known word (fianc�s) may be: left for the word lookup
    original = text
    text = _FFFD_THEN_LETTERS.sub(
        lambda match: _contraction(original, match, known),
        _CLEAR_CONTRACTION.sub(_APOSTROPHE, text),
    )
    if known:
        text = _known_words_text(text, known)
    if FFFD not in text:
        return text
    # Most lines are plain dialogue: “Hi,” she said. “Bye.” Their FFFDs alternate between an
    # opener (line start or space, then a letter) and a closer (after . , ? ! ... and before a
    # space or the line end), and when the quote state allows it (see _alternating) they are
    # exactly “ and ”. Both are substituted over the whole text up front; only the other lines
    # go through _restore_line.
    quoted = _CLOSER.sub(_CLOSE_D, _OPENER.sub(_OPEN_D, text)).split("\n")
    lines = text.split("\n")
    opens_first = list(map(_OPEN_FIRST.fullmatch, lines))  # (map: no Python call per line)
    depth = 0
    for i, line in enumerate(lines):
        if FFFD in line:
            fast = _alternating(line, depth, opens_first[i] is not None)
            if fast is None:
                lines[i], depth = _restore_line(line, depth, known=False)
            else:
                lines[i], depth = quoted[i], fast
        elif depth and not line.strip():
            depth = 0
    return "\n".join(lines)


def _contraction(text: str, match: re.Match[str], known: list[int]) -> str:
    """didn't, she'd, I'm: letter-FFFD-suffix never depends on the quote state. Decided on
    ``text`` as it came, whatever was replaced before; a possible known word's place (fianc�s)
    goes to ``known``, its FFFD left for the word lookup."""
    pos = match.start()
    prev = text[pos - 1] if pos else ""
    if not prev.isalnum():
        return FFFD
    suffix = match.group(1).lower()
    if (text[max(0, pos - 2) : pos].lower(), suffix) in _KNOWN_KEYS or (
        prev.lower(),
        suffix,
    ) in _KNOWN_KEYS:
        known.append(pos)
        return FFFD  # maybe fianc�s: left for the word lookup
    if (
        suffix in _CONTRACTION_SUFFIXES
        and text[pos + 1 + len(suffix) : pos + 2 + len(suffix)] != FFFD
    ):
        return _APOSTROPHE
    return FFFD


# The two clear cases of _restore_line, as regexes (the FFFD literal first, for speed):
# an opener at the line start or after a space, before a letter or digit, and a closer after
# sentence punctuation or a closing mark, before anything but a letter, digit or FFFD.
_OPENER = re.compile(r"\ufffd(?<![^ \n]\ufffd)(?=[^\W_])")
_CLOSER_BEFORE = re.escape("".join(sorted(_TERMINAL)) + _CLOSE_D + _APOSTROPHE + ")]")
_CLOSER = re.compile(rf"\ufffd(?<=[{_CLOSER_BEFORE}]\ufffd)(?![^\W_]|\ufffd)")
_SEGMENT = r"[^\ufffd]*"
_OPEN = r"\ufffd(?<![^ ]\ufffd)(?=[^\W_])"  # _OPENER within one line
_CLOSE = rf"\ufffd(?<=[{_CLOSER_BEFORE}]\ufffd)(?![^\W_]|\ufffd)"  # _CLOSER within one line
_PAIRS = rf"(?:{_SEGMENT}{_OPEN}{_SEGMENT}{_CLOSE})*{_SEGMENT}(?:{_OPEN}{_SEGMENT})?"
_OPEN_FIRST = re.compile(_PAIRS)  # “ ... ” “ ... ” (“ ...)
_CLOSE_FIRST = re.compile(rf"{_SEGMENT}{_CLOSE}{_PAIRS}")  # ... ” “ ... ” (“ ...)


def _alternating(line: str, depth: int, opens_first: bool) -> int | None:
    """The quote depth after ``line`` when its FFFDs are just alternating “ and ”, else None.

    In _restore_line an opener at depth 0 gives “ (depth 1) and a closer at depth 1 gives ”
    (depth 0), so a line whose FFFDs alternate opener, closer, ... starting at depth 0 (or
    closer, opener, ... starting at depth 1) gets exactly those. A line that opens with an
    opener resets a carried depth, as _restore_line does. Anything else: None.
    ``opens_first``: whether the line fullmatches _OPEN_FIRST.
    """
    if opens_first:
        if depth and line[: line.find(FFFD)].strip():
            return None  # an opener inside an open quote: maybe nested, maybe an elision
        return line.count(FFFD) % 2
    if depth == 1 and _CLOSE_FIRST.fullmatch(line):
        return 1 - line.count(FFFD) % 2
    return None


def needs_repair(text: str) -> bool:
    """True when repair may change the text: a U+FFFD, a mojibake signature or a C1 control.

    Cheap (see _mojibake_spots): clean text, curly quotes and accents included, says False.
    """
    if text.isascii():
        return False
    return FFFD in text or bool(_mojibake_spots(text))


def _fix_lines(text: str, spots: list[int]) -> str:
    """Run ftfy over the lines holding ``spots``, leaving every other line untouched."""
    parts: list[str] = []
    pos = 0
    for spot in spots:
        if spot < pos:
            continue  # a line already fixed
        start = text.rfind("\n", 0, spot) + 1
        end = text.find("\n", spot)
        if end < 0:
            end = len(text)
        parts.append(text[pos:start])
        parts.append(ftfy.fix_text(text[start:end], _FTFY_CONFIG))
        pos = end
    parts.append(text[pos:])
    return "".join(parts)


def _repair_once(text: str) -> str:
    spots = _mojibake_spots(text)
    if spots:
        text = _fix_lines(text, spots)
    if FFFD in text:
        text = restore_replacements(text)
    if _has_c1(text):
        text = _C1.sub("", text)
    return text


def repair(text: str) -> str:
    """Return the text as the author wrote it. Idempotent: repair(repair(t)) == repair(t).

    A fix can uncover another (double mojibake, or a C1 control whose removal completes a
    mojibake pair), so the steps run again, at most four times, until nothing changes.
    """
    if text.isascii():
        return text  # no mojibake, no U+FFFD, no C1 control can be there
    for _ in range(4):
        fixed = _repair_once(text)
        if fixed == text:
            break
        text = fixed
    return text
