"""PDFs made by the tests: good ones with pypdfium2, a corrupt one, and an encrypted one written by hand
(a standard security handler whose password checks fail, so PDFium asks for a password)."""
from __future__ import annotations

import io

import pypdfium2 as pdfium


def pdf_with_pages(count: int, size: tuple[float, float] = (300, 400)) -> bytes:
    document = pdfium.PdfDocument.new()
    for _ in range(count):
        document.new_page(*size)
    buffer = io.BytesIO()
    document.save(buffer)
    document.close()
    return buffer.getvalue()


def _hand_written(objects: list[bytes], trailer_extra: bytes = b"") -> bytes:
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += (b"trailer\n<< /Size %d /Root 1 0 R " % (len(objects) + 1) + trailer_extra
            + b" >>\nstartxref\n%d\n%%%%EOF\n" % xref)
    return bytes(out)


_PAGE_TREE = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
              b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>"]


def plain_hand_written_pdf() -> bytes:
    """The same document as encrypted_pdf() without the /Encrypt entry (it opens: the writer is right)."""
    return _hand_written(_PAGE_TREE)


def encrypted_pdf() -> bytes:
    encrypt = b"<< /Filter /Standard /V 1 /R 2 /O <" + b"ab" * 32 + b"> /U <" + b"cd" * 32 + b"> /P -4 >>"
    file_id = b"<" + b"01" * 16 + b">"
    return _hand_written(_PAGE_TREE + [encrypt], b"/Encrypt 4 0 R /ID [" + file_id + b" " + file_id + b"]")


def corrupt_pdf() -> bytes:
    """A PDF header, then a good document cut in half (no cross-reference table, no trailer)."""
    data = pdf_with_pages(2)
    return data[: len(data) // 2]
