#!/usr/bin/env python3
"""Derives the national tariff and HMRC reference files in data/hs/ from ../shared/data/tariffs.

Run from the repository root: python3 data/hs/derive_tariffs.py ../shared/data/tariffs
Output is deterministic (gzip mtime 0). Only selection and re-ordering of columns; no text is edited
except replacing tabs/newlines inside fields by spaces (the files are tab-separated).
"""
import csv
import gzip
import sys
from pathlib import Path

src = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/tariffs")
out = Path(__file__).resolve().parent


def clean(s):
    return " ".join(s.replace("\t", " ").split())


def write(name, header, rows):
    body = "\t".join(header) + "\n" + "".join("\t".join(clean(c) for c in r) + "\n" for r in rows)
    with open(out / name, "wb") as f:
        with gzip.GzipFile(fileobj=f, mode="wb", compresslevel=9, mtime=0, filename="") as g:
            g.write(body.encode("utf-8"))


# US HTSUS 2026 rev. 4: numbered lines of chapters 01-97 (98/99 are special provisions, not goods).
us = csv.DictReader(open(src / "us-htsus-2026r4/hts_2026r4_flat.csv", encoding="utf-8-sig"))
write(
    "us-htsus-2026.tsv.gz",
    ["hts_code", "level", "full_description", "unit", "general_rate"],
    [
        [r["hts_code"], r["level"], r["full_description"], r["unit"], r["general_rate"]]
        for r in us
        if r["chapter"] not in ("98", "99")
    ],
)

# EU CN 2026: 8-digit codes, path heading > subheading > own text, supplementary unit.
eu = csv.DictReader(open(src / "eu-cn-2026/cn2026_codes.csv", encoding="utf-8-sig"))
write(
    "eu-cn-2026.tsv.gz",
    ["cn8", "path_description", "supplementary_unit"],
    [[r["cn8"], r["path_description"], r["supplementary_unit"]] for r in eu],
)

# HMRC FPO references: labelled terms and parcel descriptions, and the vague descriptions.
fpo = src / "uk-fpo-references"
rows = []
for r in csv.DictReader(open(fpo / "search_references.csv", encoding="utf-8-sig")):
    rows.append(["search_term", r["term"], r["commodity_code"]])
for r in csv.DictReader(open(fpo / "extra_references.csv", encoding="utf-8-sig")):
    # Three upstream rows carry text in the code column ("loreal faux brw tnt,dark brun"): dropped.
    if r["Commodity Code"].strip().isdigit():
        rows.append(["parcel_description", r["Goods Description"], r["Commodity Code"]])
write("hmrc-references.tsv.gz", ["source", "description", "commodity_code"], rows)
vague = [r[0] for r in csv.reader(open(fpo / "vague_terms.csv", encoding="utf-8-sig")) if r]
write("hmrc-vague.tsv.gz", ["description"], [[v] for v in vague])
