"""`make messages` (python -m cli.messages): every customer-facing sentence in the code,
extracted by Babel over babel.cfg into translations/messages.pot, and each language's .po
file brought up to date with it (new sentences untranslated, a reworded one fuzzy with its
old translation, removed ones dropped).

A file is rewritten only when a sentence in it changed: the headers' dates would otherwise
change on every run, and conflict between branches that changed nothing. `--check` writes
nothing and exits 1 when a file is out of date (tests/test_messages.py runs the same check).
Locations name the file without the line, for the same reason."""

from __future__ import annotations

import sys
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

from services.i18n import DOMAIN, SUPPORTED_LANGUAGES, TRANSLATIONS_DIR

ROOT = TRANSLATIONS_DIR.parent
TEMPLATE = TRANSLATIONS_DIR / f"{DOMAIN}.pot"
# Voice.n_(singular, plural, n) besides gettext's own (_, ngettext, N_...).
KEYWORDS = {**DEFAULT_KEYWORDS, "n_": (1, 2)}
# English is the msgids themselves: no catalog.
LANGUAGES = tuple(code for code in SUPPORTED_LANGUAGES if code != "en")


def po_path(language: str) -> Path:
    return TRANSLATIONS_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def extract() -> Catalog:
    """The sentences the code says now, as a template."""
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    catalog = Catalog(project="tourbot", charset="utf-8")
    for filename, _lineno, message, comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        # No line numbers: they would rewrite the files on every unrelated edit.
        locations = [(filename, None)]
        catalog.add(message, None, locations, auto_comments=comments, context=context)  # type: ignore[arg-type]
    return catalog


def updated(language: str, template: Catalog) -> Catalog:
    """The language's catalog with the template's sentences, its translations kept."""
    path = po_path(language)
    if path.exists():
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=language, domain=DOMAIN)
    else:
        catalog = Catalog(locale=language, domain=DOMAIN, project="tourbot", charset="utf-8")
        catalog.fuzzy = False
    catalog.update(template)
    catalog.obsolete.clear()  # a removed sentence's translation stays in git's history
    return catalog


def _body(catalog: Catalog) -> bytes:
    """What the file says, without the header (its dates change on every extraction)."""
    out = BytesIO()
    write_po(out, catalog, width=0, omit_header=True, sort_by_file=True, include_lineno=False)
    return out.getvalue()


def _stored(path: Path, language: str | None) -> bytes | None:
    if not path.exists():
        return None
    with path.open("rb") as handle:
        return _body(read_po(handle, locale=language, domain=DOMAIN))


def stale() -> list[Path]:
    """The files `make messages` would change."""
    template = extract()
    changed = [TEMPLATE] if _stored(TEMPLATE, None) != _body(template) else []
    for language in LANGUAGES:
        if _stored(po_path(language), language) != _body(updated(language, template)):
            changed.append(po_path(language))
    return changed


def write() -> list[Path]:
    template = extract()
    written = []
    for path, language, catalog in [(TEMPLATE, None, template)] + [
        (po_path(code), code, updated(code, template)) for code in LANGUAGES
    ]:
        if _stored(path, language) == _body(catalog):
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            write_po(handle, catalog, width=0, sort_by_file=True, include_lineno=False)
        written.append(path)
    return written


def main(argv: list[str]) -> int:
    if "--check" in argv:
        changed = stale()
        for path in changed:
            print(f"out of date: {path.relative_to(ROOT)} (run make messages)")
        return 1 if changed else 0
    for path in write():
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
