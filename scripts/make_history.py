"""A seeded, synthetic mailbox of a small building firm, to measure what knowing one's correspondents adds.

Anna Weber runs Weber Bau (anna@weber-bau.de); her provider writes Authentication-Results as
`mx.mailprovider.example`. Over six months she corresponds with a few hundred people and firms: suppliers
with their own domains (signed with DKIM by Google Workspace, Microsoft 365, IONOS, Strato, all-inkl or
their own server, a few never signed), customers on gmail, GMX, web.de, T-Online, Outlook.com, the
accountant, family, mailing lists carrying many names, newsletters and notices. The hard benign cases are
there on purpose: two contacts sharing a first name, a contact saved as "Mama" and one named Post next to
"Deutsche Post", a contact writing from desk and phone (other mail program, other Message-ID domain),
a supplier who moved to Microsoft 365 in the middle of the history and one who moves now, a customer whose
posts come through a mailing list that breaks his signature.

Written to OUT (default /tmp/kg-history):
  sent/        the Sent folder (.eml)
  history/     mail received before (.eml), each with the provider's Received and Authentication-Results
  new/         new mail to judge (.eml): normal mail and impersonations, wrong-path mail (the Klez
               pattern) and look-alikes of correspondents' domains
  contacts.vcf (vCard 4, the whole address book), google-contacts.csv (the phone's part, Google's
  export), outlook-contacts.csv (the office part, Outlook's export in Windows-1252)
  manifest.jsonl  one line per new message: file, label malicious|benign, labels, kind, known, notes
  mailbox.json    owner, own domain, authserv-id and the folders, as the shared corpus describes its set

    .venv/bin/python scripts/make_history.py [OUT] [--seed N] [--benign 2400]

The same seed gives the same bytes. Nothing here goes into git: it is generated on demand.
"""

import argparse
import base64
import csv
import io
import json
import random
import shutil
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

BERLIN = ZoneInfo("Europe/Berlin")
OWNER_NAME, OWNER = "Anna Weber", "anna@weber-bau.de"
OWN_DOMAIN = "weber-bau.de"
AUTHSERV = "mx.mailprovider.example"
MX_HOSTS = ("mx01.mailprovider.example", "mx02.mailprovider.example")
HISTORY_START = datetime(2026, 3, 2, tzinfo=BERLIN)
HISTORY_END = datetime(2026, 9, 14, tzinfo=BERLIN)
NEW_END = datetime(2026, 12, 3, tzinfo=BERLIN)
MOVE_DATE = datetime(2026, 6, 15, tzinfo=BERLIN)  # Elektro Huber moves from Strato to Microsoft 365
MOVE_NOW_DATE = datetime(2026, 10, 20, tzinfo=BERLIN)  # Dachbau Brandl moves from IONOS to Google, in the new mail


# --- the people --------------------------------------------------------------------------------------

FIRST = ("Thomas Michael Andreas Stefan Markus Christian Jürgen Günther Klaus Peter Wolfgang Frank Martin Sören "
         "Björn Jörg Uwe Ralf Matthias Tobias Florian Sebastian Lukas Jonas Felix Maximilian Rüdiger Dieter Horst "
         "Sabine Petra Claudia Andrea Susanne Monika Birgit Katrin Julia Laura Lena Sophie Marie Anja Jana Tanja "
         "Nicole Sandra Kerstin Heike Brigitte Gisela Renate Jutta Bärbel Doris Käthe Zoë Hülya Mehmet Ayşe Emre "
         "René Hélène François Agnieszka Paweł Luca Giulia Dragan Milena").split()
LAST = ("Müller Schmidt Schneider Fischer Meyer Wagner Becker Schulz Hoffmann Schäfer Koch Bauer Richter Klein Wolf "
        "Schröder Neumann Schwarz Zimmermann Braun Krüger Hofmann Hartmann Lange Schmitt Werner Krause Meier "
        "Lehmann Köhler Maier Huber Mayer Hermann König Walter Fuchs Kaiser Lang Weiß Peters Möller Jung Hahn "
        "Scholz Vogel Friedrich Keller Günther Frank Berger Winkler Roth Beck Lorenz Baumann Franke Albrecht "
        "Schuster Simon Böhm Winter Kraus Martin Schumacher Krämer Vogt Stein Jäger Otto Sommer Groß Seidel "
        "Heinrich Brandt Haas Schreiber Graf Dietrich Ziegler Kuhn Kühn Pohl Engel Horn Busch Bergmann Thomas "
        "Voigt Sauer Arnold Wolff Pfeiffer Özdemir Yılmaz Kaya Lefèvre Nowak Wójcik Rossi Jovanović Dvořák").split()
TRADES = [("Holzhandel", "holz"), ("Baustoffe", "baustoffe"), ("Elektro", "elektro"), ("Sanitär", "sanitaer"),
          ("Dachdeckerei", "dach"), ("Fliesen", "fliesen"), ("Metallbau", "metallbau"), ("Gerüstbau", "geruestbau"),
          ("Malerbetrieb", "maler"), ("Tiefbau", "tiefbau"), ("Betonwerk", "beton"), ("Schreinerei", "schreinerei"),
          ("Kranverleih", "kranverleih"), ("Containerdienst", "container"), ("Statikbüro", "statik"),
          ("Architekturbüro", "architekten"), ("Ingenieurbüro", "ing"), ("Vermessung", "vermessung"),
          ("Hausverwaltung", "hausverwaltung"), ("Heizungsbau", "heizung"), ("Glaserei", "glas"),
          ("Bodenbeläge", "boden"), ("Transporte", "transporte"), ("Werkzeug", "werkzeug")]
FORMS = ["GmbH", "GmbH", "GmbH", "GmbH & Co. KG", "KG", "e.K.", "AG", "UG (haftungsbeschränkt)", ""]
TITLES = ["Dr.", "Dipl.-Ing.", "Prof. Dr.", "Dr.-Ing."]


def translit(text: str) -> str:
    """German mail-address spelling of a name: ü -> ue, ß -> ss, other accents dropped."""
    text = text.replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("Ä", "Ae").replace("Ö", "Oe")
    text = text.replace("Ü", "Ue").replace("ß", "ss").replace("ł", "l").replace("ı", "i").replace("ş", "s")
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def drop_accents(text: str) -> str:
    """How a forger types a name without the accents: Müller -> Muller (or Mueller), ß -> ss."""
    text = text.replace("ß", "ss").replace("ł", "l").replace("ı", "i")
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in translit(text).lower()).strip("-")


# --- how mail leaves a sender: platforms ---------------------------------------------------------------

@dataclass(frozen=True)
class Platform:
    key: str
    hosts: tuple[tuple[str, str], ...]  # outbound (name, IP)
    dkim: str  # "own": d= the sender's domain; "": unsigned; else a fixed signing domain
    selector: str
    submit: str  # the sender side's Received line: {ip} {host} {id} {date} {domain} {helo}
    dmarc: str = ""  # policy of the free-mail domain ('' = no DMARC record)


def _hosts(pattern: str, ips: list[str]) -> tuple[tuple[str, str], ...]:
    return tuple((pattern.format(i=i, ip=ip.replace(".", "-")), ip) for i, ip in enumerate(ips, 1))


PLATFORMS = {
    "google": Platform("google", (("mail-ed1-f49.google.com", "209.85.208.49"), ("mail-wr1-f41.google.com",
                       "209.85.221.41"), ("mail-lj1-f172.google.com", "209.85.208.172")), "own", "google",
                       "by {host} with SMTP id {id}-5c9{nid}; {date}"),
    "gmail": Platform("gmail", (("mail-ej1-f54.google.com", "209.85.218.54"), ("mail-wm1-f47.google.com",
                      "209.85.128.47"), ("mail-ed1-f52.google.com", "209.85.208.52")), "gmail.com", "20230601",
                      "by {host} with SMTP id {id}-5c9{nid}; {date}", "none"),
    "m365": Platform("m365", (("mail-db8eur05on2070.outbound.protection.outlook.com", "40.107.20.70"),
                     ("mail-am6eur05on2108.outbound.protection.outlook.com", "40.107.22.108"),
                     ("mail-ve1eur03on2041.outbound.protection.outlook.com", "40.107.5.41")), "own", "selector1",
                     "from {mshost}.eurprd07.prod.outlook.com ([fe80::5d1c:9a4e:1c3b:7a2f]) by "
                     "{mshost}.eurprd07.prod.outlook.com ([fe80::5d1c:9a4e:1c3b:7a2f%5]) with mapi id "
                     "15.20.8093.014; {date}"),
    "outlookcom": Platform("outlookcom", (("mail-am6eur05olkn2010.outbound.protection.outlook.com", "40.92.18.10"),
                           ("mail-db5eur02olkn2066.outbound.protection.outlook.com", "40.92.50.66")), "outlook.com",
                           "selector1", "from {mshost}.eurprd02.prod.outlook.com ([fe80::3a1:c0de:77b2:19e4]) by "
                           "{mshost}.eurprd02.prod.outlook.com ([fe80::3a1:c0de:77b2:19e4%6]) with mapi id "
                           "15.20.8137.011; {date}", "none"),
    "ionos": Platform("ionos", (("mout.kundenserver.de", "212.227.126.187"), ("mout.kundenserver.de",
                      "212.227.17.24")), "own", "s1-ionos",
                      "from [192.168.178.{o}] ([{dialup}]) by mrelayeu.kundenserver.de (mreue10{o2} "
                      "[212.227.15.183]) with ESMTPSA (Nemesis) id 1M{id}; {date}"),
    "strato": Platform("strato", (("mo4-p00-ob.smtp.rzone.de", "81.169.146.162"), ("mo4-p01-ob.smtp.rzone.de",
                       "81.169.146.165")), "own", "strato-dkim-0002",
                       "from [192.168.2.{o}] by smtp.strato.de (RZmta 51.2.11 AUTH) with ESMTPSA id "
                       "x{id} (using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256 bits)) (Client did not "
                       "present a certificate); {date}"),
    "allinkl": Platform("allinkl", (("dd40126.kasserver.com", "85.13.150.112"), ("dd37914.kasserver.com",
                        "85.13.163.81")), "own", "kas202309",
                        "from [192.168.0.{o}] ({dialup_name} [{dialup}]) by {host} (Postfix) with ESMTPSA id "
                        "{qid}; {date}"),
    "ownserver": Platform("ownserver", (("mail.{domain}", "88.99.{o}.{o2}"),), "own", "dkim",
                          "from [10.0.0.{o}] (unknown [10.0.0.{o}]) by mail.{domain} (Postfix) with ESMTPSA id "
                          "{qid}; {date}"),
    "exchange_onprem": Platform("exchange_onprem", (("mail.{domain}", "217.91.{o}.{o2}"),), "", "",
                                "from SRV-EX01.{domain} (10.1.1.12) by SRV-EX01.{domain} (10.1.1.12) with "
                                "Microsoft SMTP Server (version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384)"
                                " id 15.1.2507.39; {date}"),
    "gmx": Platform("gmx", (("mout.gmx.net", "212.227.17.21"), ("mout.gmx.net", "212.227.15.18")), "gmx.de",
                    "s31663417", "from [{dialup}] ([{dialup}]) by mail.gmx.net (mrgmx00{o2} [212.227.17.190]) "
                    "with ESMTPSA (Nemesis) id 1M{id}; {date}", "quarantine"),
    "webde": Platform("webde", (("mout.web.de", "212.227.15.3"), ("mout.web.de", "217.72.192.78")), "web.de",
                      "s29768273", "from [{dialup}] ([{dialup}]) by smtp.web.de (mrweb10{o2} [213.165.67.124]) "
                      "with ESMTPSA (Nemesis) id 1M{id}; {date}", "quarantine"),
    "tonline": Platform("tonline", (("mailout11.t-online.de", "194.25.134.85"), ("mailout02.t-online.de",
                        "194.25.134.17")), "", "",
                        "from fwd{o2}.aul.t-online.de (fwd{o2}.aul.t-online.de [10.223.144.{o}]) by "
                        "mailout11.t-online.de (Postfix) with SMTP id {qid}; {date}", "none"),
    "posteo": Platform("posteo", (("mout01.posteo.de", "185.67.36.65"), ("mout02.posteo.de", "185.67.36.66")),
                       "posteo.de", "2017", "from submission (posteo.de [185.67.36.169]) by mout01.posteo.de "
                       "(Postfix) with ESMTPS id {qid}; {date}", "none"),
    "icloud": Platform("icloud", (("qs51p00im-qukt01080302.me.com", "17.57.155.23"),), "icloud.com", "1a1hai",
                       "from smtpclient.apple (qs51p00im-dlb-asmtp-mailmevip.me.com [17.42.251.41]) by "
                       "qs51p00im-qukt01080302.me.com (Postfix) with ESMTPSA id {qid}; {date}", "quarantine"),
    "mailchimp": Platform("mailchimp", (("mail181.suw91.mcdlv.net", "198.2.181.59"), ("mail137.atl221.rsgsv.net",
                          "205.201.137.229")), "own", "k2", "by mail181.suw91.mcdlv.net id h{id}; {date}"),
    "ses": Platform("ses", (("a7-21.smtp-out.eu-west-1.amazonses.com", "54.240.7.21"),
                    ("a7-19.smtp-out.eu-west-1.amazonses.com", "54.240.7.19")), "own", "lx7k2ouimz3a",
                    "by {host} with SMTP id 0102019{id}; {date}"),
}
FREEMAIL = {"gmail.com": "gmail", "gmx.de": "gmx", "gmx.net": "gmx", "web.de": "webde", "t-online.de": "tonline",
            "outlook.com": "outlookcom", "outlook.de": "outlookcom", "hotmail.de": "outlookcom",
            "posteo.de": "posteo", "icloud.com": "icloud"}

# (header, value, Message-ID style)
MAILERS = {
    "thunderbird": ("User-Agent", "Mozilla Thunderbird", "uuid-lower"),
    "thunderbird-win": ("User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 "
                        "Thunderbird/128.4.2", "uuid-lower"),
    "outlook-smtp": ("X-Mailer", "Microsoft Outlook 16.0", "outlook-smtp"),
    "outlook-m365": ("", "", "m365"),
    "outlookcom-web": ("", "", "m365"),
    "iphone": ("X-Mailer", "iPhone Mail (21H221)", "uuid-upper"),
    "apple-mail": ("X-Mailer", "Apple Mail (2.3826.200.121)", "uuid-upper"),
    "gmail-web": ("", "", "gmail"),
    "android-gmail": ("", "", "gmail"),
    "gmx-web": ("", "", "trinity-gmx"),
    "webde-web": ("", "", "trinity-webde"),
    "roundcube": ("User-Agent", "Roundcube Webmail/1.6.9", "hex"),
    "tonline-web": ("X-Mailer", "Telekom Mail Webmail", "tonline"),
    "k9": ("User-Agent", "K-9 Mail for Android", "k9"),
    "exchange": ("X-Mailer", "Microsoft Outlook 16.0", "exchange"),
    "mailchimp": ("X-Mailer", "MailChimp Mailer - **CIDc1b9f2e4d7a8b3c6e5f1**", "mailchimp"),
    "ses": ("X-Mailer", "lexoffice Mailer", "ses"),
    "mailman": ("", "", "keep"),
    "notice": ("X-Mailer", "Notification Service 4.2", "hex"),
}
FORGED_MAILERS = [("X-Mailer", "Microsoft Outlook Express 6.00.2600.0000", "klez"),
                  ("X-Mailer", "PHPMailer 6.8.1 (https://github.com/PHPMailer/PHPMailer)", "hex-other"),
                  ("X-Mailer", "The Bat! (v9.4.4) Professional", "hex-other"),
                  ("X-Mailer", "Foxmail 7.2.25.228[cn]", "foxmail"),
                  ("X-Mailer", "Microsoft Office Outlook 12.0", "klez"),
                  ("", "", "hex-other")]


@dataclass
class Correspondent:
    name: str  # display name in their mail ("" for none)
    address: str
    platform: str
    mailers: list[tuple[str, float]]
    role: str  # supplier, customer, business, accountant, family, colleague, list, newsletter, notice, poster
    rate: float  # messages per month to Anna
    book: str = ""  # "" not in the address book, else "phone" / "office" (which export holds it)
    book_name: str = ""  # FN in the address book when it differs from the display name
    given: str = ""
    family: str = ""
    org: str = ""
    title: str = ""
    write_share: float = 0.6  # share of their mail Anna answers (0: never writes to them)
    move: tuple[datetime, str, list[tuple[str, float]]] | None = None  # (when, new platform, new mailers)
    notes: str = ""
    list_id: str = ""
    history_count: int = 0
    sent_to: int = 0
    tags: set[str] = field(default_factory=set)

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2]

    def platform_at(self, when: datetime) -> tuple[str, list[tuple[str, float]]]:
        if self.move and when >= self.move[0]:
            return self.move[1], self.move[2]
        return self.platform, self.mailers


class World:
    """Everyone Anna corresponds with, built from the seed."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.people: list[Correspondent] = []
        self.used_names: set[str] = set()
        self.used_addresses: set[str] = {OWNER}
        self.company_domains: list[str] = []
        self._build()

    # names and addresses ------------------------------------------------------------------------------
    def person(self, given: str = "", family: str = "") -> tuple[str, str]:
        for _ in range(1000):
            g = given or self.rng.choice(FIRST)
            f = family or self.rng.choice(LAST)
            if f"{g} {f}" not in self.used_names:
                self.used_names.add(f"{g} {f}")
                return g, f
        raise RuntimeError("ran out of names")

    def free_address(self, given: str, family: str, domain: str) -> str:
        g, f = translit(given).lower(), translit(family).lower()
        for _ in range(100):
            n = self.rng.randint(1, 99)
            local = self.rng.choice([f"{g}.{f}", f"{g}{f}", f"{g[0]}.{f}", f"{f}.{g}", f"{g}.{f}{n}",
                                     f"{g}{self.rng.randint(1955, 2004)}", f"{f}{g[0]}{self.rng.randint(10, 99)}"])
            addr = f"{local}@{domain}"
            if addr not in self.used_addresses:
                self.used_addresses.add(addr)
                return addr
        raise RuntimeError("ran out of addresses")

    def add(self, c: Correspondent) -> Correspondent:
        self.used_addresses.add(c.address)
        self.people.append(c)
        return c

    def _company(self, trade: tuple[str, str], family: str, platform: str, mailers, role: str, staff: int,
                 rate: float, book_share: float, form: str | None = None) -> list[Correspondent]:
        form = self.rng.choice(FORMS) if form is None else form
        org = " ".join(p for p in (trade[0], family, form) if p)
        domain = f"{trade[1]}-{slug(family)}.de"
        while domain in self.company_domains:
            domain = f"{trade[1]}-{slug(family)}{self.rng.randint(2, 9)}.de"
        self.company_domains.append(domain)
        out = []
        plat = platform
        if self.rng.random() < 0.6 or staff == 0:  # the firm's general address, signed like the rest
            out.append(self.add(Correspondent(org, f"info@{domain}", plat, mailers, role, rate * 0.5,
                                              book="office" if self.rng.random() < book_share else "", org=org)))
        for _ in range(staff):
            g, f = self.person(family=family if self.rng.random() < 0.3 else "")
            local = self.rng.choice([f"{translit(g).lower()}.{translit(f).lower()}",
                                     f"{translit(g)[0].lower()}.{translit(f).lower()}", translit(g).lower()])
            title = self.rng.choice(TITLES) if role == "business" and self.rng.random() < 0.15 else ""
            name = f"{title} {g} {f}".strip()
            shown = name if self.rng.random() < 0.9 else f"{f}, {g}"  # Outlook's "Last, First" display name
            c = self.add(Correspondent(shown, f"{local}@{domain}", plat, mailers, role, rate,
                                       book="office" if self.rng.random() < book_share else "",
                                       book_name=name, given=g, family=f, org=org, title=title))
            out.append(c)
        return out

    def _build(self) -> None:
        rng = self.rng
        plat_mailers = {
            "google": [("gmail-web", 0.85), ("iphone", 0.15)],
            "m365": [("outlook-m365", 0.85), ("iphone", 0.15)],
            "ionos": [("outlook-smtp", 0.8), ("iphone", 0.2)],
            "strato": [("thunderbird-win", 0.9), ("iphone", 0.1)],
            "allinkl": [("roundcube", 0.7), ("thunderbird", 0.3)],
            "ownserver": [("thunderbird", 1.0)],
            "exchange_onprem": [("exchange", 1.0)],
        }
        # Suppliers and business partners: firms with their own domains
        firm_platforms = ["google"] * 5 + ["m365"] * 6 + ["ionos"] * 5 + ["strato"] * 3 + ["allinkl"] * 3 + \
            ["ownserver"] + ["exchange_onprem"] * 2
        trades = TRADES[:]
        rng.shuffle(trades)
        order = firm_platforms[:]
        rng.shuffle(order)  # each kind of mail system in its share, not left to chance
        for i in range(42):
            trade = trades[i % len(trades)]
            family = rng.choice(LAST)
            plat = order[i % len(order)]
            mailers = [(m, w) for m, w in plat_mailers[plat] if rng.random() < 0.8 or w > 0.5]
            role = "supplier" if i < 28 else "business"
            self._company(trade, family, plat, mailers, role, rng.choice([1, 1, 2, 2, 3]),
                          rng.uniform(0.8, 4.0) if role == "supplier" else rng.uniform(0.4, 2.0), 0.7)
        # Named benign look-alikes ------------------------------------------------------------------------
        # two contacts sharing a first name
        t1 = self.add(Correspondent("Thomas Müller", "thomas.mueller@elektro-huber.de", "strato",
                                    [("thunderbird-win", 1.0)], "supplier", 4.0, book="office", given="Thomas",
                                    family="Müller", org="Elektro Huber GmbH", notes="shares the first name Thomas",
                                    move=(MOVE_DATE, "m365", [("outlook-m365", 1.0)])))
        self.add(Correspondent("Elektro Huber GmbH", "info@elektro-huber.de", "strato", [("thunderbird-win", 1.0)],
                               "supplier", 1.5, book="office", org="Elektro Huber GmbH",
                               move=(MOVE_DATE, "m365", [("outlook-m365", 1.0)])))
        t1.tags |= {"shared_first_name", "moved"}
        self.company_domains.append("elektro-huber.de")
        self.people[-1].tags.add("moved")
        t2 = self.add(Correspondent("Thomas Schröder", "t.schroeder@gmx.de", "gmx", [("gmx-web", 1.0)], "customer",
                                    2.0, book="phone", given="Thomas", family="Schröder"))
        t2.tags.add("shared_first_name")
        self.used_names |= {"Thomas Müller", "Thomas Schröder"}
        # a contact writing from the office and from the phone: same address, two mail programs
        k = self.add(Correspondent("Stefan Kaiser", "stefan.kaiser@kaiser-immobilien.de", "m365",
                                   [("outlook-m365", 0.6), ("iphone", 0.4)], "business", 5.0, book="office",
                                   given="Stefan", family="Kaiser", org="Kaiser Immobilien GmbH"))
        k.tags.add("work_and_phone")
        self.company_domains.append("kaiser-immobilien.de")
        # the supplier who moves to a new provider during the new mail (announced by passing DKIM)
        b = self.add(Correspondent("Josef Brandl", "josef.brandl@dachbau-brandl.de", "ionos",
                                   [("outlook-smtp", 1.0)], "supplier", 3.0, book="office", given="Josef",
                                   family="Brandl", org="Dachbau Brandl GmbH",
                                   move=(MOVE_NOW_DATE, "google", [("gmail-web", 1.0)])))
        b.tags.add("moving_now")
        self.company_domains.append("dachbau-brandl.de")
        # a contact whose name is a common word, and a sender with the same word
        self.add(Correspondent("Martin Post", "martin.post@web.de", "webde", [("webde-web", 1.0)], "customer", 1.5,
                               book="phone", given="Martin", family="Post")).tags.add("common_word_name")
        self.add(Correspondent("Deutsche Post", "noreply@deutschepost.de", "ses", [("notice", 1.0)], "notice", 3.0,
                               write_share=0)).tags.add("common_word_name")
        self.add(Correspondent("Ingrid Weber", "ingrid.weber@t-online.de", "tonline", [("tonline-web", 1.0)], "family",
                               6.0, book="phone", book_name="Mama", given="Ingrid", family="Weber",
                               notes="saved as 'Mama'")).tags.add("common_word_name")
        # the accountant: an office on its own domain, and its invoices from the accounting program
        self.add(Correspondent("Dr. Petra Lange", "p.lange@stb-lange.de", "m365", [("outlook-m365", 1.0)],
                               "accountant", 4.0, book="office", given="Petra", family="Lange", title="Dr.",
                               org="Steuerberatung Dr. Lange"))
        self.add(Correspondent("Kanzlei Dr. Lange Buchhaltung", "buchhaltung@stb-lange.de", "m365",
                               [("outlook-m365", 1.0)], "accountant", 3.0, book="office",
                               org="Steuerberatung Dr. Lange"))
        self.company_domains.append("stb-lange.de")
        self.add(Correspondent("Holzhandel Schreiner GmbH", "rechnung@holz-schreiner.de", "ses", [("ses", 1.0)],
                               "supplier", 2.0, book="office", org="Holzhandel Schreiner GmbH",
                               notes="invoices sent by the accounting program through Amazon SES"))
        self.company_domains.append("holz-schreiner.de")
        self.add(Correspondent("Holzhandel Schreiner GmbH", "info@holz-schreiner.de", "ionos", [("outlook-smtp", 1.0)],
                               "supplier", 2.0, book="office", org="Holzhandel Schreiner GmbH"))
        # colleague in the own firm (internal mail)
        self.add(Correspondent("Markus Weber", "markus@weber-bau.de", "internal", [("thunderbird", 0.7),
                                                                                 ("iphone", 0.3)],
                               "colleague", 8.0, book="phone", given="Markus", family="Weber"))
        # family
        for _ in range(5):
            g, f = self.person(family=rng.choice(["Weber", "Weber", "Hartl", "Seidl"]))
            dom = rng.choice(["gmail.com", "gmx.de", "web.de", "icloud.com", "t-online.de"])
            mail = {"gmail": [("android-gmail", 0.7), ("gmail-web", 0.3)], "gmx": [("gmx-web", 1.0)],
                    "webde": [("webde-web", 1.0)], "icloud": [("iphone", 1.0)], "tonline": [("tonline-web", 1.0)]}
            self.add(Correspondent(f"{g} {f}", self.free_address(g, f, dom), FREEMAIL[dom], mail[FREEMAIL[dom]],
                                   "family", rng.uniform(1, 5), book="phone", given=g, family=f))
        # private customers on free mail
        doms = ["gmail.com"] * 6 + ["gmx.de"] * 4 + ["web.de"] * 4 + ["t-online.de"] * 3 + ["outlook.de"] * 2 + \
            ["hotmail.de", "posteo.de", "icloud.com", "gmx.net"]
        mailers_of = {"gmail": [("gmail-web", 0.6), ("android-gmail", 0.4)], "gmx": [("gmx-web", 1.0)],
                      "webde": [("webde-web", 1.0)], "tonline": [("tonline-web", 0.8), ("thunderbird", 0.2)],
                      "outlookcom": [("outlookcom-web", 1.0)], "posteo": [("thunderbird", 1.0)],
                      "icloud": [("iphone", 0.7), ("apple-mail", 0.3)]}
        for _ in range(150):
            g, f = self.person()
            dom = rng.choice(doms)
            plat = FREEMAIL[dom]
            self.add(Correspondent(f"{g} {f}" if rng.random() < 0.93 else "", self.free_address(g, f, dom), plat,
                                   mailers_of[plat], "customer", rng.choice([0.2, 0.3, 0.5, 0.8, 1.0, 1.5]),
                                   book="phone" if rng.random() < 0.45 else "", given=g, family=f))
        # address-book-only contacts: known by name, no mail in the history or the Sent folder
        for _ in range(30):
            g, f = self.person()
            if rng.random() < 0.5:
                dom = rng.choice(doms)
                self.add(Correspondent(f"{g} {f}", self.free_address(g, f, dom), FREEMAIL[dom],
                                       mailers_of[FREEMAIL[dom]], "customer", 0.0, book="phone", given=g, family=f,
                                       write_share=0)).tags.add("book_only")
            else:
                trade = rng.choice(TRADES)
                firm = self._company(trade, f, rng.choice(firm_platforms[:-2]), [("outlook-smtp", 1.0)], "supplier",
                                     1, 0.0, 1.0, form="GmbH")
                for c in firm:
                    c.book, c.write_share = "office", 0
                    c.tags.add("book_only")
        # mailing lists: a Mailman 3 list rewriting From ("X via List"), and an old list keeping it
        self.add(Correspondent("Bau-Forum", "bau-forum@lists.innung-bau-muenchen.de", "list3", [("mailman", 1.0)],
                               "list", 25.0, write_share=0, list_id="bau-forum.lists.innung-bau-muenchen.de"))
        self.add(Correspondent("", "unternehmer@lists.gewerbeverein-ismaning.de", "list2", [("mailman", 1.0)],
                               "list", 12.0, write_share=0, list_id="unternehmer.lists.gewerbeverein-ismaning.de"))
        self.posters = []
        for _ in range(45):  # people posting to the lists (not Anna's correspondents)
            g, f = self.person()
            dom = rng.choice(doms + ["bau-" + slug(f) + ".de"])
            plat = FREEMAIL.get(dom, "ionos")
            self.posters.append(Correspondent(f"{g} {f}", self.free_address(g, f, dom), plat,
                                              mailers_of.get(plat, [("outlook-smtp", 1.0)]), "poster", 0))
        # some known contacts post to the lists too
        self.list_posting_contacts = [c for c in self.people if c.role in ("customer", "supplier") and c.name
                                      and not c.tags][:: 17][:6]
        for c in self.list_posting_contacts:
            c.tags.add("posts_to_list")
        # newsletters and notices
        for name, addr, rate, plat in [("Baustoff Union Newsletter", "newsletter@news.baustoff-union.de", 4,
                                        "mailchimp"),
                                       ("BAUHAUS Profi-Club", "profi@newsletter.bauhaus-profi.de", 4, "mailchimp"),
                                       ("Handwerkskammer München", "info@news.hwk-muenchen.de", 2, "mailchimp"),
                                       ("Sparkasse Freising", "noreply@sparkasse-freising.de", 3, "ses"),
                                       ("DHL Paket", "noreply@dhl.de", 5, "ses"),
                                       ("Telekom Rechnung", "rechnung@telekom.de", 1, "ses"),
                                       ("ELSTER", "noreply@elster.de", 0.5, "ses")]:
            self.add(Correspondent(name, addr, plat, [("mailchimp" if plat == "mailchimp" else "notice", 1.0)],
                                   "newsletter" if plat == "mailchimp" else "notice", rate, write_share=0))
        for c in self.people:
            if c.role in ("list", "newsletter", "notice"):
                c.write_share = 0

    # contacts that rules can learn a name from ---------------------------------------------------------
    def named(self) -> list[Correspondent]:
        # known by name: the name shows in their mail or in the address book (not everyone puts one in From)
        return [c for c in self.people if c.role not in ("list", "newsletter", "notice", "colleague")
                and (c.name or (c.book and c.book_name)) and c.book_name != "Mama"]


# --- writing messages ------------------------------------------------------------------------------------

class Writer:
    def __init__(self, rng: random.Random):
        self.rng = rng
        self.qn = 0

    def b64(self, n: int) -> str:
        return base64.b64encode(self.rng.randbytes(n)).decode()

    def hexs(self, n: int) -> str:
        return self.rng.randbytes(n).hex()

    def alnum(self, n: int, upper: bool = False) -> str:
        chars = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789" if upper else "abcdefghijkmnopqrstuvwxyz0123456789"
        return "".join(self.rng.choice(chars) for _ in range(n))

    def uuid(self) -> str:
        h = self.hexs(16)
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[self.rng.randrange(4)]}{h[17:20]}-{h[20:32]}"

    def qid(self) -> str:
        self.qn += 1
        return "4" + self.alnum(11, upper=False).replace("l", "x")

    def dialup(self) -> tuple[str, str]:
        """A German home line: (rDNS name, IP)."""
        a, b, c = self.rng.randint(1, 254), self.rng.randint(1, 254), self.rng.randint(1, 254)
        kind = self.rng.randrange(3)
        if kind == 0:
            ip = f"91.{a}.{b}.{c}"
            return f"p5b{a:02x}{b:02x}{c:02x}.dip0.t-ipconnect.de", ip
        if kind == 1:
            ip = f"88.{a}.{b}.{c}"
            return f"dslb-088-{a:03d}-{b:03d}-{c:03d}.088.{a:03d}.pools.vodafone-ip.de", ip
        ip = f"95.{a}.{b}.{c}"
        return f"ip5f{a:02x}{b:02x}{c:02x}.dynamic.kabel-deutschland.de", ip

    def message_id(self, style: str, domain: str, when: datetime, seed: str = "") -> str:
        r = self.rng
        if style == "gmail":
            return f"<CA{self.alnum(1, True)}{self.b64(36).replace('/', '_').replace('=', '')}@mail.gmail.com>"
        if style == "m365":
            box = f"{r.choice(['AM0PR07', 'DB9PR08', 'VI1PR03', 'PAXPR04', 'AS8PR02'])}MB{r.randint(1000, 9999)}"
            return f"<{box}{self.alnum(6, True)}{self.alnum(20, True)}@{box}.eurprd07.prod.outlook.com>"
        if style == "uuid-upper":
            return f"<{self.uuid().upper()}@{domain}>"
        if style == "uuid-lower":
            return f"<{self.uuid()}@{domain}>"
        if style == "outlook-smtp":
            return f"<00{self.hexs(1)}01db{self.hexs(2)}${self.hexs(4)}${self.hexs(4)}@{domain}>"
        if style.startswith("trinity"):
            app = "gmx" if style.endswith("gmx") else "webde"
            return f"<trinity-{self.uuid()}-{int(when.timestamp() * 1000)}@3c-app-{app}-bap{r.randint(10, 60)}>"
        if style == "hex":
            return f"<{self.hexs(16)}@{domain}>"
        if style == "tonline":
            return f"<{int(when.timestamp() * 1000)}.{r.randint(10000, 99999)}.{self.alnum(8)}@webmail.t-online.de>"
        if style == "k9":
            return f"<{self.uuid()}@{domain}>"
        if style == "exchange":
            return f"<{self.hexs(16).upper()}@SRV-EX01.{domain}>"
        if style == "mailchimp":
            return f"<{self.hexs(12)}.{self.hexs(10)}@mail181.suw91.mcdlv.net>"
        if style == "ses":
            return f"<0102019{self.hexs(8)}-{self.uuid()}-000000@eu-west-1.amazonses.com>"
        if style == "klez":
            return f"<000{r.randint(1, 9)}01c2{self.hexs(2)}${self.hexs(4)}${r.randint(1, 254):02x}00a8c0@" \
                   f"{r.choice(['pc07', 'buero-pc', 'user', 'admin-pc', 'home', 'dell-laptop'])}>"
        if style == "foxmail":
            return f"<tencent_{self.hexs(20).upper()}@qq.com>"
        if style == "hex-other":
            return f"<{self.hexs(16)}@{r.choice(['localhost', 'vps-3f2a.localdomain', 'server.local', domain])}>"
        return f"<{self.hexs(16)}@{domain}>"

    def dkim_signature(self, domain: str, selector: str, when: datetime) -> str:
        b = self.b64(256)
        folded = "\r\n\t ".join(b[i:i + 72] for i in range(0, len(b), 72))
        return (f"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d={domain};\r\n\ts={selector}; "
                f"t={int(when.timestamp())}; h=from:to:subject:date:message-id:mime-version:content-type;\r\n"
                f"\tbh={self.b64(32)};\r\n\tb={folded}")


SUBJECTS = {
    "supplier": ["Angebot {n}", "Rechnung {n}", "Lieferschein {n}", "Auftragsbestätigung {n}", "Lieferung KW {kw}",
                 "Preisliste {y}", "Liefertermin Baustelle {site}", "Ihre Bestellung {n}",
                 "Rückfrage zu Ihrer Anfrage"],
    "business": ["Baustelle {site}", "Termin Bauabnahme", "Protokoll Baubesprechung {d}", "Pläne {site}",
                 "Nachtrag {n}", "Abstimmung Ausführung"],
    "customer": ["Anfrage Umbau", "Termin Besichtigung", "Frage zum Angebot", "Anzahlung überwiesen",
                 "Fotos vom Bad", "Wann geht es weiter?", "Danke!", "Garage {site}", "Kostenvoranschlag"],
    "accountant": ["Umsatzsteuer-Voranmeldung {m}", "Lohnabrechnung {m}", "Belege {m}", "Fragen zur Buchhaltung",
                   "Jahresabschluss {y}", "Termin Steuerberatung"],
    "family": ["Sonntag", "Fotos", "Geburtstag Oma", "Urlaub", "Hallo!", "Kannst du mich anrufen?", "Einkauf"],
    "colleague": ["Baustelle {site}", "Termine nächste Woche", "Materialliste", "Urlaubsplan", "Kurz zur Info"],
    "notice": ["Ihre Sendung {n} kommt heute", "Kontoauszug verfügbar", "Ihre Rechnung {m}",
               "Neue Nachricht im Postfach"],
    "newsletter": ["Angebote im {m}", "Neu: Profi-Werkzeug", "Seminare {y}", "Newsletter {m} {y}"],
    "list": ["Erfahrung mit Wärmepumpen?", "Suche Subunternehmer Trockenbau", "Einladung Stammtisch",
             "Re: Preise Bauholz", "Frage zur HOAI", "Gerüst zu verleihen", "Re: Azubi gesucht", "Treffen {m}"],
}
BODIES = {
    "supplier": ["Sehr geehrte Frau Weber,\n\nanbei erhalten Sie die Unterlagen wie besprochen.\nBei Fragen melden Sie "
                 "sich gerne.\n\nMit freundlichen Grüßen\n{sig}",
                 "Hallo Frau Weber,\n\ndie Lieferung für die Baustelle {site} ist für Donnerstag eingeplant.\n\n"
                 "Viele Grüße\n{sig}"],
    "business": ["Hallo Frau Weber,\n\nwie am Telefon besprochen anbei die Unterlagen zur Baustelle {site}.\n\n"
                 "Beste Grüße\n{sig}", "Guten Tag,\n\nkönnen wir den Termin auf nächste Woche verschieben?\n\n{sig}"],
    "customer": ["Hallo Frau Weber,\n\nvielen Dank für Ihr Angebot. Wir hätten noch eine Frage zu Position 3.\n\n"
                 "Viele Grüße\n{sig}", "Guten Tag,\n\nwann könnten Sie vorbeikommen?\n\nMfG\n{sig}"],
    "accountant": ["Liebe Frau Weber,\n\nbitte senden Sie uns die Belege für {m} bis zum 10.\n\nFreundliche Grüße\n"
                   "{sig}", "Hallo Frau Weber,\n\nanbei die Auswertungen. Bitte kurz prüfen.\n\nViele Grüße\n{sig}"],
    "family": ["Hallo Anna,\n\nkommt ihr am Sonntag? Ich mache Kuchen.\n\n{sig}", "Hi!\n\nHier die Fotos vom "
               "Wochenende.\n\nLG {sig}"],
    "colleague": ["Hi Anna,\n\nich bin morgen ab 7 auf der Baustelle {site}.\n\nMarkus", "Anbei die Liste.\n\nM."],
    "notice": ["Guten Tag,\n\nes gibt Neuigkeiten zu Ihrem Konto bzw. Ihrer Sendung. Details finden Sie in Ihrem "
               "Kundenkonto.\n\nIhr Service-Team"],
    "newsletter": ["Liebe Kundin, lieber Kunde,\n\ndiesen Monat neu im Sortiment: Akku-Werkzeuge, Dämmstoffe und "
                   "mehr.\n\nAbmelden: Link im Fußbereich."],
    "list": ["Hallo zusammen,\n\nhat jemand Erfahrung damit? Ich freue mich über Tipps.\n\n{sig}"],
}
SITES = ["Ismaning", "Freising Süd", "Garching", "Unterföhring", "Erding", "Moosburg", "Neufahrn", "Eching"]


def fill(text: str, rng: random.Random, when: datetime, sig: str = "") -> str:
    months = ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
              "November", "Dezember"]
    return text.format(n=f"{when.year}-{rng.randint(1000, 9999)}", kw=when.isocalendar()[1], y=when.year,
                       site=rng.choice(SITES), d=when.strftime("%d.%m."), m=months[when.month - 1], sig=sig)


def header_value(text: str) -> str:
    """A header value, RFC 2047-encoded when it is not ASCII."""
    from email.header import Header
    try:
        text.encode("ascii")
        return text
    except UnicodeEncodeError:
        return Header(text, "utf-8").encode()


def address_header(name: str, addr: str) -> str:
    if not name:
        return f"<{addr}>"
    try:
        name.encode("ascii")
        quoted = f'"{name}"' if any(ch in name for ch in ',.()<>@;:"[]') else name
    except UnicodeEncodeError:
        quoted = header_value(name)
    return f"{quoted} <{addr}>"


def body_part(text: str, attachment: tuple[str, str, bytes] | None, rng: random.Random) -> list[str]:
    """MIME headers and body lines (quoted-printable text, optional base64 attachment)."""
    import quopri
    qp = quopri.encodestring(text.replace("\n", "\r\n").encode("utf-8")).decode("ascii")
    if attachment is None:
        return ["MIME-Version: 1.0", 'Content-Type: text/plain; charset="utf-8"',
                "Content-Transfer-Encoding: quoted-printable", "", qp]
    boundary = "----=_Part_" + "".join(rng.choice("0123456789ABCDEF") for _ in range(24))
    fname, ctype, data = attachment
    enc = base64.encodebytes(data).decode("ascii")
    return ["MIME-Version: 1.0", f'Content-Type: multipart/mixed; boundary="{boundary}"', "",
            f"--{boundary}", 'Content-Type: text/plain; charset="utf-8"', "Content-Transfer-Encoding: quoted-printable",
            "", qp, f"--{boundary}", f'Content-Type: {ctype}; name="{fname}"', "Content-Transfer-Encoding: base64",
            f'Content-Disposition: attachment; filename="{fname}"', "", enc, f"--{boundary}--", ""]


def fake_pdf(rng: random.Random) -> bytes:
    return (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n" +
            rng.randbytes(rng.randint(1500, 4000)) + b"\n%%EOF\n")


def fake_jpg(rng: random.Random) -> bytes:
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + rng.randbytes(3000) + b"\xff\xd9"


@dataclass
class Arrival:
    """How one message reaches Anna's provider."""

    hop_line: str  # the provider's entry Received line (without date/for)
    ip: str
    envelope: str
    auth: list[str]  # Authentication-Results method results
    sender_side: list[str] = field(default_factory=list)  # headers below the entry line (Received, DKIM-Sig.)


class Mailbox:
    """Writes Anna's mail: received (with the provider's headers) and sent."""

    def __init__(self, world: World, rng: random.Random):
        self.world = world
        self.rng = rng
        self.w = Writer(rng)
        self.sent_ids: list[tuple[str, str, Correspondent]] = []  # (Message-ID, subject, to)

    def when_in(self, start: datetime, end: datetime) -> datetime:
        t = start + timedelta(seconds=self.rng.uniform(0, (end - start).total_seconds()))
        hour = self.rng.choices(range(24), weights=[1, 0, 0, 0, 0, 1, 3, 8, 10, 10, 10, 9, 7, 8, 9, 9, 8, 7, 5, 4, 4,
                                                    3, 2, 1])[0]
        return t.replace(hour=hour, minute=self.rng.randrange(60), second=self.rng.randrange(60))

    # how a genuine message from a correspondent arrives ------------------------------------------------
    def genuine_arrival(self, c: Correspondent, plat_key: str, when: datetime, envelope: str = "") -> Arrival:
        r, w = self.rng, self.w
        envelope = envelope or c.address
        if plat_key == "internal":
            name, ip = w.dialup()
            hop = (f"from [192.168.178.{r.randint(20, 60)}] ({name} [{ip}])\r\n\t(Authenticated sender: "
                   f"{c.address})\r\n\tby smtp.mailprovider.example (Postfix) with ESMTPSA id {w.qid()}")
            auth = [f"auth=pass smtp.auth={c.address}",
                    f"dkim=pass header.d={OWN_DOMAIN} header.s=mp2024 header.b={w.b64(6)[:8]}"]
            return Arrival(hop, ip, envelope, auth, [w.dkim_signature(OWN_DOMAIN, "mp2024", when)])
        p = PLATFORMS[plat_key]
        host, ip = r.choice(p.hosts)
        o, o2 = r.randint(2, 250), r.randint(2, 9)
        host = host.format(domain=c.domain)
        ip = ip.format(o=o, o2=o2) if "{" in ip else ip
        if plat_key in ("ownserver", "exchange_onprem"):
            # a firm's own server has one fixed address
            h = sum(map(ord, c.domain))
            ip = ("88.99." if plat_key == "ownserver" else "217.91.") + f"{h % 200 + 20}.{h % 97 + 3}"
        dname, dip = w.dialup()
        submit = p.submit.format(host=host, id=w.alnum(10), nid=w.alnum(6), qid=w.qid(), o=o, o2=o2, dialup=dip,
                                 dialup_name=dname, domain=c.domain, date="{date}",
                                 mshost=f"{r.choice(['AM0PR07', 'DB9PR08', 'VI1PR03'])}MB{r.randint(1000, 9999)}")
        side = [f"Received: {submit}"]
        if plat_key in ("m365", "outlookcom"):
            side.insert(0, f"Received: from {host.split('.')[0].upper()}.eurprd05.prod.outlook.com "
                           f"(2603:10a6:20b::{o:x}) by AM9P195CA0012.outlook.office365.com (2603:10a6:20b:21f::17) "
                           f"with Microsoft SMTP Server (version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384)"
                           " id 15.20.8158.13; {date}")
        auth = []
        sign_domain = c.domain if p.dkim == "own" else p.dkim
        if plat_key == "outlookcom" and c.domain in ("hotmail.de", "outlook.de"):
            sign_domain = c.domain
        if sign_domain:
            side.insert(0, w.dkim_signature(sign_domain, p.selector, when))
            auth.append(f"dkim=pass header.d={sign_domain} header.s={p.selector} header.b={w.b64(6)[:8]}")
            if plat_key == "mailchimp":
                side.insert(0, w.dkim_signature("mcsv.net", "k3", when))
                auth.append(f"dkim=pass header.d=mcsv.net header.s=k3 header.b={w.b64(6)[:8]}")
            if plat_key == "ses":
                side.insert(0, w.dkim_signature("amazonses.com", "ihchhvubuqgjsxyuhssfvqohv7z3u4hn", when))
                auth.append(f"dkim=pass header.d=amazonses.com header.s=ihchhvubuqgjsxyuhssfvqohv7z3u4hn "
                            f"header.b={w.b64(6)[:8]}")
        else:
            auth.append("dkim=none")
        if plat_key == "mailchimp":
            envelope = (f"bounce-mc.us21_{r.randint(10**7, 10**8)}.{r.randint(10**5, 10**6)}-"
                        f"{c.address.replace('@', '=')}@mail181.suw91.mcdlv.net")
        elif plat_key == "ses":
            envelope = f"0102019{w.hexs(8)}-{w.uuid()}-000000@eu-west-1.amazonses.com"
        env_dom = envelope.rpartition("@")[2]
        auth.append(f"spf=pass ({AUTHSERV}: domain of {envelope} designates {ip} as permitted sender) "
                    f"smtp.mailfrom={envelope}")
        policy = self.dmarc_policy(c.domain)
        if policy:
            aligned = bool(sign_domain and sign_domain.endswith(c.domain)) or env_dom.endswith(c.domain)
            if aligned:
                auth.append(f"dmarc=pass (p={policy.upper()} sp={policy.upper()} dis=NONE) header.from={c.domain}")
            else:
                auth.append(f"dmarc=fail (p={policy.upper()} sp={policy.upper()} dis=NONE) header.from={c.domain}")
        else:
            auth.append(f"dmarc=none (p=NONE sp=NONE dis=NONE) header.from={c.domain}" if r.random() < 0.3
                        else f"dmarc=none header.from={c.domain}")
        hop = (f"from {host} ({host} [{ip}])\r\n\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)\r\n"
               f"\t key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256)\r\n"
               f"\t(No client certificate requested)\r\n\tby {r.choice(MX_HOSTS)} (Postfix) with ESMTPS id {w.qid()}")
        if plat_key == "exchange_onprem":
            hop = (f"from mail.{c.domain} (mail.{c.domain} [{ip}])\r\n\t(using TLSv1.2 with cipher "
                   f"ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits))\r\n\t(No client certificate requested)\r\n"
                   f"\tby {r.choice(MX_HOSTS)} (Postfix) with ESMTPS id {w.qid()}")
        return Arrival(hop, ip, envelope, auth, side)

    def dmarc_policy(self, domain: str) -> str:
        plat = FREEMAIL.get(domain)
        if plat:
            return PLATFORMS[plat].dmarc if PLATFORMS[plat].dmarc != "none" or domain != "t-online.de" else ""
        h = sum(map(ord, domain)) % 10
        return ["", "", "", "none", "none", "none", "quarantine", "quarantine", "reject", "none"][h]

    def received(self, c_name: str, from_addr: str, arrival: Arrival, when: datetime, subject: str, body: str,
                 mailer: tuple[str, str, str], mid: str, to: str = "", extra: list[str] | None = None,
                 attachment=None, mid_domain: str = "", envelope_to: str = OWNER, reply_to: str = "") -> bytes:
        r, w = self.rng, self.w
        delay = timedelta(seconds=r.randint(2, 40))
        arrived = when + delay
        stamp = format_datetime(arrived)
        lmtp = (f"Received: from {r.choice(MX_HOSTS)} ([10.20.0.{r.randint(11, 14)}])\r\n\tby imap0{r.randint(1, 4)}"
                f".mailprovider.example with LMTP\r\n\tid {w.alnum(22)}\r\n\t(envelope-from <{arrival.envelope}>)\r\n"
                f"\tfor <{envelope_to}>; {format_datetime(arrived + timedelta(seconds=1))}")
        ar = f"Authentication-Results: {AUTHSERV};\r\n\t" + ";\r\n\t".join(arrival.auth)
        entry = f"Received: {arrival.hop_line}\r\n\tfor <{envelope_to}>; {stamp}"
        lines = [f"Return-Path: <{arrival.envelope}>", f"Delivered-To: {envelope_to}", lmtp,
                 f"X-Spam-Status: No, score=-{r.randint(0, 30) / 10:.1f}", ar, entry]
        for h in arrival.sender_side:
            lines.append(h.replace("{date}", format_datetime(when + timedelta(seconds=1))))
        lines += [f"From: {address_header(c_name, from_addr)}", f"To: {to or address_header(OWNER_NAME, OWNER)}",
                  f"Subject: {header_value(subject)}", f"Date: {format_datetime(when)}", f"Message-ID: {mid}"]
        if reply_to:
            lines.append(f"Reply-To: {reply_to}")
        for h in extra or []:
            lines.append(h)
        if mailer[0]:
            lines.append(f"{mailer[0]}: {mailer[1]}")
        if mailer[2] == "m365":
            lines += [f"Thread-Index: {w.b64(22)}", "X-MS-Has-Attach: " + ("yes" if attachment else ""),
                      "Content-Language: de-DE"]
        if mailer[2].startswith("trinity"):
            lines += ["Importance: normal", "Sensitivity: Normal", "X-Priority: 3", "X-UI-Message-Type: mail"]
        lines += body_part(body, attachment, r)
        return "\r\n".join(lines).encode("utf-8") + b"\r\n"

    def attachment_for(self, role: str):
        r = self.rng
        if role in ("supplier", "accountant", "business") and r.random() < 0.35:
            stem = r.choice(["Rechnung", "Angebot", "Lieferschein", "Auswertung", "Plan"])
            return f"{stem}_{r.randint(10000, 99999)}.pdf", "application/pdf", fake_pdf(r)
        if role == "family" and r.random() < 0.25:
            return f"IMG_{r.randint(1000, 9999)}.jpg", "image/jpeg", fake_jpg(r)
        return None

    def genuine(self, c: Correspondent, when: datetime, mailer_key: str | None = None,
                plat_key: str | None = None, forwarded: bool = False, auto_reply: bool = False,
                dkim_trouble: str = "") -> bytes:
        """An ordinary message from `c` as it really arrives. `forwarded`: sent to Anna's old T-Online
        address, which forwards to the firm's mailbox (the signature survives, the hop is T-Online's).
        `auto_reply`: the contact's out-of-office answer to a message Anna sent. `dkim_trouble`: "temperror"
        (the provider could not fetch the key this time) or "fail" (a gateway on the sender's side changed
        the body after signing) instead of the usual pass."""
        r = self.rng
        plat, mailers = c.platform_at(when)
        plat = plat_key or plat
        if mailer_key is None:
            mailer_key = r.choices([m for m, _ in mailers], weights=[w for _, w in mailers])[0]
        mailer = MAILERS[mailer_key]
        if plat in ("list2", "list3"):
            return self.list_post(c, when)
        mid = self.w.message_id(mailer[2], c.domain, when)
        role = c.role
        subject = fill(r.choice(SUBJECTS.get(role, SUBJECTS["customer"])), r, when)
        extra = []
        if self.sent_ids and role not in ("newsletter", "notice") and r.random() < 0.35:
            mine = [s for s in self.sent_ids[-400:] if s[2] is c]
            if mine:
                ref, subj, _ = r.choice(mine)
                subject = "AW: " + subj if r.random() < 0.6 else "Re: " + subj
                extra += [f"In-Reply-To: {ref}", f"References: {ref}"]
        sig = c.name if c.name and "," not in c.name else f"{c.given} {c.family}".strip() or c.org
        if c.org and role in ("supplier", "business", "accountant"):
            sig += f"\n{c.org}"
        body = fill(r.choice(BODIES.get(role, BODIES["customer"])), r, when, sig)
        if role in ("newsletter", "notice"):
            extra += [f"List-Unsubscribe: <https://{c.domain}/unsubscribe?u={self.w.hexs(8)}>",
                      "List-Unsubscribe-Post: List-Unsubscribe=One-Click"] if role == "newsletter" else []
            extra += ["Precedence: bulk"] if role == "newsletter" else []
        to = ""
        if role == "colleague" and r.random() < 0.3:
            to = f"{address_header(OWNER_NAME, OWNER)}, buero@weber-bau.de"
        attachment = self.attachment_for(role)
        if auto_reply:
            mine = [x for x in self.sent_ids if x[2] is c] or self.sent_ids[-50:]
            ref, subj, _ = r.choice(mine)
            subject = r.choice(["Automatische Antwort: ", "Abwesenheitsnotiz: ", "Out of Office: "]) + subj
            body = (f"Vielen Dank für Ihre Nachricht. Ich bin bis zum {r.randint(2, 28)}.{when.month}. nicht im Büro "
                    f"und habe keinen Zugriff auf meine E-Mails. In dringenden Fällen wenden Sie sich bitte an "
                    f"unser Büro.\n\n{sig}")
            extra = [f"In-Reply-To: {ref}", f"References: {ref}", "Auto-Submitted: auto-replied",
                     "X-Auto-Response-Suppress: All"]
            attachment = None
        arrival = self.genuine_arrival(c, plat, when)
        if dkim_trouble:
            own = f"header.d={c.domain if PLATFORMS[plat].dkim == 'own' else PLATFORMS[plat].dkim} "
            why = "(DNS error while fetching the key)" if dkim_trouble == "temperror" else "(body hash did not verify)"
            arrival.auth = [f"dkim={dkim_trouble} {why} {own}{a.split(own, 1)[1]}"
                            if a.startswith("dkim=pass") and own in a else a for a in arrival.auth]
        if forwarded:
            to = "Anna Weber <anna.weber@t-online.de>"
            arrival = self.forwarded(arrival, c, when)
        return self.received(c.name, c.address, arrival, when, subject, body, mailer, mid, to, extra, attachment)

    def forwarded(self, original: Arrival, c: Correspondent, when: datetime) -> Arrival:
        """The same message after T-Online forwarded it from Anna's old address (envelope rewritten by SRS)."""
        r, w = self.rng, self.w
        host, ip = r.choice(PLATFORMS["tonline"].hosts)
        first_hop = original.hop_line.split("\r\n\tby ")[0]
        side = [f"Received: from fwd{r.randint(70, 89)}.aul.t-online.de ([10.223.144.{r.randint(2, 250)}]) by {host} "
                f"with (TLSv1.3:TLS_AES_256_GCM_SHA384 encrypted) esmtp id {w.alnum(20)}; {{date}}",
                f"Received: {first_hop}\r\n\tby mx00.t-online.de with (TLSv1.3:TLS_AES_256_GCM_SHA384 encrypted) esmtp"
                f" id {w.alnum(20)}\r\n\tfor <anna.weber@t-online.de>; {{date}}", *original.sender_side]
        dom = c.domain
        envelope = f"SRS0={w.alnum(4, True)}={w.alnum(2, True)}={dom}={original.envelope.partition('@')[0]}@t-online.de"
        dkim = [a for a in original.auth if a.startswith("dkim=")]
        policy = self.dmarc_policy(dom)
        aligned = any(a.startswith("dkim=pass") and f"header.d={dom}" in a for a in dkim)
        auth = dkim + [f"spf=pass ({AUTHSERV}: domain of {envelope} designates {ip} as permitted sender) "
                       f"smtp.mailfrom={envelope}"]
        if policy:
            auth.append(f"dmarc={'pass' if aligned else 'fail'} (p={policy.upper()} sp={policy.upper()} dis=NONE) "
                        f"header.from={dom}")
        else:
            auth.append(f"dmarc=none header.from={dom}")
        hop = (f"from {host} ({host} [{ip}])\r\n\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits))"
               f"\r\n\t(No client certificate requested)\r\n\tby {r.choice(MX_HOSTS)} (Postfix) with ESMTPS id "
               f"{w.qid()}")
        return Arrival(hop, ip, envelope, auth, side)

    def share_notice(self, c: Correspondent, when: datetime, service: str) -> bytes:
        """A file shared or a document sent for signing by `c` through Google Drive or DocuSign: the contact's
        name (with the service's words) on the service's own address, the contact in Reply-To."""
        r, w = self.rng, self.w
        person = c.name if c.name and "," not in c.name else f"{c.given} {c.family}".strip() or c.org
        doc = fill(r.choice(["Angebot {n}", "Pläne Baustelle {site}", "Aufmaß {site}", "Vertrag {n}",
                             "Bauzeitenplan KW {kw}"]), r, when)
        if service == "drive":
            name, addr = f"{person} (über Google Drive)", "drive-shares-dm-noreply@google.com"
            envelope = f"3{w.alnum(20)}@doclist.bounces.google.com"
            host, ip, signer, sel = "mail-sor-f69.google.com", "209.85.220.69", "google.com", "20230601"
            subject = f'Dokument wurde für Sie freigegeben: "{doc}"'
            body = (f"{person} ({c.address}) hat Sie eingeladen, das folgende Dokument zu bearbeiten:\n\n{doc}\n"
                    f"https://docs.google.com/document/d/{w.alnum(44)}/edit?usp=sharing_eip\n\nGoogle LLC, "
                    "1600 Amphitheatre Parkway, Mountain View, CA 94043, USA")
            mid = f"<{w.alnum(22)}-{w.hexs(8)}@google.com>"
            mailer = ("", "", "keep")
        else:
            name, addr = f"{person} via DocuSign", f"dse_NA{r.randint(2, 4)}@docusign.net"
            envelope = f"bounces+{r.randint(10**6, 10**7)}-{w.hexs(4)}@eumail.docusign.net"
            host, ip, signer, sel = "mailfr01.eumail.docusign.net", "185.81.100.171", "docusign.net", "s1"
            subject = f"Bitte mit DocuSign unterzeichnen: {doc}.pdf"
            body = (f"{person} hat Ihnen ein Dokument zum Überprüfen und Unterzeichnen gesendet.\n\nDOKUMENT "
                    f"ÜBERPRÜFEN\nhttps://eu.docusign.net/Signing/EmailStart.aspx?a={w.uuid()}&etti=24\n\n"
                    "Diese Nachricht wurde von DocuSign gesendet.")
            mid = f"<{w.hexs(16)}@eu1prd.docusign.net>"
            mailer = ("", "", "keep")
        auth = [f"dkim=pass header.d={signer} header.s={sel} header.b={w.b64(6)[:8]}",
                f"spf=pass ({AUTHSERV}: domain of {envelope} designates {ip} as permitted sender) "
                f"smtp.mailfrom={envelope}",
                f"dmarc=pass (p=REJECT sp=REJECT dis=NONE) header.from={signer}"]
        hop = (f"from {host} ({host} [{ip}])\r\n\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 "
               f"bits))\r\n\t(No client certificate requested)\r\n\tby {r.choice(MX_HOSTS)} (Postfix) with ESMTPS "
               f"id {w.qid()}")
        arrival = Arrival(hop, ip, envelope, auth, [w.dkim_signature(signer, sel, when)])
        return self.received(name, addr, arrival, when, subject, body, mailer, mid,
                             reply_to=address_header(person, c.address))

    def list_post(self, lst: Correspondent, when: datetime, poster: Correspondent | None = None) -> bytes:
        """A post to one of the mailing lists, by `poster` (a list member, maybe one of Anna's contacts)."""
        r, w = self.rng, self.w
        poster = poster or r.choice(self.world.posters)
        pmailer = MAILERS[r.choices([m for m, _ in poster.mailers], weights=[x for _, x in poster.mailers])[0]]
        mid = w.message_id(pmailer[2] if pmailer[2] != "keep" else "hex", poster.domain, when)
        subject = f"[{'Bau-Forum' if lst.platform == 'list3' else 'Unternehmer'}] " + fill(r.choice(SUBJECTS["list"]),
                                                                                          r, when)
        body = fill(BODIES["list"][0], r, when, poster.name) + \
            f"\n\n_______________________________________________\n{lst.list_id.split('.')[0]} mailing list\n" \
            f"{lst.address}\nhttps://{lst.domain}/mailman/listinfo/{lst.list_id.split('.')[0]}\n"
        lhost = f"mail.{lst.domain.removeprefix('lists.')}"
        lip = f"185.{sum(map(ord, lst.domain)) % 200 + 20}.{r.randint(1, 254) if False else 44}.12"
        ppl = PLATFORMS.get(poster.platform)
        extra = [f"List-Id: {lst.name or 'Unternehmer-Liste'} <{lst.list_id}>", f"List-Post: <mailto:{lst.address}>",
                 f"List-Unsubscribe: <https://{lst.domain}/mailman/options/{lst.list_id.split('.')[0]}>",
                 f"List-Help: <mailto:{lst.address.replace('@', '-request@')}?subject=help>", "Precedence: list",
                 "X-BeenThere: " + lst.address,
                 "X-Mailman-Version: " + ("3.3.9" if lst.platform == "list3" else "2.1.39")]
        side = []
        poster_signer = (poster.domain if ppl.dkim == "own" else ppl.dkim) if ppl and ppl.dkim else ""
        if poster_signer and ppl:
            side.append(w.dkim_signature(poster_signer, ppl.selector, when))
        side.append(f"Received: from {ppl.hosts[0][0] if ppl else 'mail.example.de'} "
                    f"({ppl.hosts[0][0] if ppl else 'mail.example.de'} [{ppl.hosts[0][1] if ppl else '203.0.113.9'}]) "
                    f"by {lhost} (Postfix) with ESMTPS id {w.qid()} for <{lst.address}>; {{date}}")
        envelope = lst.address.replace("@", "-bounces@")
        if lst.platform == "list3":
            # Mailman 3 with DMARC mitigation: From rewritten to the list, signed by the list's domain
            from_name, from_addr = f"{poster.name} via Bau-Forum", lst.address
            extra.insert(0, f"Reply-To: {address_header(poster.name, poster.address)}")
            side.insert(0, w.dkim_signature(lst.domain, "ml2024", when))
            auth = [f"dkim=pass header.d={lst.domain} header.s=ml2024 header.b={w.b64(6)[:8]}"]
            if ppl and ppl.dkim:
                auth.append(f"dkim=fail (body hash did not verify) header.d={poster_signer}")
            auth += [f"spf=pass ({AUTHSERV}: domain of {envelope} designates {lip} as permitted sender) "
                     f"smtp.mailfrom={envelope}", f"dmarc=pass (p=NONE sp=NONE dis=NONE) header.from={lst.domain}"]
        else:
            # an old list: the poster's From kept, the footer breaks the poster's signature
            from_name, from_addr = poster.name, poster.address
            extra.insert(0, f"Sender: \"{lst.list_id.split('.')[0]}\" <{envelope}>")
            auth = [f"dkim=fail (body hash did not verify) header.d={poster_signer}" if poster_signer else "dkim=none",
                    f"spf=pass ({AUTHSERV}: domain of {envelope} designates {lip} as permitted sender) "
                    f"smtp.mailfrom={envelope}"]
            pol = self.dmarc_policy(poster.domain)
            if pol:
                auth.append(f"dmarc=fail (p={pol.upper()} sp={pol.upper()} dis=NONE) header.from={poster.domain}")
            else:
                auth.append(f"dmarc=none header.from={poster.domain}")
        hop = (f"from {lhost} ({lhost} [{lip}])\r\n\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 "
               f"(256/256 bits))\r\n\t(No client certificate requested)\r\n\tby {r.choice(MX_HOSTS)} (Postfix) "
               f"with ESMTPS id {w.qid()}")
        side.insert(0, f"Received: from {lhost} (localhost [127.0.0.1]) by {lhost} (Postfix) with ESMTP id {w.qid()};"
                       " {date}")
        arrival = Arrival(hop, lip, envelope, auth, side)
        return self.received(from_name, from_addr, arrival, when, subject, body, pmailer, mid,
                             to=f"{address_header(lst.name, lst.address)}" if lst.name else f"<{lst.address}>",
                             extra=extra)

    def sent(self, c: Correspondent, when: datetime) -> bytes:
        r, w = self.rng, self.w
        mid = f"<{w.uuid()}@{OWN_DOMAIN}>"
        subject = fill(r.choice(SUBJECTS.get(c.role, SUBJECTS["customer"])), r, when)
        shown = c.book_name or c.name
        if c.book_name == "Mama" and r.random() < 0.5:
            shown = "Mama"
        to = address_header(shown, c.address) if shown and r.random() < 0.9 else c.address
        lines = [f"From: {address_header(OWNER_NAME, OWNER)}", f"To: {to}"]
        if c.role in ("supplier", "business") and r.random() < 0.15:
            lines.append("Cc: Markus Weber <markus@weber-bau.de>")
        greet = f"Hallo {c.given or 'zusammen'}" if c.role in ("family", "colleague") else "Guten Tag"
        lines += [f"Subject: {header_value(subject)}", f"Date: {format_datetime(when)}", f"Message-ID: {mid}",
                  "User-Agent: Mozilla Thunderbird", "Content-Language: de-DE"]
        lines += body_part(f"{greet},\n\nanbei wie besprochen.\n\nViele Grüße\nAnna Weber\nWeber Bau\n", None, r)
        self.sent_ids.append((mid, subject, c))
        c.sent_to += 1
        return "\r\n".join(lines).encode("utf-8") + b"\r\n"


# --- attacks -----------------------------------------------------------------------------------------------

def name_variant(c: Correspondent, how: str, rng: random.Random) -> str | None:
    """The contact's name as a forger writes it; None when this variant does not apply to the contact."""
    base = c.book_name or c.name
    if not base:
        return None
    if how == "exact":
        return c.name or base
    if how == "no_accents":
        if drop_accents(base) == base:
            return None
        if rng.random() < 0.5 and any(ch in base for ch in "äöüÄÖÜ"):
            return translit(base)
        return drop_accents(base)
    if how == "order_swapped":
        if not (c.given and c.family):
            return None
        return rng.choice([f"{c.family}, {c.given}", f"{c.family} {c.given}", f"{c.family.upper()} {c.given}"])
    if how == "title":
        if not (c.given and c.family):
            return None
        if c.title:
            return f"{c.given} {c.family}"  # the title left out
        return f"{rng.choice(['Dr.', 'Dipl.-Ing.', 'Prof.', 'Dr. med.', 'Mag.'])} {c.given} {c.family}"
    if how == "company_suffix":
        if c.given or not c.org:
            return None
        stem = c.org
        for form in ["GmbH & Co. KG", "UG (haftungsbeschränkt)", "GmbH", "KG", "e.K.", "AG"]:
            if stem.endswith(" " + form):
                stem = stem[: -len(form) - 1]
                break
        options = [stem, stem, f"{stem} GmbH", f"{stem} AG", f"{stem} GmbH & Co. KG", f"{stem} KG", f"{stem} Ltd"]
        options = [o for o in options if o != c.org]
        return rng.choice(options)
    return None


def lookalike_domain(domain: str, how: str, rng: random.Random) -> tuple[str, str] | None:
    """(domain as written in From, kind detail) or None when the trick does not fit the domain."""
    label, _, tld = domain.partition(".")
    if how == "transposition":
        spots = [i for i in range(1, len(label) - 1) if label[i].isalpha() and label[i + 1].isalpha()
                 and label[i] != label[i + 1]]
        if not spots:
            return None
        i = rng.choice(spots)
        return label[:i] + label[i + 1] + label[i] + label[i + 2:] + "." + tld, "swapped letters"
    if how == "homoglyph":
        subs = {"e": "\u0435", "a": "\u0430", "o": "\u043e", "p": "\u0440", "c": "\u0441", "x": "\u0445"}
        spots = [i for i, ch in enumerate(label) if ch in subs]
        if not spots:
            return None
        i = rng.choice(spots)
        uni = label[:i] + subs[label[i]] + label[i + 1:] + "." + tld
        return uni, "Cyrillic letter"
    if how == "digit":
        subs = {"o": "0", "l": "1", "i": "1", "e": "3"}
        spots = [i for i, ch in enumerate(label) if ch in subs]
        if "m" in label and rng.random() < 0.3:
            i = label.index("m")
            return label[:i] + "rn" + label[i + 1:] + "." + tld, "rn for m"
        if not spots:
            return None
        i = rng.choice(spots)
        return label[:i] + subs[label[i]] + label[i + 1:] + "." + tld, "digit for letter"
    if how == "omission":
        i = rng.randrange(1, len(label) - 1)
        if label[i] == "-" or label[i - 1] == "-":
            return None
        if rng.random() < 0.5:
            return label[:i] + label[i + 1:] + "." + tld, "letter left out"
        return label[:i] + label[i] + label[i:] + "." + tld, "letter doubled"
    if how == "hyphen":
        if "-" in label:
            return label.replace("-", "", 1) + "." + tld, "hyphen removed"
        i = rng.randrange(2, len(label) - 1)
        return label[:i] + "-" + label[i:] + "." + tld, "hyphen added"
    if how == "tld":
        return label + "." + rng.choice(["com", "de.com", "eu", "net", "info"]), "other ending"
    return None


def idna_ascii(domain: str) -> str:
    return domain.encode("idna").decode("ascii")


class Attacker:
    def __init__(self, box: Mailbox, rng: random.Random):
        self.box = box
        self.rng = rng
        self.w = box.w

    def body(self, c: Correspondent, when: datetime, style: str, shown: str = "") -> tuple[str, str, object]:
        r = self.rng
        first = c.given or f"Ihr Team von {shown or c.org or c.name}"
        if shown and c.given:  # signed the way the forger wrote the name
            words = [x.strip(",") for x in shown.split() if x.strip(",") and not x.endswith(".")]
            first = next((x for x in words if drop_accents(x).lower() in (drop_accents(c.given).lower(),
                                                                           translit(c.given).lower())), first)
        if style == "bec":
            subject = r.choice(["Neue Bankverbindung", "Dringende Überweisung", "Rechnung offen - bitte heute noch",
                                "Änderung unserer Kontodaten"])
            body = (f"Hallo Frau Weber,\n\nbitte überweisen Sie die offene Rechnung ab sofort auf unser neues Konto "
                    f"bei der Volksbank (IBAN DE{r.randint(10, 99)} 7016 {r.randint(1000, 9999)} "
                    f"{r.randint(1000, 9999)} {r.randint(1000, 9999)} {r.randint(10, 99)}). Das alte Konto ist "
                    f"gesperrt.\n\nDanke\n{first}")
        elif style == "chat":
            subject = r.choice(["Kurze Frage", "Hast du kurz Zeit?", "Bitte um Rückruf", "Wichtig"])
            body = f"Hallo Anna,\n\nbist du gerade erreichbar? Ich brauche kurz deine Hilfe.\n\nGruß\n{first}"
        elif style == "link":
            subject = r.choice(["Dokumente zur Baustelle", "Rechnung {n}", "Geteilte Datei", "Pläne aktualisiert"])
            subject = fill(subject, r, when)
            body = (f"Guten Tag,\n\ndie Unterlagen liegen zum Download bereit:\n"
                    f"https://{r.choice(['docs-share', 'cloud-files', 'secure-dl'])}.{r.choice(['top', 'xyz', 'site'])}"
                    f"/d/{self.w.alnum(10)}\n\nMit freundlichen Grüßen\n{first}")
        else:  # klez: a random subject and the worm as an attachment
            subject = r.choice(["Hi", "Hello", "a very funny website", "Worm Klez.E immunity", "Re:", "Fw: Ihr Auftrag",
                                "Bestellung", "Information"])
            body = r.choice(["Hallo,\n\nsiehe Anhang.\n", "I expect you to like it.\n", "Bitte ansehen.\n"])
        return subject, body, None

    def impersonation(self, c: Correspondent, variant: str, when: datetime) -> tuple[bytes, str, str] | None:
        r, w = self.rng, self.w
        name = name_variant(c, variant, r)
        if not name:
            return None
        if c.given:
            g, f = translit(c.given).lower(), translit(c.family).lower()
        else:  # a firm: its name's last word ("Holzhandel Schreiner GmbH" -> schreiner) and its trade
            words = [slug(x) for x in (c.org or c.name).split() if x not in FORMS and not x.startswith(("(", "&"))]
            words = [x for x in words if x and x not in ("gmbh", "co", "kg", "ag", "ug", "e-k")] or ["firma"]
            g, f = words[0][:12], words[-1]
        dom = r.choice(["gmail.com", "gmail.com", "gmx.de", "web.de", "outlook.com", "hotmail.de", "other"])
        if dom == "other":  # a compromised web host or a random cheap domain
            dom = r.choice(["mail-office24.com", "baugroup-service.net", "kanzlei-online.info", "post-box.eu",
                            "tech-support-de.com", "rechnungsportal.online"])
        local = r.choice([f"{g}.{f}{r.randint(1, 99)}", f"{f}.{g[0]}.office", f"{g}{f}.buero", f"office.{f}",
                          f"{g[0]}{f}{r.randint(1960, 2001)}", f"{f}-{slug(c.org or 'bau')[:10]}"])
        addr = f"{local}@{dom}"
        fake = Correspondent(name, addr, FREEMAIL.get(dom, "ionos"), [("gmail-web", 1.0)], "attacker", 0)
        plat = FREEMAIL.get(dom)
        if plat is None:
            plat = r.choice(["ionos", "allinkl", "ownserver"])
            fake.platform = plat
        mailer = MAILERS[{"gmail": "gmail-web", "gmx": "gmx-web", "webde": "webde-web", "outlookcom": "outlookcom-web"}
                         .get(plat, r.choice(["roundcube", "outlook-smtp"]))]
        arrival = self.box.genuine_arrival(fake, plat, when)
        subject, body, att = self.body(c, when, r.choice(["bec", "chat", "chat", "link"]), shown=name)
        reply_to = address_header(name, f"{g}.{f}.{r.randint(1, 999)}@{r.choice(['gmail.com', 'outlook.com'])}") \
            if r.random() < 0.25 else ""
        raw = self.box.received(name, addr, arrival, when, subject, body, mailer,
                                w.message_id(mailer[2], dom, when), reply_to=reply_to)
        return raw, f"display name {name!r} (contact {c.address}) on {addr}", \
            "freemail" if dom in FREEMAIL else "other_domain"

    def botnet_hop(self, c: Correspondent) -> tuple[str, str, str]:
        """(entry Received text, IP, description) of a hijacked home computer sending directly."""
        r = self.rng
        a, b, d = r.randint(1, 254), r.randint(1, 254), r.randint(1, 254)
        first = r.choice([186, 177, 88, 95, 117, 41, 201, 79, 109])
        ip = f"{first}.{a}.{b}.{d}"
        isp = r.choice([f"dsl-{first}-{a}-{b}.dynamic.telecom.com.br", f"{d}-{b}-{a}-{first}.cable.virtua.com.br",
                        f"dslb-{first:03d}-{a:03d}-{b:03d}-{d:03d}.pools.vodafone-ip.de",
                        f"host-{first}-{a}-{b}-{d}.broadband.example-isp.net", f"ppp-{first}-{a}-{b}-{d}.dyn.tpnet.pl",
                        f"{first}.{a}.{b}.{d}.adsl.dyn.hinet.net"])
        helo = r.choice([f"{self.w.alnum(8)}", f"[{ip}]", c.domain, "pc07", "USER-PC", f"mail.{c.domain}"])
        if r.random() < 0.2:
            text = (f"from {helo} (unknown [{ip}])\r\n\tby {r.choice(MX_HOSTS)} (Postfix) with ESMTP id {self.w.qid()}")
            return text, ip, f"home computer without a name [{ip}], greeting {helo}"
        text = f"from {helo} ({isp} [{ip}])\r\n\tby {r.choice(MX_HOSTS)} (Postfix) with ESMTP id {self.w.qid()}"
        return text, ip, f"home computer {isp} [{ip}], greeting {helo}"

    def vps_hop(self, c: Correspondent) -> tuple[str, str, str]:
        r = self.rng
        a, b = r.randint(1, 254), r.randint(1, 254)
        host, ip = r.choice([(f"vps-{self.w.hexs(4)}.vps.ovh.net", f"51.75.{a}.{b}"),
                             (f"static.{b}.{a}.201.138.clients.your-server.de", f"138.201.{a}.{b}"),
                             (f"{a}-{b}.contabo.host", f"173.212.{a}.{b}"),
                             (f"ec2-3-{a}-{b}-9.eu-central-1.compute.amazonaws.com", f"3.{a}.{b}.9"),
                             (f"mail{a}.smtp-relay24.com", f"193.{a}.{b}.20")])
        text = (f"from mail.{c.domain} ({host} [{ip}])\r\n\t(using TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 "
                f"(256/256 bits))\r\n\t(No client certificate requested)\r\n\tby {r.choice(MX_HOSTS)} (Postfix) with "
                f"ESMTPS id {self.w.qid()}")
        return text, ip, f"server {host} [{ip}]"

    def wrong_path(self, c: Correspondent, variant: str, when: datetime) -> tuple[bytes, str]:
        r, w = self.rng, self.w
        plat, mailers = c.platform_at(when)
        usual_key = max(mailers, key=lambda m: m[1])[0]
        usual = MAILERS[usual_key]
        policy = self.box.dmarc_policy(c.domain)
        p = PLATFORMS.get(plat)
        sign_domain = (c.domain if p.dkim == "own" else p.dkim) if p and p.dkim else ""
        selector = p.selector if p else ""
        signs = bool(sign_domain)
        changed = []
        side: list[str] = []
        if variant in ("klez", "dkim_fail_botnet", "unsigned_contact"):
            hop, ip, desc = self.botnet_hop(c)
        else:
            hop, ip, desc = self.vps_hop(c)
        changed.append("arrives from " + desc)
        envelope = c.address
        auth = []
        if variant == "dkim_fail_botnet" and signs:
            side.append(w.dkim_signature(sign_domain, selector, when - timedelta(days=r.randint(20, 90))))
            auth.append(f"dkim=fail (signature verification failed) header.d={sign_domain} header.s={selector}")
            changed.append(f"copied signature of {sign_domain} fails")
        elif variant == "foreign_dkim":
            other = r.choice(["smtp-relay24.com", "mailer-cloud.net", "sendfast-mail.com"])
            side.append(w.dkim_signature(other, "s1", when))
            auth.append(f"dkim=pass header.d={other} header.s=s1 header.b={w.b64(6)[:8]}")
            envelope = f"bounce-{w.alnum(8)}@{other}"
            changed.append(f"signed by {other} instead of {sign_domain or 'nobody'}")
        else:
            auth.append("dkim=none (message not signed)")
            if signs:
                changed.append(f"no signature (usually {sign_domain})")
        if envelope == c.address:
            spf = r.choice(["softfail", "fail", "neutral"]) if policy or c.domain in FREEMAIL else "none"
            word = {"softfail": "transitioning ", "fail": "", "neutral": "", "none": ""}[spf]
            auth.append(f"spf={spf} ({AUTHSERV}: domain of {word}{envelope} does not designate {ip} as permitted "
                        f"sender) smtp.mailfrom={envelope}" if spf != "none" else
                        f"spf=none ({AUTHSERV}: {c.domain} does not designate permitted sender hosts) "
                        f"smtp.mailfrom={envelope}")
        else:
            auth.append(f"spf=pass ({AUTHSERV}: domain of {envelope} designates {ip} as permitted sender) "
                        f"smtp.mailfrom={envelope}")
        if policy:
            dis = "NONE" if policy == "none" else r.choice(["NONE", "QUARANTINE"]) if policy == "quarantine" else "NONE"
            if policy == "reject":
                dis = "NONE"  # delivered anyway: the provider honours no reject for some domains (local policy)
                auth.append(f"dmarc=fail reason=\"local policy override\" (p=REJECT sp=REJECT dis=NONE) "
                            f"header.from={c.domain}")
            else:
                auth.append(f"dmarc=fail (p={policy.upper()} sp={policy.upper()} dis={dis}) header.from={c.domain}")
        else:
            auth.append(f"dmarc=none header.from={c.domain}")
        # Message-ID and mail program: a worm writes its own; a careful forger copies the contact's
        if variant in ("klez", "foreign_dkim", "unsigned_contact"):
            mailer = r.choice(FORGED_MAILERS)
            mid = w.message_id(mailer[2], c.domain, when)
            changed.append(f"mail program {mailer[1] or 'not named'} (usually {usual[1] or usual_key})")
            changed.append("Message-ID " + mid)
        else:
            mailer = usual
            mid = w.message_id(usual[2], c.domain, when)
        style = "klez" if variant == "klez" else r.choice(["bec", "chat", "link"])
        subject, body, _ = self.body(c, when, style)
        attachment = None
        if variant == "klez" and r.random() < 0.5:
            fname = r.choice(["Rechnung.pdf.scr", "foto.jpg.pif", "setup.exe", "info.doc.bat", "readme.txt.exe"])
            attachment = (fname, "application/octet-stream", b"MZ\x90\x00" + r.randbytes(2000))
        arrival = Arrival(hop, ip, envelope, auth, side)
        raw = self.box.received(c.name or c.book_name, c.address, arrival, when, subject, body, mailer, mid,
                                attachment=attachment)
        return raw, f"{c.address}: " + "; ".join(changed)

    def lookalike(self, c: Correspondent, how: str, when: datetime) -> tuple[bytes, str] | None:
        r, w = self.rng, self.w
        found = lookalike_domain(c.domain, how, r)
        if not found:
            return None
        uni, detail = found
        ascii_dom = idna_ascii(uni)
        shown = uni if (how == "homoglyph" and r.random() < 0.4) else ascii_dom  # SMTPUTF8 mail or punycode
        local = c.address.partition("@")[0]
        addr = f"{local}@{shown}"
        fake = Correspondent(c.name or c.book_name, f"{local}@{ascii_dom}", "ownserver", [("roundcube", 1.0)],
                             "attacker", 0)
        plat = r.choice(["ownserver", "ionos", "allinkl", "google"])
        arrival = self.box.genuine_arrival(fake, plat, when)
        # the forger published SPF, DKIM and DMARC for the look-alike domain
        arrival.auth = [a.replace(f"header.from={ascii_dom}", f"header.from={ascii_dom}") for a in arrival.auth]
        if not any(a.startswith("dmarc=pass") for a in arrival.auth):
            arrival.auth = [a for a in arrival.auth if not a.startswith("dmarc")] + \
                [f"dmarc=pass (p=NONE sp=NONE dis=NONE) header.from={ascii_dom}"]
        usual = MAILERS[max(c.mailers, key=lambda m: m[1])[0]] if c.mailers else MAILERS["roundcube"]
        subject, body, _ = self.body(c, when, r.choice(["bec", "bec", "link", "chat"]))
        raw = self.box.received(c.name or c.book_name, addr, arrival, when, subject, body, usual,
                                w.message_id(usual[2] if usual[2] not in ("gmail", "m365") else "hex", ascii_dom, when))
        return raw, f"{addr} ({detail}) imitates {c.address}"


# --- the address book ----------------------------------------------------------------------------------

def vcard_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;").replace("\n", "\\n")


def vcard_fold(line: str) -> str:
    """Folds at 75 octets without splitting a UTF-8 sequence (RFC 6350 3.2)."""
    out: list[str] = []
    cur = ""
    for ch in line:
        limit = 75 if not out else 74
        if len((cur + ch).encode("utf-8")) > limit:
            out.append(cur)
            cur = ch
        else:
            cur += ch
    out.append(cur)
    return "\r\n ".join(out)


def book_entries(world: World) -> list[dict]:
    """One entry per person or firm in the book (a person's addresses together)."""
    entries: dict[str, dict] = {}
    for c in world.people:
        if not c.book:
            continue
        fn = c.book_name or c.name or c.org
        key = fn + "|" + (c.org if not c.given else "")
        e = entries.setdefault(key, {"fn": fn, "given": c.given, "family": c.family, "org": c.org,
                                     "title": c.title, "emails": [], "where": c.book, "person": bool(c.given)})
        e["emails"].append(c.address)
    # Stefan Kaiser also keeps his private address in the book
    for e in entries.values():
        if e["fn"] == "Stefan Kaiser":
            e["emails"].append("stefan.kaiser@gmx.de")
    return list(entries.values())


def write_vcards(entries: list[dict], rng: random.Random) -> str:
    out: list[str] = []
    for e in entries:
        lines = ["BEGIN:VCARD", "VERSION:4.0", f"UID:urn:uuid:{Writer(rng).uuid()}"]
        if not e["person"]:
            lines.append("KIND:org")
        lines.append(f"FN:{vcard_escape(e['fn'])}")
        prefix = e["title"]
        lines.append(f"N:{vcard_escape(e['family'])};{vcard_escape(e['given'])};;{vcard_escape(prefix)};")
        if e["fn"] == "Mama":
            lines.append("NICKNAME:Mama")
        if e["org"]:
            lines.append(f"ORG:{vcard_escape(e['org'])}")
        for i, addr in enumerate(e["emails"]):
            kind = "work" if e["org"] else "home"
            pref = ";PREF=1" if i == 0 and len(e["emails"]) > 1 else ""
            lines.append(f"EMAIL;TYPE={kind}{pref}:{addr}")
        lines.append(f"TEL;VALUE=uri;TYPE=cell:tel:+49-1{rng.randint(50, 79)}-{rng.randint(1000000, 9999999)}")
        lines.append("END:VCARD")
        out.extend(vcard_fold(x) for x in lines)
    return "\r\n".join(out) + "\r\n"


GOOGLE_HEADER = ["First Name", "Middle Name", "Last Name", "Phonetic First Name", "Phonetic Middle Name",
                 "Phonetic Last Name", "Name Prefix", "Name Suffix", "Nickname", "File As", "Organization Name",
                 "Organization Title", "Organization Department", "Birthday", "Notes", "Photo", "Labels",
                 "E-mail 1 - Label", "E-mail 1 - Value", "E-mail 2 - Label", "E-mail 2 - Value", "Phone 1 - Label",
                 "Phone 1 - Value"]
OUTLOOK_HEADER = ["First Name", "Middle Name", "Last Name", "Title", "Suffix", "Nickname", "Given Yomi", "Surname Yomi",
                  "E-mail Address", "E-mail Type", "E-mail Display Name", "E-mail 2 Address", "E-mail 2 Type",
                  "E-mail 2 Display Name", "Home Phone", "Business Phone", "Mobile Phone", "Job Title", "Department",
                  "Company", "Business Street", "Business City", "Business Postal Code", "Business Country/Region",
                  "Notes", "Categories"]


def write_google(entries: list[dict], rng: random.Random) -> str:
    buf = io.StringIO()
    wr = csv.writer(buf, lineterminator="\r\n")
    wr.writerow(GOOGLE_HEADER)
    for e in entries:
        if e["where"] != "phone" and rng.random() < 0.8:
            continue  # the phone holds the private contacts and a few business ones
        row = dict.fromkeys(GOOGLE_HEADER, "")
        if e["person"]:
            row.update({"First Name": e["given"], "Last Name": e["family"], "Name Prefix": e["title"]})
            if e["fn"] == "Mama":
                row.update({"First Name": "Mama", "Last Name": "", "Nickname": "Mama", "File As": "Mama",
                            "Notes": "Ingrid Weber"})
        row["Organization Name"] = e["org"]
        row["Labels"] = "* myContacts" + (" ::: Familie" if e["family"] == "Weber" else "")
        for i, addr in enumerate(e["emails"][:2], 1):
            row[f"E-mail {i} - Label"] = "* Work" if e["org"] else "* Home"
            row[f"E-mail {i} - Value"] = addr
        row["Phone 1 - Label"] = "Mobile"
        row["Phone 1 - Value"] = f"+49 1{rng.randint(50, 79)} {rng.randint(1000000, 9999999)}"
        wr.writerow([row[h] for h in GOOGLE_HEADER])
    return buf.getvalue()


def write_outlook(entries: list[dict], rng: random.Random) -> bytes:
    """Outlook's CSV export: the office's contacts, written in Windows-1252 as Outlook for Windows does."""
    buf = io.StringIO()
    wr = csv.writer(buf, lineterminator="\r\n", quoting=csv.QUOTE_ALL)
    wr.writerow(OUTLOOK_HEADER)
    for e in entries:
        if e["where"] != "office":
            continue
        try:
            (e["fn"] + e["org"]).encode("cp1252")
        except UnicodeEncodeError:
            continue  # Outlook would write '?' for it; the vCard keeps it
        row = dict.fromkeys(OUTLOOK_HEADER, "")
        row.update({"First Name": e["given"], "Last Name": e["family"], "Title": e["title"], "Company": e["org"],
                    "Business City": rng.choice(["München", "Freising", "Erding", "Landshut"]),
                    "Business Country/Region": "Deutschland", "Categories": "Geschäftlich"})
        for i, addr in enumerate(e["emails"][:2]):
            p = "E-mail" if i == 0 else "E-mail 2"
            row[f"{p} Address"] = addr
            row[f"{p} Type"] = "SMTP"
            row[f"{p} Display Name"] = f"{e['fn']} ({addr})"
        row["Business Phone"] = f"+49 89 {rng.randint(100000, 9999999)}"
        wr.writerow([row[h] for h in OUTLOOK_HEADER])
    return buf.getvalue().encode("cp1252", errors="replace")


# --- the whole set ---------------------------------------------------------------------------------------

def generate(out: Path, seed: int = 13, benign: int = 2400, malicious: int = 480) -> dict:
    rng = random.Random(seed)
    world = World(rng)
    box = Mailbox(world, rng)
    attacker = Attacker(box, rng)
    if out.exists():
        shutil.rmtree(out)
    for d in ("sent", "history", "new"):
        (out / d).mkdir(parents=True)

    # history and Sent folder, in time order so that replies refer to earlier sent mail
    events: list[tuple[datetime, str, Correspondent]] = []
    months = (HISTORY_END - HISTORY_START).days / 30.4
    for c in world.people:
        if c.rate <= 0:
            continue
        n = max(0, round(rng.gauss(c.rate * months, (c.rate * months) ** 0.5)))
        if c.role == "customer" and rng.random() < 0.1:
            n = max(n, 1)
        for _ in range(n):
            events.append((box.when_in(HISTORY_START, HISTORY_END), "in", c))
        if c.write_share > 0:
            for _ in range(round(n * c.write_share * rng.uniform(0.5, 1.2)) + (1 if rng.random() < 0.3 else 0)):
                events.append((box.when_in(HISTORY_START, HISTORY_END), "out", c))
    for c in world.list_posting_contacts:
        for _ in range(rng.randint(2, 5)):
            events.append((box.when_in(HISTORY_START, HISTORY_END), "listpost", c))
    # business contacts who share documents through Google Drive or send contracts through DocuSign
    sharers = [c for c in world.people if c.role in ("business", "supplier", "accountant") and c.given][::4]
    for c in sharers:
        for _ in range(rng.randint(0, 2)):
            events.append((box.when_in(HISTORY_START, HISTORY_END), "share", c))
    for c in world.people:
        if c.role in ("customer", "family", "supplier") and rng.random() < 0.1:
            c.tags.add("fwd_old")
    # the history holds what every inbox holds: some forgeries too (judged a threat, they teach nothing; a
    # missed one teaches the memory a wrong path, as it would in a real mailbox)
    frequent = [c for c in world.people if c.rate >= 1.5 and c.role in ("supplier", "business", "customer", "family")
                and PLATFORMS.get(c.platform) and PLATFORMS[c.platform].dkim and not c.move]
    for kind, n in (("attack:wrong_path.klez", 12), ("attack:wrong_path.hop_and_dkim", 8),
                    ("attack:impersonation.exact", 10), ("attack:lookalike.transposition", 5)):
        for _ in range(n):
            events.append((box.when_in(HISTORY_START + timedelta(days=30), HISTORY_END), kind, rng.choice(frequent)))
    events.sort(key=lambda e: (e[0], e[1], e[2].address))
    nh = ns = 0
    lists = {c.platform: c for c in world.people if c.role == "list"}
    history_manifest = []
    for when, kind, c in events:
        if kind == "out":
            ns += 1
            (out / "sent" / f"sent-{ns:05d}.eml").write_bytes(box.sent(c, when))
            continue
        if kind.startswith("attack:"):
            family_, variant = kind.split(":", 1)[1].split(".", 1)
            forged = (attacker.impersonation(c, variant, when) if family_ == "impersonation" else
                      attacker.wrong_path(c, variant, when) if family_ == "wrong_path" else
                      attacker.lookalike(c, variant, when))
            if forged is None:
                continue
            nh += 1
            (out / "history" / f"hist-{nh:05d}.eml").write_bytes(forged[0])
            history_manifest.append({"file": f"history/hist-{nh:05d}.eml", "label": "malicious",
                                     "kind": kind.split(":", 1)[1], "contact": c.address, "notes": forged[1]})
            continue
        nh += 1
        if kind == "listpost":
            raw = box.list_post(lists["list2"], when, poster=c)
        elif kind == "share":
            raw = box.share_notice(c, when, "drive" if c.platform == "google" or rng.random() < 0.5 else "docusign")
        else:
            # some people still write to Anna's old T-Online address, which forwards here
            fwd = c.role in ("customer", "family", "supplier") and "fwd_old" in c.tags and rng.random() < 0.3
            raw = box.genuine(c, when, forwarded=fwd)
            c.history_count += 1
        (out / "history" / f"hist-{nh:05d}.eml").write_bytes(raw)

    # new mail
    new: list[tuple[bytes, dict]] = []
    known = [c for c in world.people if c.rate > 0 and (c.history_count > 0 or c.sent_to > 0)]
    weights = [c.rate for c in known]

    def label(kind: str, c: Correspondent | None, notes: str, malicious_: bool, known_: bool = True) -> dict:
        return {"label": "malicious" if malicious_ else "benign", "labels": ["sender"] if malicious_ else [],
                "kind": kind, "trick": kind, "known": known_, "contact": c.address if c else "", "notes": notes}

    special = {t: [c for c in world.people if t in c.tags] for t in
               ("shared_first_name", "work_and_phone", "moved", "moving_now", "common_word_name")}
    plan = ([("normal.shared_first_name", 40), ("normal.work_and_phone", 40), ("normal.moved_provider", 40),
             ("normal.moved_provider_now", 25), ("normal.common_word_name", 40), ("normal.new_mailer_oneoff", 40),
             ("normal.list_post", 120), ("normal.list_post_known_contact", 25), ("normal.internal", 40),
             ("normal.new_colleague", 20), ("normal.first_contact", 40), ("normal.forwarded_old_address", 40),
             ("normal.auto_reply", 40), ("normal.share_notification", 40), ("normal.dkim_temperror", 12),
             ("normal.dkim_fail_same_path", 8)])
    rest = benign - sum(n for _, n in plan)
    NEW_START = HISTORY_END + timedelta(days=1)
    for kind, n in plan + [("normal.known", rest)]:
        for _ in range(n):
            when = box.when_in(NEW_START, NEW_END)
            if kind == "normal.known":
                c = rng.choices(known, weights=weights)[0]
                if c.role in ("list",):
                    new.append((box.list_post(c, when), label("normal.list_post", c, "list post by a member", False)))
                    continue
                new.append((box.genuine(c, when), label(kind, c, f"{c.role} as usual", False)))
            elif kind in ("normal.shared_first_name", "normal.work_and_phone", "normal.common_word_name"):
                c = rng.choice(special[kind.split(".", 1)[1]])
                new.append((box.genuine(c, when), label(kind, c, f"{c.name or c.book_name} as usual", False)))
            elif kind == "normal.moved_provider":
                c = rng.choice(special["moved"])
                new.append((box.genuine(c, when), label(kind, c, "moved from Strato to Microsoft 365 in June; "
                                                                 "signed by its own domain since", False)))
            elif kind == "normal.moved_provider_now":
                c = special["moving_now"][0]
                when = box.when_in(MOVE_NOW_DATE, NEW_END)
                new.append((box.genuine(c, when), label(kind, c, "moved from IONOS to Google Workspace now; "
                                                                 "signed by its own domain (d=dachbau-brandl.de)",
                                                        False)))
            elif kind == "normal.new_mailer_oneoff":
                c = rng.choice([x for x in known if x.role in ("supplier", "business", "customer") and x.name
                                and x.platform in ("google", "m365", "ionos", "strato", "gmx", "webde", "gmail")
                                and not x.move])
                alt = {"gmail": "android-gmail", "google": "iphone", "m365": "iphone", "ionos": "iphone",
                       "strato": "iphone", "gmx": "iphone", "webde": "k9"}[c.platform]
                new.append((box.genuine(c, when, mailer_key=alt),
                            label(kind, c, f"once from the phone ({MAILERS[alt][1] or alt}), same provider, signed",
                                  False)))
            elif kind == "normal.forwarded_old_address":
                c = rng.choice([x for x in known if x.role in ("customer", "family", "supplier", "business")
                                and x.history_count >= 2])
                habit = "fwd_old" in c.tags
                new.append((box.genuine(c, when, forwarded=True),
                            label(kind, c, "sent to Anna's old T-Online address and forwarded (SRS); the sender's "
                                           "signature survives" + (" (also in the history)" if habit else
                                                                   " (first time by this way)"), False)))
            elif kind in ("normal.dkim_temperror", "normal.dkim_fail_same_path"):
                c = rng.choice([x for x in known if x.history_count >= 3 and not x.move and x.role != "list"
                                and PLATFORMS.get(x.platform) and PLATFORMS[x.platform].dkim])
                trouble = "temperror" if kind.endswith("temperror") else "fail"
                new.append((box.genuine(c, when, dkim_trouble=trouble),
                            label(kind, c, f"usual path, but dkim={trouble} this once "
                                           + ("(the provider's DNS lookup failed)" if trouble == "temperror" else
                                              "(a disclaimer gateway on the sender's side changed the body)"),
                                  False)))
            elif kind == "normal.share_notification":
                c = rng.choice(sharers)
                service = "drive" if c.platform == "google" or rng.random() < 0.5 else "docusign"
                new.append((box.share_notice(c, when, service),
                            label(kind, c, f"{'Google Drive' if service == 'drive' else 'DocuSign'} notice naming "
                                           "the contact, sent from the service's address", False)))
            elif kind == "normal.auto_reply":
                c = rng.choice([x for x in known if x.sent_to > 0 and x.role in ("supplier", "business", "accountant",
                                                                                 "customer")])
                new.append((box.genuine(c, when, auto_reply=True),
                            label(kind, c, "out-of-office answer to a message Anna sent", False)))
            elif kind == "normal.list_post":
                lst = rng.choice([x for x in world.people if x.role == "list"])
                new.append((box.list_post(lst, when), label(kind, lst, "list post by a member", False)))
            elif kind == "normal.list_post_known_contact":
                c = rng.choice(world.list_posting_contacts)
                new.append((box.list_post(lists["list2"], when, poster=c),
                            label(kind, c, "a contact's post through an old mailing list that keeps From and breaks "
                                           "the signature (List-Id present)", False)))
            elif kind == "normal.internal":
                c = next(x for x in world.people if x.role == "colleague")
                new.append((box.genuine(c, when), label(kind, c, "colleague, internal mail", False)))
            elif kind == "normal.new_colleague":
                firm = rng.choice([x for x in known if x.role in ("supplier", "business") and x.given and not x.move])
                g, f = world.person()
                c = Correspondent(f"{g} {f}", f"{translit(g).lower()}.{translit(f).lower()}@{firm.domain}",
                                  firm.platform, firm.mailers, firm.role, 0, given=g, family=f, org=firm.org)
                new.append((box.genuine(c, when), label(kind, c, f"new person at {firm.domain}, signed like the firm",
                                                        False, known_=False)))
            elif kind == "normal.first_contact":
                g, f = world.person()
                dom = rng.choice(["gmail.com", "gmx.de", "web.de", "t-online.de", "outlook.de"])
                c = Correspondent(f"{g} {f}", world.free_address(g, f, dom), FREEMAIL[dom],
                                  {"gmail": [("gmail-web", 1.0)], "gmx": [("gmx-web", 1.0)],
                                   "webde": [("webde-web", 1.0)], "tonline": [("tonline-web", 1.0)],
                                   "outlookcom": [("outlookcom-web", 1.0)]}[FREEMAIL[dom]], "customer", 0,
                                  given=g, family=f)
                new.append((box.genuine(c, when), label(kind, c, "a new customer's first enquiry", False,
                                                        known_=False)))

    # attacks
    # Impersonations only of people Anna knows: in her address book, written to, or heard from more than once
    named = [c for c in world.named() if c.book or c.sent_to > 0 or c.history_count >= 2]
    persons = [c for c in named if c.given]
    firms = [c for c in named if not c.given and c.org]
    accented = [c for c in named if drop_accents(c.book_name or c.name) != (c.book_name or c.name)]
    signed = [c for c in known if c.history_count >= 3 and c.role in ("supplier", "business", "customer", "accountant",
                                                                        "family")
              and PLATFORMS.get(c.platform_at(NEW_END)[0]) and PLATFORMS[c.platform_at(NEW_END)[0]].dkim
              and "posts_to_list" not in c.tags and not c.move]
    unsigned = [c for c in known if c.history_count >= 3 and c.platform in ("tonline", "exchange_onprem")
                and c.role != "list"]
    # firms with their own domains: known from mail, and some only from the address book
    with_domains = [c for c in known if c.domain not in FREEMAIL and c.role in ("supplier", "business", "accountant")]
    with_domains += [c for c in world.people if "book_only" in c.tags and c.domain not in FREEMAIL]
    own_targets = [next(x for x in world.people if x.role == "colleague"),
                   Correspondent(OWNER_NAME, OWNER, "internal", [("thunderbird", 1.0)], "colleague", 0,
                                 given="Anna", family="Weber")]
    share = malicious / 480
    attack_plan = [("impersonation.exact", persons + firms, 70), ("impersonation.no_accents", accented, 40),
                   ("impersonation.order_swapped", persons, 35), ("impersonation.title", persons, 35),
                   ("impersonation.company_suffix", firms, 30),
                   ("wrong_path.klez", signed, 45), ("wrong_path.hop_and_dkim", signed, 35),
                   ("wrong_path.dkim_fail_botnet", signed, 30), ("wrong_path.foreign_dkim", signed, 30),
                   ("wrong_path.unsigned_contact", unsigned, 20),
                   ("lookalike.transposition", with_domains + own_targets, 20),
                   ("lookalike.homoglyph", with_domains + own_targets, 20), ("lookalike.digit", with_domains, 20),
                   ("lookalike.omission", with_domains, 15), ("lookalike.hyphen", with_domains, 15),
                   ("lookalike.tld", with_domains, 15)]
    for kind, pool, n in attack_plan:
        n = round(n * share)
        family_, variant = kind.split(".", 1)
        made = tries = 0
        while made < n and tries < n * 50 and pool:
            tries += 1
            c = rng.choice(pool)
            when = box.when_in(NEW_START, NEW_END)
            got: tuple | None
            if family_ == "impersonation":
                got = attacker.impersonation(c, variant, when)
            elif family_ == "wrong_path":
                got = attacker.wrong_path(c, variant, when)
            else:
                got = attacker.lookalike(c, variant, when)
            if got is None:
                continue
            raw, notes = got[:2]
            extra: dict[str, object] = {"book_only": True} if "book_only" in c.tags else {}
            if len(got) > 2:
                extra["via"] = got[2]  # the impersonator's address: free mail or some other domain
            new.append((raw, {**label(kind, c, notes, True), **extra}))
            made += 1

    with (out / "history-manifest.jsonl").open("w", encoding="utf-8") as m:
        for row in history_manifest:  # only the forgeries: the rest of the history is ordinary mail
            m.write(json.dumps({**row, "source": "synthetic", "split": "contacts-history"}, ensure_ascii=False) + "\n")
    rng.shuffle(new)
    with (out / "manifest.jsonl").open("w", encoding="utf-8") as m:
        for i, (raw, meta) in enumerate(new, 1):
            name = f"new/msg-{i:05d}.eml"
            (out / name).write_bytes(raw)
            m.write(json.dumps({"file": name, **meta, "source": "synthetic", "split": "contacts"},
                               ensure_ascii=False) + "\n")

    entries = book_entries(world)
    (out / "contacts.vcf").write_text(write_vcards(entries, rng), encoding="utf-8", newline="")
    (out / "google-contacts.csv").write_text(write_google(entries, rng), encoding="utf-8", newline="")
    (out / "outlook-contacts.csv").write_bytes(write_outlook(entries, rng))
    info = {"owner": {"name": OWNER_NAME, "email": OWNER}, "own_domains": [OWN_DOMAIN],
            "trusted_authserv_id": AUTHSERV, "sent_folder": "sent/", "history_folder": "history/",
            "new_folder": "new/", "history_forgeries": "history-manifest.jsonl",
            "contacts": ["contacts.vcf", "google-contacts.csv", "outlook-contacts.csv"],
            "seed": seed, "counts": {"correspondents": len([c for c in world.people if c.role != "poster"]),
                                     "address_book_entries": len(entries), "sent": ns, "history": nh,
                                     "new": len(new),
                                     "new_malicious": sum(1 for _, m in new if m["label"] == "malicious"),
                                     "new_benign": sum(1 for _, m in new if m["label"] == "benign")}}
    (out / "mailbox.json").write_text(json.dumps(info, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return info


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", nargs="?", default="/tmp/kg-history")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--benign", type=int, default=2400, help="normal new messages (default 2400)")
    parser.add_argument("--malicious", type=int, default=480, help="about this many attacks (default 480)")
    args = parser.parse_args()
    info = generate(Path(args.out), args.seed, args.benign, args.malicious)
    print(json.dumps(info["counts"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
