#!/usr/bin/env python3
"""Extract the UN/CEFACT Rec 20 common code -> UCUM table (unece-ucum.tsv) from QUDT.

NGSI-LD data states units as UN/CEFACT Rec 20 common codes (`unitCode: "CEL"`), model descriptions mostly as UCUM
(`Cel`); the alignment checks (connector/src/align/unece.rs) need one to read the other. QUDT is where both codes
meet: a QUDT unit carries `qudt:uneceCommonCode` and `qudt:ucumCode`, so joining the two on the unit gives the map.

Run from the workspace root (stdlib only, Python 3.8+):

    python3 connector/vocab/unece-ucum.py > connector/vocab/unece-ucum.tsv

Inputs (paths relative to the workspace root, overridable with --qudt, --rec20, --ucum):
  ../shared/testdata/qudt-units/src/main/rdf/vocab/unit/VOCAB_QUDT-UNITS-ALL.ttl   the join
  ../shared/testdata/unece-rec20/data/units-of-measure.csv                          status and English name per code
  ../shared/testdata/ucum-2.2/ucum-essence.xml                                      which UCUM spellings are valid

Rules:
  - a code whose Rec 20 status is X (deleted), or which Rec 20 does not list at all, is left out;
  - QUDT units marked `qudt:deprecated true` are used only when no current unit has the code;
  - of the UCUM spellings the code's units carry, only the ones valid by the UCUM grammar and atom table are kept
    (a small checker below, following the UCUM specification's syntax; the Rust test
    `align::unece::tests::every_table_code_parses` confirms the choice with the `ucum-units` crate), and the
    shortest is chosen, ties broken by preferring `/` over negative exponents, then alphabetically, so the output
    is stable.

The Turtle is read with regular expressions: the file is written by QUDT's serialiser with one subject per block,
the subject alone on an unindented line, and one predicate-object pair per indented line; that is all this needs.
"""

import argparse
import csv
import re
import sys
import xml.etree.ElementTree as ET

SUBJECT = re.compile(r"^(unit:\S+)\s*$")
UNECE = re.compile(r'^\s+qudt:uneceCommonCode\s+"([^"]+)"')
UCUM = re.compile(r'^\s+qudt:ucumCode\s+"([^"]+)"')
DEPRECATED = re.compile(r"^\s+qudt:deprecated\s+true\b")


def read_qudt(path):
    """Yields (subject, deprecated, [unece codes], [ucum codes]) per QUDT unit."""
    subject, deprecated, unece, ucum = None, False, [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = SUBJECT.match(line)
            if m:
                if subject is not None:
                    yield subject, deprecated, unece, ucum
                subject, deprecated, unece, ucum = m.group(1), False, [], []
                continue
            if subject is None:
                continue
            m = UNECE.match(line)
            if m:
                unece.append(m.group(1).strip())
                continue
            m = UCUM.match(line)
            if m:
                ucum.append(m.group(1).strip())
                continue
            if DEPRECATED.match(line):
                deprecated = True
    if subject is not None:
        yield subject, deprecated, unece, ucum


def read_rec20(path):
    """Maps each Rec 20 common code to (status, English name)."""
    codes = {}
    # The CSV carries a few bytes that are not UTF-8 in its conversion-factor column; names are clean.
    with open(path, encoding="utf-8", errors="replace", newline="") as f:
        for row in csv.DictReader(f):
            code = (row.get("CommonCode") or "").strip()
            if code:
                codes[code] = ((row.get("Status") or "").strip(), (row.get("Name") or "").strip())
    return codes


class UcumChecker:
    """Is a string a valid case-sensitive UCUM expression? Grammar of UCUM §§ 1-7, atoms from ucum-essence.xml."""

    def __init__(self, path):
        root = ET.parse(path).getroot()
        ns = "{http://unitsofmeasure.org/ucum-essence}"
        self.prefixes = {p.get("Code") for p in root.iter(ns + "prefix")}
        self.atoms = {}
        for tag in ("base-unit", "unit"):
            for u in root.iter(ns + tag):
                # Base units are metric by definition.
                self.atoms[u.get("Code")] = tag == "base-unit" or u.get("isMetric") == "yes"

    def valid(self, s):
        try:
            pos = self._term(s, 1 if s.startswith("/") else 0)
            return pos == len(s)
        except ValueError:
            return False

    def _term(self, s, pos):
        pos = self._component(s, pos)
        while pos < len(s) and s[pos] in "./":
            pos = self._component(s, pos + 1)
        return pos

    def _component(self, s, pos):
        if pos >= len(s):
            raise ValueError("unit expected")
        if s[pos] == "(":
            pos = self._term(s, pos + 1)
            if pos >= len(s) or s[pos] != ")":
                raise ValueError("')' expected")
            pos += 1
        elif s[pos] == "{":
            return self._annotation(s, pos)
        else:
            end = pos
            while end < len(s) and s[end] not in "./(){}":
                if s[end] == "[":
                    close = s.find("]", end)
                    if close < 0:
                        raise ValueError("']' expected")
                    end = close + 1
                else:
                    end += 1
            if not self._simple(s[pos:end]):
                raise ValueError("unknown unit")
            pos = end
        if pos < len(s) and s[pos] == "{":
            pos = self._annotation(s, pos)
        return pos

    def _annotation(self, s, pos):
        close = s.find("}", pos)
        if close < 0:
            raise ValueError("'}' expected")
        return close + 1

    def _simple(self, sym):
        if sym.isdigit():
            return True  # a factor
        # A trailing signed integer is the exponent; the atom is what stands before it (`10*3` is `10*` cubed).
        m = re.match(r"^(.+?)([+-]?\d+)$", sym)
        if m and self._atom(m.group(1)):
            return True
        return self._atom(sym)

    def _atom(self, sym):
        if sym in self.atoms:
            return True
        for p in self.prefixes:
            if sym.startswith(p) and self.atoms.get(sym[len(p):]):
                return True
        return False


def preference(code):
    return (len(code), code.count("-"), code)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    base = "../shared/testdata/"
    ap.add_argument("--qudt", default=base + "qudt-units/src/main/rdf/vocab/unit/VOCAB_QUDT-UNITS-ALL.ttl")
    ap.add_argument("--rec20", default=base + "unece-rec20/data/units-of-measure.csv")
    ap.add_argument("--ucum", default=base + "ucum-2.2/ucum-essence.xml")
    args = ap.parse_args()

    rec20 = read_rec20(args.rec20)
    checker = UcumChecker(args.ucum)

    current, deprecated = {}, {}
    for _subject, is_deprecated, unece, ucum in read_qudt(args.qudt):
        target = deprecated if is_deprecated else current
        for code in unece:
            target.setdefault(code, set()).update(ucum)

    rows, left_out = [], {"deleted": 0, "not in Rec 20": 0, "no valid UCUM": 0}
    for code in sorted(set(current) | set(deprecated)):
        status, name = rec20.get(code, (None, None))
        if status is None:
            left_out["not in Rec 20"] += 1
            continue
        if status == "X":
            left_out["deleted"] += 1
            continue
        chosen = None
        for pool in (current.get(code, set()), deprecated.get(code, set())):
            valid = sorted((u for u in pool if checker.valid(u)), key=preference)
            if valid:
                chosen = valid[0]
                break
        if chosen is None:
            left_out["no valid UCUM"] += 1
            continue
        rows.append((code, chosen, name))

    out = sys.stdout
    out.write("# UN/CEFACT Rec 20 common code, UCUM code (case-sensitive), Rec 20 English name. Generated by\n")
    out.write("# unece-ucum.py beside this file from QUDT units (CC BY 4.0) joined on qudt:uneceCommonCode and\n")
    out.write("# qudt:ucumCode; Rec 20 codes deleted (status X) or unknown to Rec 20 left out. Do not edit by hand.\n")
    for code, ucum, name in rows:
        out.write(f"{code}\t{ucum}\t{name}\n")
    print(
        f"{len(rows)} codes written; left out: "
        + ", ".join(f"{n} {why}" for why, n in left_out.items()),
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
