"""Looks for macros in Office files (oletools: olevba to find and decompress VBA, the mraptor rule to judge
it) and for risky objects in RTF files. Works on bytes in memory; never runs anything.

mraptor's rule: a macro that starts by itself (AutoOpen, Document_Open, Workbook_Open, ...) AND writes
files or runs programs is suspicious. olevba is only called when the bytes show a VBA project, so that
ordinary documents cost nothing; every call is guarded, because olevba parses hostile files.
"""

import html
import io
import logging
import re
import zipfile
from dataclasses import dataclass, field
from types import ModuleType

# Office file types that can hold macros (by extension). Plain docx/xlsx/pptx cannot run VBA.
MACRO_ENABLED_EXTS = frozenset(
    "docm dotm xlsm xltm xlsb xlam pptm potm ppsm ppam sldm".split()
)
OLE_OFFICE_EXTS = frozenset("doc dot xls xlt xla ppt pps pot".split())

_MAX_OLEVBA_BYTES = 8 * 1024 * 1024  # larger files are judged by the heuristic only
_MAX_CODE = 1024 * 1024  # macro source scanned by the regexes
_VBA_MARKERS = (
    "_VBA_PROJECT".encode("utf-16-le"),
    "_VBA_PROJECT_CUR".encode("utf-16-le"),
    b"M\x00a\x00c\x00r\x00o\x00s\x00\x00\x00",
)
_WORKBOOK_MARKER = "Workbook".encode("utf-16-le")
_LURE = re.compile(
    rb"enable\s+(?:the\s+)?(?:content|editing|macros?)|"
    + b"|".join(re.escape(t.encode("utf-16-le")) for t in ("Enable Content", "Enable Editing", "Enable Macros")),
    re.I,
)
# Beyond mraptor's write/execute: signs that the macro fetches something from the internet.
_DOWNLOAD = re.compile(
    r"(?i)\b(URLDownloadToFile\w*|MSXML2\.XMLHTTP|Microsoft\.XMLHTTP|WinHttp\.WinHttpRequest|ServerXMLHTTP|"
    r"DownloadFile|DownloadString|Invoke-WebRequest|Net\.WebClient|bitsadmin|certutil)\b|https?://[\w.-]+"
)
_EXECUTE_EXTRA = re.compile(r"(?i)\b(powershell|cmd(?:\.exe)?\s*/c|WScript\.Shell|mshta|rundll32|regsvr32)\b")
_PRINTABLE = re.compile(rb"[\x20-\x7e\t\r\n]{6,}")


@dataclass(slots=True)
class MacroReport:
    present: bool = False
    language: str = ""  # "VBA" or "Excel 4"
    autoexec: str = ""  # the trigger that starts it by itself ('' if none)
    write: str = ""  # how it writes files ('' if it does not)
    execute: str = ""  # how it runs programs ('' if it does not)
    download: str = ""  # how it fetches from the internet ('' if it does not)
    lure: bool = False  # the document asks you to "Enable Content"
    part: str = ""  # where the macros sit in a zip-based file ("word/vbaProject.bin", "xl/macrosheets/...")

    @property
    def suspicious(self) -> bool:
        """mraptor's verdict, with downloading counted like running."""
        return bool(self.autoexec and (self.write or self.execute or self.download))


_quiet = False


def _olevba() -> tuple[ModuleType, ModuleType]:
    """Imports olevba on first use (it is slow to import) and silences its logging."""
    global _quiet
    from oletools import mraptor, olevba  # noqa: PLC0415 - lazy: most mail has no Office file

    if not _quiet:
        for name in ("olevba", "olefile", "mraptor", "ppt_parser", "oletools", "rtfobj", "oleobj"):
            logging.getLogger(name).setLevel(logging.CRITICAL + 1)
        _quiet = True
    return olevba, mraptor


def _judge_code(report: MacroReport, code: str) -> None:
    """Applies the mraptor rule and the download signs to macro source code."""
    code = code[:_MAX_CODE]
    _, mraptor = _olevba()
    raptor = mraptor.MacroRaptor(code)
    raptor.scan()
    report.autoexec = report.autoexec or (raptor.autoexec_match or "")
    report.write = report.write or (raptor.write_match or "")
    report.execute = report.execute or (raptor.execute_match or "")
    if not report.execute and (m := _EXECUTE_EXTRA.search(code)):
        report.execute = m.group()
    if not report.download and (m := _DOWNLOAD.search(code)):
        report.download = m.group()


def _has_vba_marker(data: bytes) -> bool:
    return any(marker in data for marker in _VBA_MARKERS)


def _printable(data: bytes) -> str:
    return "\n".join(m.group().decode("latin-1") for m in _PRINTABLE.finditer(data[: 2 * _MAX_CODE]))


def _scan_with_olevba(report: MacroReport, data: bytes, name: str) -> bool:
    """Runs olevba on an OLE or OOXML file; True if it gave an answer."""
    if len(data) > _MAX_OLEVBA_BYTES:
        return False
    try:
        olevba, _ = _olevba()
        parser = olevba.VBA_Parser(name or "attachment", data=data)
        try:
            vba = parser.detect_vba_macros()
            xlm = False
            if parser.type in ("OLE", "OpenXML"):
                try:
                    xlm = bool(parser.detect_xlm_macros())
                except Exception:  # noqa: BLE001 - the XLM plugin fails on odd workbooks; VBA still counts
                    xlm = False
            if not (vba or xlm):
                return True
            report.present = True
            report.language = "VBA" if vba else "Excel 4"
            code = parser.get_vba_code_all_modules() if vba else ""
            if xlm and hasattr(parser, "xlm_macros"):
                code += "\n" + "\n".join(str(line) for line in (parser.xlm_macros or []))
            if isinstance(code, bytes):
                code = code.decode("latin-1")
            _judge_code(report, code or "")
            if not code.strip():
                _judge_code(report, _printable(data))
            return True
        finally:
            parser.close()
    except Exception:  # noqa: BLE001 - olevba parses hostile files; any failure falls back to the heuristic
        return False


def analyse_ole(data: bytes, name: str = "") -> MacroReport:
    """Macros in an old-format Office file (OLE compound file) or in an OOXML vbaProject.bin."""
    report = MacroReport()
    report.lure = bool(_LURE.search(data[: 2 * _MAX_CODE]))
    marker = _has_vba_marker(data)
    workbook = _WORKBOOK_MARKER in data  # Excel 4 macros have no VBA project: let olevba look
    if not marker and not workbook:
        return report
    if _scan_with_olevba(report, data, name) and (report.present or not marker):
        return report
    # olevba could not read the VBA project: the markers alone prove macros are there; judge the
    # readable text (uncompressed source, names of what it calls).
    report.present = True
    report.language = "VBA"
    _judge_code(report, _printable(data))
    return report


def analyse_ooxml(data: bytes) -> MacroReport:
    """Macros in a zip-based Office file: a vbaProject.bin part (VBA) or a macro sheet (Excel 4)."""
    report = MacroReport()
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()[:2000]
        vba = [i for i in infos if i.filename.lower().endswith("vbaproject.bin")]
        sheets = [i for i in infos if "/macrosheets/" in i.filename.lower()]
        texts = [
            i for i in infos
            if i.filename.lower() in ("word/document.xml", "xl/sharedstrings.xml", "xl/workbook.xml")
            or i.filename.lower().startswith(("xl/worksheets/sheet1", "ppt/slides/slide1"))
        ]
        for info in texts:
            if info.file_size <= 2 * _MAX_CODE and info.file_size <= 200 * max(info.compress_size, 1):
                text = zf.read(info)
                report.lure |= bool(_LURE.search(text))
                if info.filename.lower() == "xl/workbook.xml" and re.search(rb"(?i)_xlnm\.Auto_Open", text):
                    report.autoexec = "Auto_Open"
        for info in vba[:3]:
            report.present = True
            report.part = report.part or info.filename
            report.language = report.language or "VBA"
            if info.file_size > _MAX_OLEVBA_BYTES or info.file_size > 200 * max(info.compress_size, 1):
                continue
            inner = analyse_ole(zf.read(info), info.filename)
            for attr in ("autoexec", "write", "execute", "download"):
                setattr(report, attr, getattr(report, attr) or getattr(inner, attr))
        if sheets:
            report.present = True
            report.part = report.part or sheets[0].filename
            report.language = report.language or "Excel 4"
    except Exception:  # noqa: BLE001 - damaged zips: say nothing rather than guess
        return report
    if not report.present:
        report.autoexec = ""
    return report


@dataclass(slots=True)
class RtfReport:
    objects: bool = False
    autoupdate: bool = False  # \objupdate: the object loads itself when the file opens
    risky_class: str = ""  # Equation.3 (the old equation editor, a known attack) or Package (a file)


_RTF_CLASS = re.compile(rb"\\objclass\s+(Equation\.3|Package|htmlfile|OLE2Link)", re.I)
_RTF_HEX_CLASS = re.compile(
    b"|".join(s.encode().hex().encode() for s in ("Equation.3", "Package", "OLE2Link")), re.I
)


def analyse_rtf(data: bytes) -> RtfReport:
    report = RtfReport()
    head = data[: 8 * 1024 * 1024]
    report.objects = b"\\object" in head or b"\\objdata" in head
    if not report.objects:
        return report
    report.autoupdate = b"\\objupdate" in head
    m = _RTF_CLASS.search(head)
    if m:
        report.risky_class = m.group(1).decode("ascii")
    else:
        h = _RTF_HEX_CLASS.search(head.replace(b"\r", b"").replace(b"\n", b""))
        if h:
            report.risky_class = bytes.fromhex(h.group().decode("ascii")).decode("latin-1")
    return report


# --- what an Office file reaches for besides macros ----------------------------------------------------

# Zip-based Office types (by name) whose content is judged: plain ones too, since a file named .docx can
# still hold a VBA project, a remote template or a DDE field.
OOXML_EXTS = frozenset(
    "docx docm dotx dotm xlsx xlsm xltx xltm xlsb xlam pptx pptm potx potm ppsx ppsm ppam sldx sldm".split()
)
_MAX_XML = 2 * 1024 * 1024  # one XML part read for relationships or fields
_MAX_XML_TOTAL = 8 * 1024 * 1024  # all XML parts of one file together
_MAX_FOUND = 10  # targets kept per kind
_RELATIONSHIP = re.compile(rb"<(?:\w+:)?Relationship\b([^<>]*)>", re.I)
_ATTRIBUTE = re.compile(rb"""([\w:]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_INSTR_TEXT = re.compile(rb"<w:instrText\b[^<>]*>([^<]*)</w:instrText>", re.I)
_FLD_SIMPLE = re.compile(rb"<w:fldSimple\b[^<>]*\bw:instr\s*=\s*(?:\"([^\"]*)\"|'([^']*)')", re.I)
_DDE_FIELD = re.compile(r"(?:^|[\s{\"])(DDE(?:AUTO)?)\s+(\S[^\r\n]{0,200})", re.I)
_DDE_LINK = re.compile(
    rb"<(?:\w+:)?ddeLink\b[^<>]*\bddeService\s*=\s*\"([^\"]*)\"(?:[^<>]*\bddeTopic\s*=\s*\"([^\"]*)\")?", re.I
)
_RTF_DDE = re.compile(rb"\\fldinst[^}]{0,200}?\b(DDE(?:AUTO)?)\b\s*([^}\\]{0,200})", re.I)
# A spreadsheet cell that asks Excel to start a program: =cmd|'/c calc'!A0 (also with + - @ in front).
_CSV_DDE = re.compile(rb"(?m)(?:^|[,;\t])\s*\"?[=+\-@]\s*([\w.]{1,40})\s*\|\s*'([^'\r\n]{0,200})'\s*!")
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# The old Equation Editor, by its class name or its CLSID (0002CE02-0000-0000-C000-000000000046)
_EQUATION = re.compile(rb"Equation\.3|Microsoft Equation 3\.0|\x02\xce\x02\x00\x00\x00\x00\x00\xc0\x00{6}F")


@dataclass(slots=True)
class Embedded:
    """A file packed into an Office document as an object (an OLE 'Package'), or an old equation object."""

    part: str  # where it sits in the document ("word/embeddings/oleObject1.bin")
    name: str = ""  # the packed file's name ('' when none)
    data: bytes | None = None  # its content, when it is small enough
    equation: bool = False  # the old Equation Editor (CVE-2017-11882)


@dataclass(slots=True)
class OfficeReport:
    """What a zip-based Office file (or an RTF or CSV file) reaches for when opened, besides macros."""

    ooxml: bool = False  # it is an Office file by content ([Content_Types].xml)
    templates: list[str] = field(default_factory=list)  # remote templates (attachedTemplate, external)
    links: list[str] = field(default_factory=list)  # objects loaded from outside (oleObject, frame, ...)
    embedded: list[Embedded] = field(default_factory=list)
    dde: list[str] = field(default_factory=list)  # DDE commands ("DDEAUTO c:\\windows\\system32\\cmd.exe ...")
    parts: list[str] = field(default_factory=list)  # the parts the findings come from

    @property
    def found(self) -> bool:
        return bool(self.templates or self.links or self.dde or self.embedded)


def _attributes(raw: bytes) -> dict[str, str]:
    out = {}
    for m in _ATTRIBUTE.finditer(raw):
        key = m.group(1).decode("latin-1").split(":")[-1].lower()
        value = m.group(2) if m.group(2) is not None else m.group(3) or b""
        out[key] = html.unescape(value.decode("utf-8", "replace"))
    return out


def _relationships(report: OfficeReport, part: str, text: bytes) -> None:
    for m in _RELATIONSHIP.finditer(text):
        attrs = _attributes(m.group(1))
        if attrs.get("targetmode", "").lower() != "external":
            continue
        kind = attrs.get("type", "").rsplit("/", 1)[-1].lower()
        target = attrs.get("target", "").strip()
        if not target:
            continue
        if kind == "attachedtemplate":
            found = report.templates
        elif kind in ("oleobject", "frame", "subdocument", "package", "externallinkpath"):
            found = report.links
        else:
            continue  # hyperlinks and pictures from the web are ordinary
        if target not in found and len(found) < _MAX_FOUND:
            found.append(target)
            report.parts.append(part)


def _dde_fields(report: OfficeReport, part: str, text: bytes) -> None:
    pieces = [m.group(1) for m in _INSTR_TEXT.finditer(text)]
    pieces += [m.group(1) or m.group(2) or b"" for m in _FLD_SIMPLE.finditer(text)]
    joined = html.unescape(b"".join(pieces).decode("utf-8", "replace"))
    for m in _DDE_FIELD.finditer(joined):
        if len(report.dde) < _MAX_FOUND:
            report.dde.append(f"{m.group(1).upper()} {m.group(2).strip()}")
            report.parts.append(part)
    for link in _DDE_LINK.finditer(text):
        if len(report.dde) < _MAX_FOUND:
            topic = (link.group(2) or b"").decode("utf-8", "replace")
            report.dde.append(html.unescape(f"DDE {link.group(1).decode('utf-8', 'replace')} {topic}").strip())
            report.parts.append(part)


def _embedded(part: str, data: bytes) -> Embedded | None:
    """The file packed in an embedded OLE object (Ole10Native stream), or an equation object; None for the
    ordinary embedded charts and sheets."""
    if not data.startswith(_OLE_MAGIC):
        return None
    if _EQUATION.search(data[: 64 * 1024]):
        return Embedded(part, equation=True)
    if "Ole10Native".encode("utf-16-le") not in data[: 64 * 1024] and b"Ole10Native" not in data[:64 * 1024]:
        return None
    try:
        import olefile  # noqa: PLC0415 - only for the rare embedded package
        from oletools import oleobj  # noqa: PLC0415

        _olevba()  # silences the oletools loggers
        ole = olefile.OleFileIO(data)
        try:
            if not ole.exists("\x01Ole10Native"):
                return None
            native = ole.openstream("\x01Ole10Native").read(_MAX_OLEVBA_BYTES)
        finally:
            ole.close()
        stream = oleobj.OleNativeStream(native)
    except Exception:  # noqa: BLE001 - olefile and oleobj parse hostile bytes; unreadable = a package of unknown name
        return Embedded(part)
    name = str(stream.filename or stream.src_path or "")
    name = re.split(r"[\\/]", name)[-1]
    content = stream.data if isinstance(stream.data, bytes) else None
    return Embedded(part, name=name, data=content)


def analyse_ooxml_links(data: bytes) -> OfficeReport:
    """Remote templates, objects loaded from outside, packed files and DDE fields of a zip-based Office file.
    Works on the zip's XML parts; nothing is fetched or opened."""
    report = OfficeReport()
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()[:2000]
        names = {i.filename.lower() for i in infos}
        report.ooxml = "[content_types].xml" in names
        if not report.ooxml:
            return report
        budget = _MAX_XML_TOTAL
        for info in infos:
            lower = info.filename.lower()
            readable = info.file_size <= _MAX_XML and info.file_size <= 200 * max(info.compress_size, 1)
            if not readable or info.file_size > budget:
                continue
            if lower.endswith(".rels"):
                budget -= info.file_size
                _relationships(report, info.filename, zf.read(info))
            elif (lower.startswith("word/") and lower.endswith(".xml") and "/" not in lower[5:]
                  and lower.split("/")[-1].startswith(("document", "header", "footer", "footnotes", "endnotes"))) \
                    or lower.startswith("xl/externallinks/externallink"):
                budget -= info.file_size
                _dde_fields(report, info.filename, zf.read(info))
            elif "/embeddings/" in lower and lower.endswith(".bin") and len(report.embedded) < _MAX_FOUND:
                if info.file_size <= _MAX_OLEVBA_BYTES and info.file_size <= 200 * max(info.compress_size, 1):
                    found = _embedded(info.filename, zf.read(info))
                    if found is not None:
                        report.embedded.append(found)
                        report.parts.append(info.filename)
    except Exception:  # noqa: BLE001 - damaged zips: report what was read before the damage
        return report
    return report


def analyse_rtf_dde(data: bytes) -> list[str]:
    """DDE fields of an RTF document ('DDEAUTO c:\\\\windows\\\\system32\\\\cmd.exe ...')."""
    return [f"{m.group(1).decode().upper()} {m.group(2).decode('latin-1').strip()}"
            for m in _RTF_DDE.finditer(data[: 8 * 1024 * 1024])][:_MAX_FOUND]


def analyse_csv_dde(data: bytes) -> list[str]:
    """Cells of a CSV text that start a program through DDE (=cmd|'/c calc'!A0)."""
    return [f"{m.group(1).decode('latin-1')}|'{m.group(2).decode('latin-1')}'" for m in _CSV_DDE.finditer(data)][
        :_MAX_FOUND
    ]
