"""Looks for macros in Office files (oletools: olevba to find and decompress VBA, the mraptor rule to judge
it) and for risky objects in RTF files. Works on bytes in memory; never runs anything.

mraptor's rule: a macro that starts by itself (AutoOpen, Document_Open, Workbook_Open, ...) AND writes
files or runs programs is suspicious. olevba is only called when the bytes show a VBA project, so that
ordinary documents cost nothing; every call is guarded, because olevba parses hostile files.
"""

import io
import logging
import re
import zipfile
from dataclasses import dataclass
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
            report.language = report.language or "VBA"
            if info.file_size > _MAX_OLEVBA_BYTES or info.file_size > 200 * max(info.compress_size, 1):
                continue
            inner = analyse_ole(zf.read(info), info.filename)
            for attr in ("autoexec", "write", "execute", "download"):
                setattr(report, attr, getattr(report, attr) or getattr(inner, attr))
        if sheets:
            report.present = True
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
