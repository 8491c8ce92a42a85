"""Stamp a school's identity into a level's base template, fast.

A district issues 20-3,000 templates that differ only in a few strings (school name and
code, unit, per-file id, signature).  Building each with XlsxWriter costs ~0.5 s; instead
the base is built once with tokens and each school's file is the base with the tokens
replaced.  Unchanged zip members are copied as already-compressed bytes; a changed member
is compressed from its first token on, continuing a deflate stream whose prefix was
compressed once (zlib ``compressobj.copy()``), so a large sheet costs only its tail.
"""
from __future__ import annotations

import dataclasses
import re
import struct
import zipfile
import zlib
from io import BytesIO
from xml.sax.saxutils import escape

from kcl_xlsx.spec import identity as ident
from kcl_xlsx.issue.template_build import STAMPED, token

_TOKEN_RX = re.compile(rb"@@KCL:([a-z_]+)@@")
_DOS_DATE = (0 << 11) | (0 << 5)  # 00:00:00
_DOS_DAY = ((1980 - 1980) << 9) | (1 << 5) | 1  # 1980-01-01, as XlsxWriter writes


@dataclasses.dataclass
class _Member:
    name: bytes
    raw: bytes | None  # unchanged member: compressed bytes as they are
    crc: int
    size: int
    # changed member: compressed prefix (sync-flushed), its compressor and CRC, and the tail
    prefix: bytes = b""
    compressor: object = None
    tail: bytes = b""


class Stamper:
    """Prepared once per base template; :meth:`stamp` makes one school's file."""

    def __init__(self, base: bytes):
        self.members: list[_Member] = []
        with zipfile.ZipFile(BytesIO(base)) as zf:
            for info in zf.infolist():
                data = zf.read(info)
                m = _TOKEN_RX.search(data)
                if m is None:
                    raw = _deflate(data)
                    self.members.append(_Member(info.filename.encode(), raw, zlib.crc32(data), len(data)))
                    continue
                head = data[: m.start()]
                comp = zlib.compressobj(6, zlib.DEFLATED, -15)
                prefix = comp.compress(head) + comp.flush(zlib.Z_SYNC_FLUSH)
                self.members.append(_Member(info.filename.encode(), None, zlib.crc32(head), len(head),
                                            prefix=prefix, compressor=comp, tail=data[m.start():]))

    def stamp(self, values: dict[str, str]) -> bytes:
        """The base with every token replaced by ``values`` (XML-escaped where needed)."""
        subs = _substitutions(values)
        out, central = BytesIO(), BytesIO()
        for m in self.members:
            if m.raw is not None:
                raw, crc, size = m.raw, m.crc, m.size
            else:
                tail = _TOKEN_RX.sub(lambda t: subs[t.group(1).decode()], m.tail)
                comp = m.compressor.copy()
                raw = m.prefix + comp.compress(tail) + comp.flush()
                crc, size = zlib.crc32(tail, m.crc), m.size + len(tail)
            offset = out.tell()
            out.write(struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0x800, 8, _DOS_DATE, _DOS_DAY,
                                  crc, len(raw), size, len(m.name), 0))
            out.write(m.name)
            out.write(raw)
            central.write(struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0x800, 8, _DOS_DATE, _DOS_DAY,
                                      crc, len(raw), size, len(m.name), 0, 0, 0, 0, 0, offset))
            central.write(m.name)
        cd = central.getvalue()
        end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(self.members), len(self.members),
                          len(cd), out.tell(), 0)
        return out.getvalue() + cd + end


def _deflate(data: bytes) -> bytes:
    comp = zlib.compressobj(6, zlib.DEFLATED, -15)
    return comp.compress(data) + comp.flush()


def _substitutions(values: dict[str, str]) -> dict[str, bytes]:
    """Token name -> replacement bytes.  Every token sits in XML text, so values are
    XML-escaped; the print header also needs ``&`` doubled (``&`` starts a header code)."""
    out = {}
    for field in STAMPED:
        text = _clean(values.get(field, ""))
        out[field] = escape(text, {'"': "&quot;"}).encode("utf-8")
    header = _clean(values.get("school_name", ""))[:120].replace("&", "&&")
    out["header_school"] = escape(header).encode("utf-8")
    return out


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(text: str) -> str:
    # Characters XML 1.0 cannot carry would make the whole package unreadable.
    return _CONTROL.sub("", str(text)).strip()


def identity_values(identity: ident.Identity) -> dict[str, str]:
    """The stamped fields of an identity.  (The defined name carries only ids and the
    signature, which are hex: no quoting needed inside its formula text.)"""
    return {f: getattr(identity, f) for f in STAMPED}


__all__ = ["Stamper", "identity_values", "token"]
