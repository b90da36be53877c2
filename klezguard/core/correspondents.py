"""The user's correspondents: who they are, the names they go by, and how their mail usually arrives.

Klez mailed people as someone they knew. Header checks alone cannot see that; the user's own history
can: the Sent folder (whom the user writes to), mail already scanned and judged clean (who writes and
how it arrives), and address books the user imports. Everything here stays on the machine.
"""

import functools
import re
import time
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from klezguard.core import authresults, bounces
from klezguard.core.domains import is_freemail, org_domain
from klezguard.core.headers import message_ids
from klezguard.core.message import Message

# How a message arrives, in the words the memory keeps ("kinds" of path facts).
PATH_KINDS = ("dkim", "spf", "dmarc", "host", "msgid", "mailer", "file")
USUAL_SHARE = 0.8  # a fact seen in this share of a contact's mail is "how their mail usually arrives"
USUAL_MIN = 3  # ... and only after this many messages: two mails are no habit

_WORD = re.compile(r"\w+")
# Titles and company forms that one writer puts in and another leaves out: "Dr. Anna Weber",
# "Weber Bau GmbH" and "Weber Bau" are the same correspondent.
_TITLES = frozenset(
    "dr prof mr mrs ms miss mx sir herr frau hr fr ing dipl mag mme mlle monsieur madame sra srta "
    "dhr mevr sig sigra dott dottssa ir med rer nat phil jur dent vet oec mba msc bsc phd llm jr".split()
)  # (not "Don", "Pan", "Sen", "Jun", "Meng", "Ma": they are names too)
_COMPANY_FORMS = frozenset(
    "gmbh mbh ag kg ohg ug gbr partg mbb haftungsbeschrankt kgaa se ltd limited llc llp plc inc corp co sa sas "
    "sarl eurl sasu snc srl srls spa bv bvba nv vof ab as asa aps oy oyj sl slu ltda sp zoo oo eg ev kft zrt "
    "sro spol doo".split()
)
# Letters that do not come apart into a base letter and an accent, as people write them without one
_PLAIN_LETTERS = str.maketrans({"ł": "l", "ı": "i", "ø": "o", "đ": "d", "ð": "d", "þ": "th", "æ": "ae", "œ": "oe",
                                "ß": "ss", "ŀ": "l", "ħ": "h"})
# German umlauts are also written out: "Günther" is "Gunther" and "Guenther"
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue"})
# Words of role names ("Customer Service", "Accounts Team"): many firms use them, so they name nobody.
_ROLE_WORDS = frozenset(
    "account accounts admin billing customer customers delivery department desk enquiries enquiry help "
    "helpdesk info mail mailer news newsletter noreply notification notifications office reply sales "
    "service services support system team".split()
)


@functools.lru_cache(maxsize=8192)
def _words(name: str, umlauts: bool = False) -> tuple[str, ...]:
    """The words of a name as a reader takes them: case, accents, look-alike letters of other scripts
    (a Cyrillic 'а'), titles, company forms and initials do not count."""
    from klezguard.core.lookalike import skeleton  # (the confusables table, read once)

    text = unicodedata.normalize("NFC", name).casefold()
    if umlauts:
        text = text.translate(_UMLAUTS)
    # (other scripts' look-alikes only: a skeleton of plain letters would read "m" as "rn" and "w" as "vv")
    text = "".join(ch if ch.isascii() else skeleton(ch) for ch in text.translate(_PLAIN_LETTERS))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return tuple(w for w in _WORD.findall(text) if len(w) > 1 and w not in _TITLES and w not in _COMPANY_FORMS)


def _has_umlaut(name: str) -> bool:
    return not name.isascii() and any(ch in "äöüÄÖÜ" for ch in unicodedata.normalize("NFC", name))


def name_keys(name: str) -> tuple[str, ...]:
    """A person's or firm's name in the forms to compare ("Dr. Müller, Anna" -> "anna muller" and "anna mueller"),
    or () when it names nobody in particular (one word, an address, a role such as "Customer Service")."""
    if "@" in name:
        return ()
    keys = []
    for umlauts in (False, True) if _has_umlaut(name) else (False,):
        words = _words(name, umlauts)
        if len(words) < 2 or len("".join(words)) < 4 or any(w in _ROLE_WORDS for w in words):
            return ()
        key = " ".join(sorted(words))
        if key not in keys:
            keys.append(key)
    return tuple(keys)


def name_key(name: str) -> str:
    """The first of `name_keys` ('' when the name names nobody in particular)."""
    keys = name_keys(name)
    return keys[0] if keys else ""


class NameIndex:
    """Who goes by which name, to find a known name inside a shown one: "Gareth Lloyd (CEO)" and
    "Lloyd, Gareth | Accounts" both carry "Gareth Lloyd"."""

    def __init__(self, known: dict[str, frozenset[str]]):
        self.known = known
        self._by_word: dict[str, list[str]] = {}
        for key in known:
            for word in key.split():
                self._by_word.setdefault(word, []).append(key)

    def find(self, shown: str) -> tuple[str, frozenset[str]] | None:
        """(known key, its addresses) of a known name all of whose words the shown name holds."""
        if "@" in shown or not self.known:
            return None
        for umlauts in (False, True) if _has_umlaut(shown) else (False,):
            words = set(_words(shown, umlauts))
            for word in sorted(words):
                for key in self._by_word.get(word, ()):
                    if set(key.split()) <= words:
                        return key, self.known[key]
        return None


# --- how one message arrives ---------------------------------------------------------------------------


_MAILERS = (  # (words in X-Mailer / User-Agent, family): the program, not its version
    ("iphone", "iphone mail"), ("ipad", "iphone mail"), ("apple mail", "apple mail"), ("thunderbird", "thunderbird"),
    ("outlook", "outlook"), ("microsoft", "outlook"), ("gmail", "gmail"), ("android", "android mail"),
    ("k-9", "android mail"), ("roundcube", "roundcube"), ("sogo", "sogo"), ("horde", "horde"),
    ("evolution", "evolution"), ("kmail", "kmail"), ("mutt", "mutt"), ("zimbra", "zimbra"), ("lotus", "notes"),
    ("open-xchange", "open-xchange"), ("phpmailer", "phpmailer"), ("the bat", "the bat"),
)


def mailer_family(msg: Message) -> str:
    """The mail program family from X-Mailer or User-Agent ('' when the mail does not say)."""
    text = (msg.header("x-mailer") or msg.header("user-agent")).lower()
    if not text:
        return ""
    for words, family in _MAILERS:
        if words in text:
            return family
    first = _WORD.findall(text)
    return first[0][:30] if first else ""


@dataclass(frozen=True, slots=True)
class Arrival:
    """What one message tells about its sender and the way it came."""

    address: str
    name: str
    when: float
    dkim: tuple[str, ...] = ()  # domains (d=) whose DKIM signature the user's provider confirmed
    checked: bool = False  # the user's provider's verdict was there to read
    host: str = ""  # organisation of the host that handed it to the provider ('unnamed', '' = not shown)
    msgid: str = ""  # organisation in the Message-ID
    mailer: str = ""  # mail program family
    spf: tuple[str, ...] = ()  # organisations SPF passed for, by the user's provider
    dmarc: str = ""  # the provider's DMARC result
    files: tuple[str, ...] = ()  # extensions of the attached files
    dkim_unsure: bool = False  # the provider could not check a signature this time (temperror)

    def facts(self) -> Iterator[tuple[str, str]]:
        """(kind, value) pairs the memory counts."""
        if self.checked:
            for kind, values in (("dkim", self.dkim), ("spf", self.spf)):
                yield kind, "#"  # (messages, for kinds with several values per message)
                for value in values or ("-",):  # "-": the provider checked and none passed
                    yield kind, value
            yield "dmarc", self.dmarc or "-"
        for kind, value in (("host", self.host), ("msgid", self.msgid), ("mailer", self.mailer)):
            if value:
                yield kind, value
        yield "file", "#"
        for ext in self.files or ("-",):  # "-": no file attached
            yield "file", ext


_MACHINE_SENDER = re.compile(r"(?i)^(?:no-?reply|do-?not-?reply|mailer-daemon|postmaster|bounces?)(?:[+._-].*)?$")


def teaches(msg: Message) -> bool:
    """Mail from a person or firm writing to the user. Bounces, auto-replies, complaints and reports (a
    mail server or a stranger answering mail the user may never have sent), mailing lists, newsletters and
    mail with no return address say nothing about whom the user deals with."""
    if msg.is_mailing_list or msg.null_return_path or msg.has("list-unsubscribe"):
        return False
    if msg.header("auto-submitted").lower() not in ("", "no"):
        return False
    fa = msg.from_addr
    if fa is not None and _MACHINE_SENDER.match(fa.local):
        return False  # a service's robot: nobody the user deals with
    return bounces.analyse(msg) is None


def arrival(msg: Message, trusted_authserv: frozenset[str], when: float | None = None) -> Arrival | None:
    """How `msg` came, or None when its From holds no usable address."""
    fa = msg.from_addr
    if fa is None or "@" not in fa.addr or not fa.domain:
        return None
    ar = authresults.read(msg, trusted_authserv)
    # the whole signing domain: a shared platform's organisation (gappssmtp.com, onmicrosoft.com) signs for
    # thousands of customers, each under a name of its own
    dkim = tuple(sorted({d.lower().rstrip(".") for d in ar.passed("dkim") if d})) if ar.found else ()
    ids = message_ids(msg.header("message-id"))
    msgid = org_domain(ids[0].rpartition("@")[2]) if ids and "@" in ids[0] else ""
    files = tuple(sorted({p.extension.lower() or p.content_type for p in msg.parts if p.is_attachment}))[:10]
    return Arrival(
        address=fa.addr.lower(),
        name=fa.name,
        when=time.time() if when is None else when,
        dkim=dkim,
        checked=ar.found,
        host=authresults.entry_host(msg, trusted_authserv),
        msgid=msgid,
        mailer=mailer_family(msg),
        spf=tuple(sorted({org_domain(d) for d in ar.passed("spf") if d})) if ar.found else (),
        dmarc=ar.dmarc if ar.found else "",
        files=files,
        dkim_unsure=ar.found and any(r.result == "temperror" for r in ar.of("dkim")),
    )


# --- the memory ----------------------------------------------------------------------------------------


@dataclass
class Contact:
    """One correspondent address and what the user's mail tells about it."""

    address: str
    names: Counter[str] = field(default_factory=Counter)  # display names, as written
    received: int = 0  # clean messages from it
    written: int = 0  # messages the user sent to it
    in_book: bool = False  # in an address book the user imported
    first: float = 0.0
    last: float = 0.0
    paths: dict[str, Counter[str]] = field(default_factory=dict)  # kind -> value -> messages

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2]

    @property
    def vouched(self) -> bool:
        """The user knows this address: wrote to it, keeps it in an address book, or had mail from it that the
        provider confirmed, three times over a week or more, from the sender's own domain. A few mails from a
        stranger make nobody a correspondent."""
        return self.written > 0 or self.in_book or (
            self.received >= 3 and self.last - self.first >= 7 * 86400 and self.authenticated >= 3
            and not is_freemail(self.domain))  # (anyone can open a free-mail address and write from it)

    @property
    def authenticated(self) -> int:
        """Messages whose sender the user's provider confirmed (DMARC pass): mail anyone could forge vouches
        for nobody."""
        return self.paths.get("dmarc", Counter()).get("pass", 0)

    def usual(self, kind: str) -> tuple[str, int] | None:
        """(value, messages) when one value of `kind` is how this address's mail usually arrives."""
        counts = self.paths.get(kind)
        if not counts:
            return None
        values = Counter({v: n for v, n in counts.items() if v != "#"})
        if not values:
            return None
        total = counts.get("#") or sum(values.values())  # messages, where a message may carry several values
        value, times = values.most_common(1)[0]
        if total >= USUAL_MIN and times >= USUAL_SHARE * total:
            return value, times
        return None

    def seen(self, kind: str, value: str) -> bool:
        return value != "#" and value in self.paths.get(kind, ())

    def touch(self, when: float) -> None:
        if when:
            self.first = min(self.first, when) if self.first else when
            self.last = max(self.last, when)


@dataclass
class Memory:
    """An account's correspondents, built incrementally; `names` answers "who goes by this name"."""

    contacts: dict[str, Contact] = field(default_factory=dict)
    _known: int | None = field(default=None, repr=False, compare=False)

    def known_count(self) -> int:
        """How many correspondents the user knows (vouched for); read per message, so kept."""
        if self._known is None:
            self._known = sum(1 for _ in self.vouched())
        return self._known

    def contact(self, address: str) -> Contact:
        self._known = None
        address = address.lower()
        found = self.contacts.get(address)
        if found is None:
            found = self.contacts[address] = Contact(address)
        return found

    def get(self, address: str) -> Contact | None:
        return self.contacts.get(address.lower())

    def learn(self, seen: Arrival) -> None:
        """A clean message from `seen.address` (a message judged a threat or suspicious teaches nothing:
        the caller decides)."""
        c = self.contact(seen.address)
        c.received += 1
        c.touch(seen.when)
        if seen.name and name_key(seen.name):
            c.names[seen.name] += 1
        for kind, value in seen.facts():
            c.paths.setdefault(kind, Counter())[value] += 1

    def wrote_to(self, address: str, name: str = "", when: float = 0.0) -> None:
        c = self.contact(address)
        c.written += 1
        c.touch(when)
        if name and name_key(name):
            c.names[name] += 1

    def add_to_book(self, address: str, names: Iterable[str]) -> None:
        c = self.contact(address)
        c.in_book = True
        for name in names:
            if name and name_key(name):
                c.names[name] += 1

    def forget(self, address: str) -> bool:
        self._known = None
        return self.contacts.pop(address.lower(), None) is not None

    def vouched(self) -> Iterator[Contact]:
        return (c for c in self.contacts.values() if c.vouched)

    def names(self) -> dict[str, frozenset[str]]:
        """name key -> the vouched-for addresses that go by that name."""
        out: dict[str, set[str]] = {}
        for c in self.vouched():
            for name in c.names:
                for key in name_keys(name):
                    out.setdefault(key, set()).add(c.address)
        return {k: frozenset(v) for k, v in out.items()}

    def addresses(self) -> frozenset[str]:
        return frozenset(c.address for c in self.vouched())

    def __len__(self) -> int:
        return len(self.contacts)


# --- address books -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BookEntry:
    names: tuple[str, ...]
    addresses: tuple[str, ...]


class BookError(ValueError):
    """An address book file that cannot be read (the message says why, in plain words)."""


def read_book(data: bytes, filename: str = "") -> list[BookEntry]:
    """The entries of a vCard (3 or 4) file or of a CSV export (Thunderbird, Outlook, Google Contacts)."""
    text = _decode(data)
    head = text.lstrip("\ufeff \r\n\t")[:200].upper()
    if head.startswith("BEGIN:VCARD") or filename.lower().endswith((".vcf", ".vcard")):
        return _read_vcards(text)
    return _read_csv(text)


def _decode(data: bytes) -> str:
    head = data[:1000]
    if head.count(b"\x00") > len(head) // 4:  # UTF-16 without a byte-order mark
        return data.decode("utf-16-le" if head[1:2] == b"\x00" else "utf-16-be", "replace")
    for codec in ("utf-8-sig", "utf-16"):
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        if codec == "utf-16" and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
            continue
        return text
    return data.decode("cp1252", "replace")  # Outlook's CSV export in western Windows


_CARD_START = re.compile(r"^(?=BEGIN:VCARD\s*$)", re.I | re.M)
_CARD_END = re.compile(r"^END:VCARD\s*$", re.I | re.M)


def _cards(text: str) -> list[str]:
    """Each BEGIN:VCARD ... END:VCARD; a card that never ends is left out, not merged with the next."""
    cards = []
    for piece in _CARD_START.split(text):
        end = _CARD_END.search(piece)
        if piece[:11].upper() == "BEGIN:VCARD" and end:
            cards.append(piece[: end.end()])
    return cards
_ADDRESS = re.compile(r"[^\s@<>\"',;:]+@[^\s@<>\"',;:]+\.[^\s@<>\"',;:]+")


def _clean_address(value: str) -> str:
    """An address as a book holds it ('mailto:a@b.example', ' <a@b.example> '), or '' for anything else."""
    text = value.strip().strip("<>\"'").strip()
    if text.lower().startswith("mailto:"):
        text = text[7:]
    return text.lower() if _ADDRESS.fullmatch(text) and text.isprintable() else ""


def _read_vcards(text: str) -> list[BookEntry]:
    """Card by card: one broken card is left out, the others are read."""
    import logging

    import vobject  # only when a vCard is imported

    logging.getLogger("vobject").setLevel(logging.CRITICAL)  # (it reports each odd line on stderr)
    entries = []
    for block in _cards(text):
        try:
            card = vobject.readOne(block, ignoreUnreadable=True)
        except Exception:  # noqa: BLE001, S112 - vobject raises many kinds on a broken card: leave it out
            continue
        names = []
        fn = getattr(card, "fn", None)
        if fn is not None and str(fn.value).strip():
            names.append(str(fn.value).strip())
        n = getattr(card, "n", None)
        if n is not None and hasattr(n.value, "given"):
            full = " ".join(str(p) for p in (n.value.given, n.value.family) if str(p).strip())
            if full.strip():
                names.append(full.strip())
        org = getattr(card, "org", None)
        if org is not None:
            value = org.value
            firm = " ".join(map(str, value)) if isinstance(value, list) else str(value)
            if firm.strip():
                names.append(firm.strip())
        addresses = [a for a in (_clean_address(str(e.value)) for e in card.contents.get("email", [])) if a]
        if addresses:
            entries.append(BookEntry(tuple(dict.fromkeys(names)), tuple(dict.fromkeys(addresses))))
    if not entries and "BEGIN:VCARD" in text.upper() and not _cards(text):
        raise BookError("This vCard file could not be read: its cards do not end with END:VCARD.")
    return entries


_CSV_NAME = ("display name", "name", "full name", "nickname")
_CSV_FIRST = ("first name", "given name", "vorname", "prénom")
_CSV_LAST = ("last name", "family name", "surname", "nachname", "nom")
_CSV_COMPANY = ("company", "organization 1 - name", "organization name", "firma", "organisation")


def _read_csv(text: str) -> list[BookEntry]:
    import csv
    import io

    csv.field_size_limit(16 * 1024 * 1024)  # (Outlook's notes column can hold anything)
    sample = text[:4096]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = csv.reader(io.StringIO(text), dialect)
    try:
        header = [h.strip().lower() for h in next(rows)]
    except StopIteration:
        return []
    except csv.Error as exc:
        raise BookError(f"This CSV file could not be read: {exc}") from exc
    try:
        body = list(rows)
    except csv.Error as exc:
        raise BookError(f"This CSV file could not be read: {exc}") from exc
    mail_cols = [i for i, h in enumerate(header)
                 if "mail" in h and not any(w in h for w in ("type", "label", "display", "name"))]
    if not mail_cols:  # another language's headings ("Adresse de messagerie"): the columns holding addresses
        filled = [sum(1 for row in body[:200] if i < len(row) and _clean_address(row[i])) for i in range(len(header))]
        mail_cols = [i for i, count in enumerate(filled) if count and count >= max(filled) // 2]
    if not mail_cols:
        raise BookError("This file has no column of e-mail addresses. Export the address book as vCard or CSV "
                        "with the e-mail addresses in it.")

    def col(names: tuple[str, ...]) -> int | None:
        return next((header.index(n) for n in names if n in header), None)

    name_col, first_col, last_col, firm_col = col(_CSV_NAME), col(_CSV_FIRST), col(_CSV_LAST), col(_CSV_COMPANY)
    entries = []
    try:
        for row in body:
            def cell(i: int | None, row: list[str] = row) -> str:
                return row[i].strip() if i is not None and i < len(row) else ""

            addresses = []
            for i in mail_cols:
                for piece in re.split(r"\s*:::\s*|[;,\s]+", cell(i)):  # Google joins several with ' ::: '
                    if address := _clean_address(piece):
                        addresses.append(address)
            if not addresses:
                continue
            names = [cell(name_col), " ".join(p for p in (cell(first_col), cell(last_col)) if p), cell(firm_col)]
            entries.append(BookEntry(tuple(dict.fromkeys(n for n in names if n)), tuple(dict.fromkeys(addresses))))
    except csv.Error as exc:
        raise BookError(f"This CSV file could not be read: {exc}") from exc
    return entries
