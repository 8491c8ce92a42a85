"""Reading a PDF as printed, with poppler: every word with its position and height
(``pdftotext -bbox``), and each page's text as laid out (``pdftotext -layout``)."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tests.support.fill import nfc


def words(pdf: Path) -> list[list[tuple[float, float, str]]]:
    """Per page: (yMin, height, word) of every word."""
    xml = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    pages = []
    for page in xml.split("<page ")[1:]:
        found = re.findall(r'yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">([^<]*)<', page)
        pages.append([(float(a), float(b) - float(a), nfc(w)) for a, b, w in found])
    return pages


def page_texts(pdf: Path) -> list[str]:
    """Each page's text (-layout), runs of spaces and tabs as one space, NFC."""
    out = []
    n = len(words(pdf))
    for p in range(1, n + 1):
        text = subprocess.run(["pdftotext", "-f", str(p), "-l", str(p), "-layout", str(pdf), "-"],
                              capture_output=True, text=True, check=True).stdout
        out.append(nfc(re.sub(r"[ \t]+", " ", text)))
    return out
