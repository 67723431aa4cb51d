#!/usr/bin/env python3
"""Derives crates/screening/data/legal_forms.tsv.gz from the GLEIF ISO 20275 ELF code list.

Run from the repository root with ../shared/data present:
    python3 scripts/screening_legal_forms.py
One row per (form, kind, tag source, country, ELF code): every abbreviation (local and
transliterated, kind "abbr") and the local and transliterated names (kind "name") of each ELF
code that has at least one abbreviation; the tag source is the code's first abbreviation.
Normalisation happens in Rust at load time (crates/screening/src/legal.rs), with the same
function that normalises names.
"""
import csv
import gzip
import io

SRC = "../shared/data/names/gleif-elf-v1.6/elf-code-list-v1.6-2026-02-19.csv"
OUT = "crates/screening/data/legal_forms.tsv.gz"

rows = list(csv.DictReader(open(SRC, encoding="utf-8-sig")))
out = set()
for r in rows:
    code = r["ELF Code"]
    cc = r["Country Code (ISO 3166-1)"]
    abl = [a.strip() for a in (r["Abbreviations transliterated"] or "").split(";") if a.strip()]
    abl += [a.strip() for a in (r["Abbreviations Local language"] or "").split(";") if a.strip()]
    if not abl:
        continue
    tag = abl[0]
    for f in abl:
        out.add((f, "abbr", tag, cc, code))
    for k in (
        "Entity Legal Form name Local name",
        "Entity Legal Form name Transliterated name (per ISO 01-140-10)",
    ):
        f = r[k].strip()
        if f and "\t" not in f:
            out.add((f, "name", tag, cc, code))
# mtime=0: the same input gives the same bytes.
with io.TextIOWrapper(gzip.GzipFile(OUT, "wb", 9, mtime=0), encoding="utf-8") as fh:
    fh.write(
        "# form\tkind\ttag source (first abbreviation of the ELF code)\tcountry\telf code. "
        "Derived from the GLEIF ISO 20275 ELF code list v1.6 (2026-02-19), see NOTICE\n"
    )
    for t in sorted(out):
        fh.write("\t".join(t) + "\n")
print(len(out), "rows ->", OUT)
