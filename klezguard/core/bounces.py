"""Recognises mail that reacts to a message the user (apparently) sent, and what that message was.

Bounces (RFC 3464 reports and the common plain-text formats of qmail, Exim, Postfix, Sendmail,
Exchange, Lotus Notes, Gmail, Yahoo, GroupWise), virus warnings from other servers' scanners, abuse
reports (RFC 5965), read receipts (RFC 8098), out-of-office replies and people's "stop sending me
viruses" complaints all point back at an original message. When worms like Klez forge the user's
address, all of these arrive for mail the user never sent: that is backscatter.

`analyse(msg)` says which kind of notice a message is and extracts what it knows of the original:
its Message-ID, From, To, Subject and Date, the failed recipients, the status and diagnostic, the
reporting server and, for virus warnings, the virus name. It knows nothing about the user; whether
the original was really sent is judged by the rules against the user's sent mail.

Only the first `fetchplan.TEXT_BYTES` of each part are read, as in a partial view, so the answer is
the same for a whole message and for what the IMAP scanner fetched.
"""

import email.parser
import email.policy
import functools
import re
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field

from klezguard.core.fetchplan import TEXT_BYTES
from klezguard.core.headers import Address, decode_bytes, decode_words, message_ids, parse_addresses, to_text, unfold
from klezguard.core.message import Message, Part

BOUNCE = "bounce"
VIRUS = "virus"
COMPLAINT = "complaint"
ABUSE_REPORT = "abuse_report"
AUTOREPLY = "autoreply"
RECEIPT = "receipt"
KINDS = (BOUNCE, VIRUS, COMPLAINT, ABUSE_REPORT, AUTOREPLY, RECEIPT)

MAX_ITEMS = 20  # recipients, ids, file names: enough for evidence, bounded for absurd notices

_DSN_TYPES = frozenset({"message/delivery-status", "message/global-delivery-status"})
_MDN_TYPES = frozenset({"message/disposition-notification", "message/global-disposition-notification"})
_ARF_TYPES = frozenset({"message/feedback-report"})
_ORIGINAL_TYPES = frozenset(
    {"message/rfc822", "text/rfc822-headers", "message/global", "message/global-headers", "message/rfc822-headers"}
)


@dataclass
class Original:
    """What a notice tells about the message it is about."""

    message_ids: list[str] = field(default_factory=list)  # lower case, without angle brackets
    from_addr: Address | None = None
    to: list[str] = field(default_factory=list)
    subject: str = ""
    date: str = ""
    files: list[str] = field(default_factory=list)  # attachment names in a returned message/rfc822 copy
    signers: list[str] = field(default_factory=list)  # DKIM d= domains and authenticated senders
    relays: list[str] = field(default_factory=list)  # the names hosts gave (HELO) in the copy's Received
    source: str = ""  # where the headers came from: "rfc822", "text", "fields"


@dataclass
class Notice:
    """A message recognised as a reaction to some original message."""

    kind: str  # one of KINDS
    fmt: str  # "dsn", "qmail", "exim", "postfix", "sendmail", "exchange", "lotus", "gmail", ...
    original: Original
    references: list[str] = field(default_factory=list)  # the notice's own In-Reply-To / References
    failed_recipients: list[str] = field(default_factory=list)
    action: str = ""  # DSN action: failed, delayed, delivered, relayed, expanded
    status: str = ""
    diagnostic: str = ""
    reporting_mta: str = ""
    virus: str = ""
    direction: str = ""  # virus warnings: "from_you" (about mail you sent), "to_you", "" (unclear)
    reporter: str = ""  # address of whoever sent the notice
    hacked: bool = False  # complaints: the writer thinks your account or computer was taken over
    challenge: bool = False  # a challenge-response filter asks the sender to confirm the mail to deliver it

    @property
    def candidate_ids(self) -> list[str]:
        """Every Message-ID that may name the original (the returned copy's first)."""
        out = list(self.original.message_ids)
        for i in self.references:
            if i not in out:
                out.append(i)
        return out

    @property
    def original_recipients(self) -> list[str]:
        out: list[str] = []
        for a in [*self.original.to, *self.failed_recipients]:
            a = a.lower()
            if "@" in a and a not in out:
                out.append(a)
        return out[:MAX_ITEMS]

    @property
    def is_delay(self) -> bool:
        return self.kind == BOUNCE and (self.action == "delayed" or self.status.startswith("4."))


# --- signals ----------------------------------------------------------------------------------

_MTA_LOCAL = re.compile(
    r"^(?:mailer[-_.]?daemon|mail[-_.]?daemon|postmaster|mdaemon|mail[-_.]?delivery(?:[-_.]?system)?|"
    r"maildelivery|mail[-_.]?system|mail[-_.]?admin(?:istrator)?|bounces?|mailer)$",
    re.I,
)
_MTA_NAME = re.compile(
    r"mailer[- ]?daemon|mail delivery|delivery (?:subsystem|system|service)|postmaster|mail administrator|"
    r"mail system|microsoft outlook|microsoft exchange|lotus notes|domino|groupwise",
)
_AV_SENDER = re.compile(
    r"amavis|virus|anti-?vir|mailscanner|smsmse|scanmail|interscan|mcafee|symantec|trend ?micro|sophos|"
    r"clam|kaspersky|eset|quarantine|mailsweeper|mimesweeper|barracuda|mail ?security|e-?mail ?security|"
    r"content ?filter|mailmarshal|f-secure|panda|bitdefender|proofpoint|ironport",
)

_BOUNCE_SUBJECT = re.compile(
    r"undeliver(?:able|ed)|returned mail|mail delivery fail|delivery (?:status notification|failure|failed|"
    r"has failed|notification|problem)|failure notice|non[- ]?deliver|could not be delivered|not delivered|"
    r"delayed mail|could not send message|mail system error|returned to sender|message not delivered|"
    r"unzustellbar|nicht zustellbar|non remis|non recapitabile|onbestelbaar|no entregado|"
    r"delivery report|mail delivery (?:failed|problem)|message delivery (?:failure|delay)|"
    r"niedostarczon|nie dostarczono|zwrot:|n[ãa]o entregue|n[ãa]o (?:foi )?entregue|mensagem devolvida|"
    r"mancato recapito|messaggio non recapitato|impossibile recapitare|nedoru[čc]iteln|olevererbar|"
    r"ei voitu toimittaa|kan ikke leveres",
)
# "Undeliverable: <original subject>" (Exchange and the servers that copy it).
_SUBJECT_PREFIX = re.compile(
    r"^\s*(?:undeliverable|undelivered|unzustellbar|non remis|non recapitabile|onbestelbaar|no entregado|"
    r"nie dostarczono|nedoručitelné|kézbesíthetetlen|kan ikke leveres|olevererbart|ei voitu toimittaa)\s*:\s*",
    re.I,
)
_POSTMASTER_COPY = re.compile(r"^\s*postmaster (?:copy|warning|notify)\b", re.I)
_FORWARD_PREFIX = re.compile(r"^\s*(?:fwd?|wg|tr|rv|doorst|enc)\s*:", re.I)

# Body fingerprints of the common bounce formats, most specific first.
_FORMATS: list[tuple[str, re.Pattern[str]]] = [
    ("qmail", re.compile(r"this is the qmail-send program|qmail-send program at")),
    (
        "exim",
        re.compile(
            r"this message was created automatically by mail delivery software|"
            r"a message that you sent could not be delivered to one or more"
        ),
    ),
    (
        "postfix",
        re.compile(r"this is the mail system at host|i'm sorry to have to inform you that your message"),
    ),
    (
        "sendmail",
        re.compile(
            r"-+ ?the following addresses had (?:permanent fatal errors|delivery (?:problems|notifications))|"
            r"-+ ?transcript of session follows|the original message was received at"
        ),
    ),
    (
        "exchange",
        re.compile(
            r"delivery has failed to these recipients or groups|your message did not reach some or all|"
            r"did not reach the following recipient|your message couldn't be delivered|"
            r"remote server returned '|diagnostic information for administrators"
        ),
    ),
    (
        "lotus",
        re.compile(r"was not delivered to:|delivery failure report|lotus notes|domino"),
    ),
    (
        "gmail",
        re.compile(
            r"delivery to the following recipients? failed|your message wasn't delivered to|"
            r"\*\* address not found \*\*|\*\* message (?:not delivered|blocked) \*\*|delivery incomplete"
        ),
    ),
    (
        "yahoo",
        re.compile(
            r"sorry, we were unable to deliver your message|this is the mail delivery agent at|"
            r"i'm afraid i wasn't able to deliver"
        ),
    ),
    (
        "groupwise",
        re.compile(r"the message that you sent was undeliverable|groupwise"),
    ),
]
_GENERIC_BOUNCE_BODY = re.compile(
    r"could not be delivered|undeliverable|delivery (?:has )?failed|permanent (?:error|failure)|"
    r"returned to (?:you|sender)|original message follows|user unknown|mailbox (?:is )?(?:full|unavailable)|"
    r"no such (?:user|mailbox)|address rejected|message could not be sent|could not deliver|"
    # German, French, Italian, Spanish, Dutch
    r"nicht zugestellt werden|unzustellbar|konnte nicht zugestellt|n'a pas pu (?:être )?(?:remis|distribué|livré)|"
    r"non (?:è stato possibile recapitare|recapitabile|è stato recapitato)|no (?:se )?(?:ha )?(?:pudo|podido) "
    r"(?:ser )?entregar|no se ha podido entregar|kon niet (?:worden )?(?:bezorgd|afgeleverd)|onbestelbaar|"
    # Polish, Portuguese, Czech, Swedish, Danish/Norwegian, Finnish
    r"nie (?:uda[łl]o si[ęe]|mo[żz]na by[łl]o) dostarczy[ćc]|niedostarczon|adres nie istnieje|"
    r"n[ãa]o (?:foi poss[íi]vel|pôde ser|p[ôo]de) (?:ser )?entreg|n[ãa]o foi entregue|"
    r"nelze doru[čc]it|nemohla b[ýy]t doru[čc]ena|kunde inte levereras|kunne ikke leveres|ei voitu toimittaa",
)

# Scanner notices and complaints come in many languages; these cover English, German, French, Italian,
# Spanish and Dutch ("virus" is the same word in all of them).
_VIRUS_SUBJECT = re.compile(
    r"\bvirus|\bviren\b|\bmalware|\binfected|banned (?:file|attachment|filename)|blocked (?:attachment|file)|"
    r"quarant[äa]?[ie]n|cuarentena|dangerous (?:attachment|content)|\bworm\b|\btrojan|infiziert|infect[ée]|"
    r"infett[oa]|infectad[oa]|ge[ïi]nfecteerd|schadsoftware|logiciel malveillant",
)
_VIRUS_BODY = re.compile(
    r"virus(?:es)? (?:was |were |has been |have been |is )?(?:found|detected|identified)|"
    r"(?:found|detected|contains?|containing|contained|infected (?:with|by)) (?:a |the |an )?"
    r"(?:virus|worm|trojan|malware|infected)|virus detector has (?:just )?been triggered|"
    r"^[ \t]*(?:virus|viren|malware)(?:es)?(?:[ \t]+(?:name|found|detected|gefunden|trouvé|trovato|encontrado|"
    r"gevonden))?[ \t]*:|"
    r"banned (?:file|attachment|filename)|blocked (?:attachment|file)|prohibited (?:content|attachment|file)|"
    r"infected (?:attachment|file|message|e-?mail)|has been quarantined|was quarantined|"
    r"(?:virus|malware) alert|"
    # de / fr / it / es / nl
    r"(?:ein(?:en)? |einige |mehrere )?(?:virus|viren|schadsoftware) (?:wurde |wurden |ist |sind )?"
    r"(?:gefunden|entdeckt|erkannt|festgestellt)|wurde(?:n)? (?:ein |einige )?(?:virus|viren) (?:gefunden|entdeckt|"
    r"erkannt)|(?:mit (?:einem )?(?:virus|viren)|virus-?) ?(?:infiziert|verseucht)|in quarantäne|"
    r"virus (?:a été |ont été )?(?:détecté|trouvé|découvert)|(?:un|des) virus (?:a|ont) été (?:détecté|trouvé)|"
    r"infecté(?:e|s)? par|mis(?:e)? en quarantaine|"
    r"virus (?:è stato |sono stati )?(?:trovato|rilevato|individuato)|(?:è stato|sono stati) (?:trovato|rilevato) "
    r"(?:un |dei )?virus|infett[oa] da|messo in quarantena|"
    r"virus (?:ha sido |fue )?(?:encontrado|detectado)|(?:se ha|se han) (?:detectado|encontrado) (?:un |unos )?virus|"
    r"infectad[oa] (?:con|por)|puesto en cuarentena|"
    r"virus (?:is |werd |zijn )?(?:gevonden|gedetecteerd|aangetroffen)|(?:is|werd) (?:een )?virus "
    r"(?:gevonden|gedetecteerd|aangetroffen)|besmet met|in quarantaine",
    re.M,
)
_VIRUS_WORDS = (
    "virus", "viren", "malware", "infect", "infiz", "infett", "banned", "blocked", "prohibited", "quarant",
    "cuarentena", "worm", "trojan", "besmet", "schadsoftware", "verseucht",
)
_FROM_YOU = re.compile(
    r"(?:mail|message|e-?mail)s? (?:from you|you sent|sent by you|sent from your)|\byou (?:have )?sent\b|"
    r"\bfrom you\b|your (?:e-?mail|message|mail)\b|sent (?:from|by|using) your (?:address|account|e-?mail|computer)|"
    r"\bihre[rnms]? (?:nachricht|e-?mail|mail)|von ihnen (?:gesendet|versandt|verschickt|geschickt)|"
    r"\bsie (?:haben|hatten)\b[^.\n]{0,40}(?:gesendet|versandt|verschickt|geschickt)|"
    r"\bvotre (?:message|courriel|e-?mail|mail)|vous avez envoy|envoy[ée]e? par vous|de votre part|"
    r"\b(?:suo|vostro|tuo) messaggio|\b(?:sua|vostra|tua) (?:e-?mail|mail|posta)|"
    r"da (?:lei|voi|te) inviat|"
    r"\b(?:su|tu) (?:mensaje|correo|e-?mail)|enviado por usted|usted (?:ha )?envi|"
    r"\b(?:uw|je|jouw) (?:bericht|e-?mail|mail)\b|door u (?:verzonden|verstuurd)|\bu (?:heeft|hebt)\b[^.\n]{0,30}"
    r"(?:verzonden|verstuurd|gestuurd)",
)
_TO_YOU = re.compile(
    r"(?:mail|message|e-?mail)s? (?:to you|addressed to you|sent to you|for you)|intended for you|"
    r"\bsent to you\b|\bto you \(from|"
    r"\ban sie (?:gerichtet|gesendet|adressiert)|(?:nachricht|e-?mail) an sie\b|für sie bestimmt|"
    r"(?:qui vous (?:était|est) (?:destiné|adressé)|envoy[ée]e? à vous|adressée? à vous)|"
    r"(?:a lei|a voi|a te) (?:indirizzat|inviat|destinat)|"
    r"(?:dirigid[oa]|enviad[oa]|destinad[oa]) a usted|"
    r"(?:aan u|aan jou) (?:gericht|verzonden|gestuurd)|voor u bestemd",
)

_NOUN_EN = (
    r"(?:computer|pc|machine|system|laptop|account|e-?mail(?: account| address)?|mail(?:box| account)?|address|"
    r"outlook|gmail|hotmail|server|website)"
)
_HACKED_EN = r"(?:infected|hacked|compromised|hijacked|been hacked)"
# Strong: the mail speaks of a virus or a hacked account. Only these count as a real complaint about
# forged mail; "stop sending me this" is what people also say about newsletters (see _COMPLAINT_WEAK).
_COMPLAINT_STRONG = re.compile(
    # English
    r"(?:stop|quit) (?:sending|e-?mailing|spamming|mailing)(?: me)? (?:a |an |these |those |your |all )?"
    r"(?:virus(?:es)?|worms?|trojans?|malware|infected)|"
    r"you (?:have |keep |keep on )?sen(?:t|ding) me (?:a |an |this |these |your )?(?:virus|viruses|worm|"
    r"malware|infected|trojan)|"
    r"(?:sending|send) me (?:viruses|a virus|virus|malware|infected)|"
    r"why (?:are|do|did) you (?:keep )?(?:sending|send)(?: me)? (?:a |an |these )?(?:virus|viruses|worms?|malware|"
    r"infected)|"
    r"your " + _NOUN_EN + r"(?:\s+[\w']+){0,4}?\s+" + _HACKED_EN + r"|"
    r"(?:you(?:'ve| have)?|you are|you've) (?:been |got |gotten )?hacked|"
    r"(?:hacked|hijacked|compromised) your " + _NOUN_EN + r"|"
    r"someone (?:is |has been |must be |may be )?(?:using|sending (?:mail |e-?mails? |messages )?(?:from|with|in)) "
    r"your (?:e-?mail|address|account|name)|"
    r"jemand (?:benutzt|verwendet|verschickt|versendet|sendet|schickt)\b[^.\n]{0,40}(?:ihre[rn]? (?:e-?mail-)?adresse|"
    r"ihrem namen)|quelqu'un (?:utilise|envoie)\b[^.\n]{0,40}(?:votre adresse|votre nom)|"
    r"qualcuno (?:sta usando|usa|invia|manda)\b[^.\n]{0,40}(?:(?:tuo|suo) indirizzo|(?:tuo|suo) nome)|"
    r"alguien (?:está usando|usa|envía|manda)\b[^.\n]{0,40}(?:(?:tu|su) (?:dirección|correo|cuenta|nombre))|"
    r"iemand (?:gebruikt|verstuurt|stuurt)\b[^.\n]{0,40}(?:(?:uw|je|jouw) (?:e-?mail)?adres|(?:uw|jouw) naam)|"
    r"your (?:computer|pc|machine|system|laptop|e-?mail|account) (?:has|had|might have|may have|must have|"
    r"probably has|seems to have) (?:a |got a |caught a )?(?:virus|worm|trojan)|"
    r"(?:received|got|caught) (?:a |an )?(?:virus|worm|trojan|infected (?:e-?mail|message|attachment|file)) "
    r"from (?:you|your)|"
    r"your (?:e-?mail|message|mail)(?: to me)? (?:had|has|contained|contains|carried|was carrying|"
    r"was infected|is infected)(?: a| an)?(?: virus| worm| trojan| malware| infected)|"
    r"(?:virus|malware|infected attachment) (?:from|in) your (?:e-?mail|message|mail)|"
    r"clean (?:up )?your (?:computer|pc|machine|system)|"
    r"my (?:anti-?virus|virus scanner|virus checker|virus program|security software) "
    r"(?:caught|found|detected|blocked|flagged|stopped)|"
    r"\b(?:norton|mcafee|avast|avg|kaspersky|bitdefender|eset|defender|sophos|anti-?virus|virus scanner)\b"
    r"[^.\n]{0,30}(?:flagged|caught|found|detected|blocked|quarantined|stopped)[^.\n]{0,20}"
    r"(?:virus|malware|trojan|infected|threat)|"
    r"(?:infected|malicious) (?:attachment|file|message|e-?mail)s? (?:received |sent |coming )?from your "
    r"(?:address|account|domain|e-?mail)|"
    r"(?:quarantin\w*|blocked|stopped|rejected|removed|deleted) (?:a |an |the |one )?(?:message|e-?mail|mail|"
    r"attachment)s? (?:sent |coming )?from your (?:address|account|domain|e-?mail)|"
    r"your (?:address|domain|e-?mail(?: address)?) (?:is|was|has been|may be|might be|is being) (?:being )?"
    r"(?:spoofed|forged|faked|misused|abused)|"
    # German
    r"\b(?:ihr|dein|ihre|deine)[nmrs]? (?:e-?mail|mail|konto|e-?mail-konto|mail-konto|postfach|account|rechner|"
    r"computer|pc|adresse|e-?mail-adresse|mailadresse)(?:\s+\S+){0,4}?\s+(?:gehackt|gekapert|infiziert|"
    r"kompromittiert|verseucht)|"
    r"(?:sie|du) (?:wurden|wurdest|sind|bist) (?:wohl |offenbar |anscheinend )?gehackt|"
    r"(?:einen|ein|viele|lauter) (?:virus|viren|trojaner)(?:\s+\S+){0,3}?\s+(?:geschickt|gesendet|verschickt)|"
    r"(?:virus|viren|trojaner) von (?:ihnen|dir|ihrer|deiner)|(?:schicken|senden) sie mir (?:viren|einen virus)|"
    r"mein (?:virenscanner|virenschutz|antivirus(?:programm)?) (?:hat|meldet|fand)|"
    # French
    r"\b(?:votre|ton|ta) (?:compte|messagerie|adresse(?: e-?mail| mail)?|e-?mail|courriel|mail|ordinateur|pc|"
    r"boîte (?:mail|aux lettres))(?:\s+\S+){0,4}?\s+(?:piraté|hacké|infecté|compromis)e?|"
    r"(?:vous avez|tu as) été (?:piraté|hacké)|vous êtes piraté|"
    r"m'(?:avez|as) envoyé (?:un|des) virus|(?:virus|logiciel malveillant) (?:de votre part|venant de vous|"
    r"provenant de votre)|mon antivirus (?:a |l'a )?(?:bloqué|détecté|trouvé)|"
    # Italian
    r"\b(?:il tuo|la tua|il suo|la sua|il vostro|la vostra) (?:account|computer|pc|indirizzo|e-?mail|mail|posta|"
    r"casella(?: di posta)?)(?:\s+\S+){0,4}?\s+(?:hackerat|violat|infett|compromess|piratat)[oa]|"
    r"(?:sei|è|siete) stat[oia] hackerat|mi (?:hai|ha|avete) (?:mandato|inviato|spedito) (?:un|dei) virus|"
    r"virus da (?:te|lei|voi|parte tua|parte sua)|il mio antivirus (?:ha )?(?:bloccato|rilevato|trovato)|"
    # Spanish
    r"\b(?:tu|su|vuestra|vuestro) (?:cuenta|correo|email|e-mail|ordenador|computadora|equipo|pc|dirección)"
    r"(?:\s+\S+){0,4}?\s+(?:hackead|jaquead|piratead|infectad|comprometid)[oa]|"
    r"(?:te|le|os) han (?:hackeado|jaqueado|pirateado)|me (?:has|ha|habéis|han) (?:enviado|mandado) "
    r"(?:un|unos) virus|virus (?:de|desde) (?:tu|su) (?:correo|cuenta|dirección)|"
    r"mi antivirus (?:ha )?(?:bloqueado|detectado|encontrado)|"
    # Dutch
    r"\b(?:uw|je|jouw) (?:e-?mail|mail|account|computer|pc|mailbox|adres|e-?mailadres|mailadres)"
    r"(?:\s+\S+){0,4}?\s+(?:gehackt|ge[ïi]nfecteerd|besmet|gecompromitteerd|gekaapt)|"
    r"(?:u bent|je bent|jij bent) gehackt|(?:een virus|virussen) (?:ge)?stuurd|"
    r"(?:heeft|hebt|heb je) (?:me|mij) (?:een virus|virussen)|virus van (?:u|jou|je)\b|"
    r"mijn virusscanner (?:heeft|vond|blokkeerde)|"
    # Polish
    r"przesta[ńn](?:cie|my)? (?:mi )?(?:wysy[łl]a[ćc]|przysy[łl]a[ćc])(?: mi)? (?:wirus|spam z wirus)|"
    r"(?:wys[łl]a[łl]|przys[łl]a[łl])(?:e[śs]|a[śs]|o[śs]|y[śs]cie|i[śs]cie|a|o)? (?:mi )?(?:wirus|zainfekowan)|"
    r"\b(?:twoje|twój|twoja|pana|pani|wasze|wasz|wasza) (?:konto|komputer|skrzynka|poczta|adres|e-?mail|"
    r"skrzynka pocztowa)(?:\s+\S+){0,4}?\s+(?:zhakowan|zainfekowan|przej[ęe]t|w[łl]aman)|"
    r"(?:zosta[łl](?:e[śs]|a[śs])?|zostali[śs]cie) (?:pan |pani )?(?:zhakowan|shakowan)|"
    r"(?:m[óo]j|nasz) (?:antywirus|program antywirusowy|skaner antywirusowy|system antywirusowy)\w* "
    r"(?:wykry[łl]|zablokowa[łl]|znalaz[łl])|kto[śs] si[ęe] podszywa|podszywa si[ęe] pod (?:pa[ńn]stwa|twój|"
    r"pana|pani|wasz)|"
    r"kto[śs] (?:u[żz]ywa|wysy[łl]a|podszywa si[ęe])\b[^.\n]{0,40}(?:twojego|twoim|pana|pani) (?:adres|imieni|"
    r"nazwisk|kont)|wirus(?:a|y)? (?:od ciebie|od pana|od pani|z twojego|z pana|z pani)|"
    # Portuguese
    r"(?:pare|parem|para) de (?:me )?(?:enviar|mandar) (?:v[íi]rus|spam com v[íi]rus)|"
    r"(?:me |m[ei] )?(?:enviou|mandou|enviaste|mandaste|enviaram|mandaram)(?: me|-me)? (?:um |uns )?v[íi]rus|"
    r"\b(?:sua|seu|tua|teu|vossa|vosso) (?:conta|computador|pc|e-?mail|correio|endere[çc]o|caixa de correio|"
    r"caixa postal)(?:\s+\S+){0,4}?\s+(?:hackead|invadid|infectad|comprometid|piratead)[oa]|"
    r"(?:voc[êe] foi|foste|fostes|voc[êe]s foram) (?:hackead|invadid|piratead)|"
    r"(?:o )?meu antiv[íi]rus (?:bloqueou|detectou|encontrou|apanhou)|"
    r"algu[ée]m (?:est[áa] (?:usando|a usar|enviando|a enviar)|usa|envia)\b[^.\n]{0,40}(?:seu|teu|sua|tua) "
    r"(?:endere[çc]o|nome|e-?mail|conta)|v[íi]rus (?:de voc[êe]|vindo de voc[êe]|do seu|do teu|da sua|da tua)",
)
# Within a strong complaint: the writer thinks the account or computer was taken over.
_HACKED = re.compile(r"hack|hijack|compromi|kompromitt|gekapert|gekaapt|pirat|violat|jaquead|zhakow|shakow|"
                     r"przej[ęe]t|w[łl]aman|invadid")
_COMPLAINT_WEAK = re.compile(
    # English
    r"(?:stop|quit) (?:sending|e-?mailing|spamming|mailing)|"
    r"you (?:have |keep |keep on )?sen(?:t|ding) me (?:spam|junk)|(?:sending|send) me (?:spam|junk)|"
    r"why (?:are|do|did) you (?:keep )?(?:sending|send|e-?mail(?:ing)?|writing|write)(?: to)? me|"
    r"i (?:have )?never (?:e-?mailed|written to|wrote to|contacted|heard of|e-?mail) you|"
    r"remove me from|take me off (?:your|the)|unsubscribe me|i (?:did not|didn't|never) (?:ask|sign up|"
    r"subscribe)(?:ed)? for|who (?:are you|is this)|do i know you|i don'?t know you|"
    r"what is this (?:attachment|file|about)|why did i get this|is this (?:really )?from you|"
    r"did you (?:really )?send (?:me )?this|"
    # German, French, Italian, Spanish, Dutch
    r"hören sie auf|hör auf|bitte (?:entfernen|löschen|streichen) sie mich|nehmen sie mich (?:aus|von)|"
    r"ich habe (?:mich )?(?:nie|nicht) (?:angemeldet|bestellt)|wer sind sie|wer bist du|(?:ich )?kenne sie nicht|"
    r"warum (?:schicken|senden|schreiben|mailen) sie mir|"
    r"arrêtez de m'|arrête de m'|désabonnez-moi|retirez-moi|supprimez-moi|qui êtes-vous|"
    r"je ne vous connais pas|pourquoi (?:m'envoyez|me envoyez|m'écrivez)|"
    r"smettetela di|smettila di|smetta di|cancellatemi|toglietemi|rimuovetemi|chi (?:sei|siete|è lei)|"
    r"non (?:la|ti|vi) conosco|perché mi (?:scrivete|scrivi|scrive|mandate|inviate)|"
    r"dej(?:a|e|en|ad|an) de (?:enviarme|escribirme|mandarme)|den?me de baja|quién (?:eres|es usted)|"
    r"no (?:le|te|los) conozco|por qué me (?:envías|envía|escribe|escribes|mandas)|"
    r"stop(?:pen)? met (?:het )?(?:mailen|sturen|versturen|e-?mailen)|hou op met|meld me af|verwijder (?:mij|me)|"
    r"wie bent u|wie ben je|"
    r"ik ken (?:u|je) niet|waarom (?:stuurt|mailt) (?:u|je)|"
    # Polish, Portuguese
    r"przesta[ńn](?:cie)? (?:do mnie )?(?:pisa[ćc]|wysy[łl]a[ćc]|przysy[łl]a[ćc])|kim (?:jeste[śs]|pan jest|"
    r"pani jest)|nie znam (?:ci[ęe]|pana|pani)|wypisz(?:cie)? mnie|usu[ńn](?:cie)? mnie z|"
    r"dlaczego (?:mi )?(?:wysy[łl]asz|przysy[łl]asz|piszesz|pan pisze|pani pisze)|"
    r"(?:pare|parem) de me (?:enviar|mandar|escrever)|quem [ée] (?:voc[êe]|o senhor|a senhora)|quem [ée]s tu|"
    r"n[ãa]o (?:o|a|te|vos) conhe[çc]o|(?:tire|remova|retire)-me|descadastr|"
    r"por ?que (?:voc[êe] )?(?:me )?(?:envia|manda|escreve)",
)
_COMPLAINT_SUBJECT = re.compile(
    r"stop (?:sending|spamming|e-?mailing)|virus|viren|spam|infect|infiz|hack|pirat|remove me|who are you|"
    r"unsubscribe|from your (?:address|account|e-?mail)|abmelden|désabonn|cancellami|darme de baja|afmelden|"
    r"wirus|vírus|zhakow|hackead|invadid|wypisz|descadastr"
)
# Cheap test before a message with neither a reference nor a complaint-like subject is read as one.
_COMPLAINT_HINT = (
    b"hack", b"virus", b"viren", b"wirus", "v\u00edrus".encode(), b"infect", b"infiz", b"infett", b"zainfek",
    b"compromi", b"kompromitt", b"pirat", b"besmet", b"trojan", b"malware", b"gekaapt", b"gekapert", b"invadid",
    b"from your address", b"in your name", b"ihrem namen", b"indirizzo", b"direcci", b"adres",
    b"endere", b"spoof", b"zhakow",
)  # (each word is one pass over the text: no word here may hold another, as "adres" holds "adresse")
# A complaint without a reference must say that the mail came from you (by name or by address).
_CAME_FROM_YOU = re.compile(
    r"(?:e-?mails?|mails?|messages?|note|attachment|file) (?:from you|from your)|from your (?:address|account|"
    r"e-?mail|mail)|you sent me|sent (?:me )?(?:from|by) you|in your name|"
    r"von ihnen|von ihrer (?:adresse|e-?mail)|von dir|von deiner|in ihrem namen|"
    r"de votre part|de votre adresse|venant de vous|de vous|en votre nom|"
    r"da te|da lei|dal (?:tuo|suo) indirizzo|a (?:tuo|suo) nome|"
    r"de (?:tu|su) (?:dirección|correo|cuenta)|de usted|desde (?:tu|su)|en (?:tu|su) nombre|"
    r"van u\b|van jou|van je\b|van (?:uw|jouw) (?:adres|e-?mail)|uit (?:uw|jouw) naam|"
    r"od ciebie|od pana|od pani|od pa[ńn]stwa|z twojego (?:adresu|konta|maila)|w twoim imieniu|w pana imieniu|"
    r"w pani imieniu|w pa[ńn]stwa imieniu|"
    r"de voc[êe]|do seu (?:endere[çc]o|e-?mail)|da sua conta|do teu|em seu nome|em teu nome|no seu nome"
)

_OOO_SUBJECT = re.compile(
    r"^\s*\[?\s*(?:out of (?:the )?office|automatic reply|auto(?:matic)?[- ]?(?:reply|response|antwort|respon[ds]er?)|"
    r"auto\s*:|autoreply|abwesenheitsnotiz|abwesend|r[ée]ponse automatique|absence|respuesta autom[aá]tica|"
    r"fuera de la oficina|risposta automatica|automatisch antwoord|afwezig|on vacation|vacation|"
    r"away from (?:the |my )?(?:office|desk)|i am out of the office|ooo\b|fuori ufficio|frånvaro|fravær)",
)
_OOO_BODY = re.compile(
    r"out of (?:the )?office|on (?:annual |parental |maternity |sick )?leave|on holiday|on vacation|"
    r"away from (?:the |my )?(?:office|desk)|limited access to (?:my )?e-?mail|"
    r"(?:i will|i'll) (?:be )?(?:back|return)|automatic(?:ally)? (?:reply|generated|response)|"
    r"nicht im b[üu]ro|abwesend|im urlaub|absente? du bureau|en congé|fuera de la oficina|ausente|"
    r"fuori (?:ufficio|sede)|sono assente|in ferie|niet (?:op kantoor|aanwezig)|afwezig|met vakantie|"
    r"thank you for your (?:e-?mail|message)",
)

# --- text extraction --------------------------------------------------------------------------

_ORIGINAL_MARKER = re.compile(
    r"below this line is a copy of the message|(?:original|unsent|returned|undelivered) message follows|"
    r"-+ ?original message ?-+|this is a copy of the message|"
    r"the original message (?:was|is) (?:included|attached|below|as follows)|"
    r"-+ ?(?:returned|undelivered) message ?-+|original message headers|-+ ?message header follows|"
    r"headers of the original message|^-+ ?the (?:original )?message ?-+|"
    r"^-+ ?forwarded message ?-+|your message reads|"
    r"-+ ?(?:ursprüngliche nachricht|message d'origine|message original|messaggio originale|mensaje original|"
    r"oorspronkelijk bericht) ?-+",
    re.M,
)
# Field names as notices and quoting mail programs write them, in English, German, French, Italian,
# Spanish and Dutch, mapped to the English header name.
_FIELD_NAMES = {
    "message-id": "message-id",
    "from": "from", "sender": "from", "von": "from", "absender": "from", "de": "from", "expéditeur": "from",
    "expediteur": "from", "da": "from", "mittente": "from", "remitente": "from", "van": "from", "afzender": "from",
    "to": "to", "cc": "to", "an": "to", "empfänger": "to", "à": "to", "a": "to", "destinataire": "to",
    "destinataires": "to", "destinatario": "to", "destinatari": "to", "destinatarios": "to", "para": "to",
    "aan": "to", "ontvanger": "to", "ontvangers": "to",
    "subject": "subject", "betreff": "subject", "objet": "subject", "oggetto": "subject", "asunto": "subject",
    "onderwerp": "subject",
    "date": "date", "sent": "date", "datum": "date", "gesendet": "date", "envoyé": "date", "data": "date",
    "inviato": "date", "fecha": "date", "enviado": "date", "verzonden": "date", "verstuurd": "date",
}
_QUOTED_FIELD = re.compile(
    r"^[ \t>]*(message-id|recipients?(?:\(s\))?|"
    + "|".join(sorted((re.escape(k) for k in _FIELD_NAMES if k != "message-id"), key=len, reverse=True))
    + r")[ \t]*:[ \t]*(\S.*?)[ \t]*\r?$",
    re.I | re.M,
)
# "a message from owner@example.com to them@example.net" in a notice's own words, in six languages.
_ADDR = r"<?([^\s<>@:;,\"'()]+@[A-Za-z0-9.-]+[A-Za-z])>?"
_TEXT_FROM_TO = re.compile(
    r"\b(?:from|von|de|da|van|di|par)[ \t]+" + _ADDR + r"(?:\s+(?:to|an|à|a|para|aan|per)\s+" + _ADDR + ")?",
    re.I,
)
_TEXT_MSGID = re.compile(
    r"^[ \t>]*(?:original-|x-original-)?message-id[ \t]*:[ \t]*<?([^\s<>]+@[^\s<>]+?)>?[ \t]*\r?$"
    r"|message[- ]id\b[^<>\n]{0,30}?<([^\s<>]+@[^\s<>]+)>"
    r"|message[- ]id (?:of |is |was )([^\s<>]+@[^\s<>]+?)(?=[\s,;)]|\.?$)",
    re.I | re.M,
)
_TEXT_RECIPIENT = re.compile(
    r"^[ \t]*<([^<>\s@]+@[^<>\s]+)>[ \t]*(?::|\.\.\.|\(|\r?$)"  # qmail, Postfix, Sendmail
    r"|(?:failed permanently|address(?:es)? failed|following (?:recipients?|addresses?)[^:\n]{0,40}|"
    r"(?:not|wasn't|couldn't be|could not be) delivered to|undeliverable to the following|"
    r"did not reach the following recipient\(s\)|these recipients or groups|"
    r"unable to deliver your message to the following address"
    r"(?:es)?)[ \t]*:?[ \t]*(?:\r?\n[ \t]*)*<?([^\s<>@:;,\"']+@[A-Za-z0-9.-]+[A-Za-z])",
    re.I | re.M,
)
_SMTP_REPLY = re.compile(r"(?<![\w.])(?:[45]\d\d[ -](?:[245]\.\d{1,3}\.\d{1,3})?\s*\S.*)$", re.M)
_QMAIL_HOST = re.compile(
    r"(?:qmail-send program at|mail system at host|this message was generated by|mail delivery agent at)"
    r"\s+([A-Za-z0-9.-]+[A-Za-z0-9])",
    re.I,
)
_NAME = r"[ \t]*:?[ \t]*[\"']?([A-Za-z0-9][\w./:!@#-]{2,80})"
_VIRUS_NAME = [
    re.compile(r"\bvirus\s*\(([^()\r\n]{2,80})\)", re.I),
    re.compile(
        r"^[ \t]*(?:virus|malware)(?:es)?(?:[ \t]+(?:name|found|detected))?[ \t]*:[ \t]*(\S[^\r\n]{1,80})", re.I | re.M
    ),
    re.compile(r"infected (?:with|by)(?: the)?(?: virus| worm)?" + _NAME, re.I),
    re.compile(r"contain(?:s|ed)?(?: the| a)? (?:virus|worm|trojan)" + _NAME, re.I),
    re.compile(r"\bvirus[ \t]+([A-Za-z0-9][\w./:!@#-]{2,80})[ \t]+(?:was |has been )?(?:found|detected)", re.I),
]
_BANNED_NAME = re.compile(r"banned (?:file|filename|attachment)s?[ \t]*:?[ \t]*[\"']?([^\s\"']{3,120})", re.I)
_FILE_PARAM = re.compile(rb"""\b(?:file)?name\*?[ \t]*=[ \t]*(?:"([^"\r\n]{1,255})"|([^\s;"]{1,255}))""", re.I)
_DKIM_D = re.compile(r"(?:^|;)\s*d\s*=\s*([A-Za-z0-9.-]+)", re.I)
_AUTH_SENDER = re.compile(r"authenticated sender:\s*<?([^\s<>()]+@[^\s<>()]+?)>?\s*\)", re.I)
_TEXT_SIGNED = re.compile(
    r"^[ \t>]*dkim-signature:(?:[^\n]*\n[ \t]+){0,6}?[^\n]*?(?<![\w-])d\s*=\s*([A-Za-z0-9.-]+)"
    r"|authenticated sender:\s*<?([^\s<>()]+@[^\s<>()]+?)>?\s*\)",
    re.I | re.M,
)
_TEXT_RECEIVED = re.compile(r"^[ \t>]*received:[ \t]*from[^\n]*(?:\n[ \t]+[^\n]*){0,3}", re.I | re.M)
_HAS_IP = re.compile(r"\[?\b\d{1,3}(?:\.\d{1,3}){3}\b|\[[0-9a-f:]*:[0-9a-f:]+\]", re.I)
_HELO = re.compile(r"\((?:helo|ehlo)[ =]\s*([^\s()]+)\)|\bhelo=([^\s()]+)", re.I)
_FROM_NAME = re.compile(r"^\s*(?:received:\s*)?from\s+([^\s()]+)", re.I)
_NOT_A_NAME = re.compile(r"^(?:unknown|none|n/a|\?+)$", re.I)
_TAGS = re.compile(r"<[^>]*>")
_BLOCK_SPLIT = re.compile(r"\r?\n[ \t]*\r?\n")
_FIELD_LINE = re.compile(r"^([A-Za-z][A-Za-z0-9-]*)[ \t]*:[ \t]*(.*)$")

_AUTOREPLY_HEADERS = ("x-autoreply", "x-autorespond", "x-autoresponder", "x-autogenerated")

_header_parser = email.parser.BytesHeaderParser(policy=email.policy.compat32)


def _cap(data: bytes) -> bytes:
    return data[:TEXT_BYTES]


def _part_text(part: Part) -> str:
    return decode_bytes(_cap(part.data), part.charset)


def parse_fields(text: str) -> list[dict[str, str]]:
    """A delivery-status, disposition or feedback report: blocks of `Name: value` fields.

    Returns one dict per block (lower-case names, first value wins, folded lines joined).
    """
    blocks = []
    for raw in _BLOCK_SPLIT.split(text.replace("\r\n", "\n")):
        fields: dict[str, str] = {}
        last = ""
        for line in raw.split("\n"):
            if line[:1] in (" ", "\t") and last:
                fields[last] = (fields[last] + " " + line.strip()).strip()
                continue
            m = _FIELD_LINE.match(line)
            if m:
                last = m.group(1).lower()
                if last not in fields:
                    fields[last] = m.group(2).strip()
                else:
                    last = ""
        if fields:
            blocks.append(fields)
    return blocks


def _typed_value(value: str) -> str:
    """'rfc822; a@b' → 'a@b'; 'dns; mx.example' → 'mx.example'."""
    if ";" in value:
        value = value.split(";", 1)[1]
    return value.strip().strip("<>").strip()


def _addresses(value: str) -> list[str]:
    return [a.addr.lower() for a in parse_addresses(value) if "@" in a.addr]


def _add(items: list[str], values: Iterable[str]) -> None:
    for v in values:
        if v and v not in items and len(items) < MAX_ITEMS:
            items.append(v)


def _headers_from_bytes(data: bytes) -> Original | None:
    """The header block at the start of a returned message (or of a text/rfc822-headers part)."""
    data = _cap(data).lstrip(b"\r\n\t ")
    if not data:
        return None
    try:
        head = _header_parser.parsebytes(data)
    except Exception:  # noqa: BLE001 - returned copies are often broken; they must never raise
        return None
    orig = Original(source="rfc822")
    orig.message_ids = message_ids(head.get("message-id", ""))[:1]
    froms = [a for a in parse_addresses(to_text(head.get("from", ""))) if "@" in a.addr]
    orig.from_addr = froms[0] if froms else None
    for name in ("to", "cc"):
        for value in head.get_all(name, []) or []:
            _add(orig.to, _addresses(to_text(value)))
    orig.subject = decode_words(head.get("subject", ""))
    orig.date = unfold(to_text(head.get("date", "")))
    orig.files = _file_names(data)
    for value in head.get_all("dkim-signature", []) or []:
        m = _DKIM_D.search(to_text(value))
        if m:
            _add(orig.signers, [m.group(1).lower().rstrip(".")])
    for value in head.get_all("received", []) or []:
        text = to_text(value)
        m = _AUTH_SENDER.search(text)
        if m:
            _add(orig.signers, [m.group(1).lower()])
        _add(orig.relays, [_relay_name(text)])
    if not (orig.message_ids or orig.from_addr or orig.to or orig.subject):
        return None
    return orig


def _relay_name(received: str) -> str:
    """The name the sending host gave in a Received line: its HELO, else the name after 'from'. Only hops
    over the network count ('' for a local hand-over such as "from www-data by host with local")."""
    if not _HAS_IP.search(received):
        return ""
    m = _HELO.search(received)
    if m:
        return (m.group(1) or m.group(2)).strip("[]").lower().rstrip(".")
    m = _FROM_NAME.search(received)
    return m.group(1).strip("[]").lower().rstrip(".") if m else ""


def _file_names(data: bytes) -> list[str]:
    """Names of the files a returned copy carries (its MIME headers name them; content is not read)."""
    names: list[str] = []
    for m in _FILE_PARAM.finditer(data):
        raw = (m.group(1) or m.group(2) or b"").decode("utf-8", "replace").strip()
        name = decode_words(raw, keep_space=True)
        if "." in name and not _NOT_A_NAME.match(name) and name not in names:
            names.append(name)
            if len(names) >= 5:
                break
    return names


def _headers_from_text(text: str) -> Original | None:
    """Headers quoted in a plain-text notice ("Message-ID: <…>", "To: …", "Subject: …")."""
    marker = _marker(text)
    start = marker[1] if marker else 0
    orig = Original(source="text")
    seen: set[str] = set()
    for m in _QUOTED_FIELD.finditer(text, start):
        raw_name = m.group(1).lower()
        if raw_name in seen:
            continue
        seen.add(raw_name)
        name = "to" if raw_name.startswith("recipient") else _FIELD_NAMES.get(raw_name, raw_name)
        value = m.group(2)
        if name == "message-id":
            orig.message_ids = message_ids(value)[:1]
        elif name == "from":
            found = [a for a in parse_addresses(value) if "@" in a.addr]
            orig.from_addr = orig.from_addr or (found[0] if found else None)
        elif name == "to":
            _add(orig.to, _addresses(value))
        elif name == "subject":
            orig.subject = orig.subject or decode_words(value)
        elif name == "date" and not orig.date:
            orig.date = value
        if len(seen) >= 7:
            break
    if not orig.message_ids:
        for m in _TEXT_MSGID.finditer(text, start):
            orig.message_ids = [next(g for g in m.groups() if g).lower()]
            break
    if marker:  # a copy of the whole message: who signed it or took it from an authenticated sender
        for m in _TEXT_SIGNED.finditer(text, start):
            if m.group(1):
                _add(orig.signers, [m.group(1).lower().rstrip(".")])
            elif m.group(2):
                _add(orig.signers, [m.group(2).lower()])
        for m in _TEXT_RECEIVED.finditer(text, start):
            _add(orig.relays, [_relay_name(m.group(0))])
    if marker and start and not (orig.message_ids or orig.from_addr or orig.to or orig.subject):
        return _headers_from_text(text[: marker[0]])
    if not (orig.message_ids or orig.from_addr or orig.to or orig.subject):
        return None
    return orig


def _merge(into: Original, other: Original | None) -> None:
    if other is None:
        return
    _add(into.message_ids, other.message_ids)
    if into.from_addr is None:
        into.from_addr = other.from_addr
    if not into.to:
        _add(into.to, other.to)
    into.subject = into.subject or other.subject
    into.date = into.date or other.date
    _add(into.files, other.files)
    _add(into.signers, other.signers)
    _add(into.relays, other.relays)
    into.source = into.source or other.source


def _notice_text(msg: Message) -> str:
    """The human-readable part of the notice (plain text, else HTML without tags)."""
    plain = [p for p in msg.body_parts if p.content_type == "text/plain"]
    if plain:
        return "\n".join(_part_text(p) for p in plain)
    html = [p for p in msg.body_parts if p.content_type == "text/html"]
    if html:
        return "\n".join(_TAGS.sub(" ", _part_text(p)) for p in html)
    # A report whose MIME boundary is broken arrives as one unsplit part: read it as text.
    broken = [p for p in msg.parts if p.content_type.startswith("multipart/")]
    return "\n".join(_part_text(p) for p in broken)


def _looks_like_headers(part: Part) -> bool:
    """A text attachment that holds a returned message (some servers attach it as .txt)."""
    head = part.data[:200].lstrip().lower()
    return head.startswith((b"received:", b"return-path:", b"from:", b"message-id:", b"date:", b"x-", b"mime-"))


def _sender_address(msg: Message) -> str:
    return msg.from_addr.addr.lower() if msg.from_addr else ""


def _is_mta_sender(msg: Message) -> bool:
    raw_from = msg.header("from")
    if raw_from.replace(" ", "").endswith("<>"):
        return True
    a = msg.from_addr
    if a is not None and _MTA_LOCAL.match(a.local):
        return True
    return bool(_MTA_NAME.search(msg.from_display.lower()))


def _is_null_sender(msg: Message) -> bool:
    if msg.null_return_path:
        return True
    return msg.header("x-envelope-from").replace(" ", "") == "<>"


def _auto_submitted(msg: Message) -> str:
    value = msg.header("auto-submitted").lower()
    return "" if value.startswith("no") else value


def _report_parts(msg: Message, types: frozenset[str]) -> list[Part]:
    return [p for p in msg.parts if p.content_type in types]


_cache: "weakref.WeakKeyDictionary[Message, Notice | None]" = weakref.WeakKeyDictionary()


def analyse(msg: Message) -> Notice | None:
    """The notice `msg` is, with what it tells about the original; None for ordinary mail."""
    try:
        return _cache[msg]
    except KeyError:
        pass
    notice = _analyse(msg)
    _cache[msg] = notice
    return notice


def _analyse(msg: Message) -> Notice | None:
    report_type = msg.content_params.get("report-type", "").lower() if msg.is_multipart_report else ""
    types = {p.content_type for p in msg.parts}
    subject = msg.subject
    if report_type == "feedback-report" or types & _ARF_TYPES:
        return _abuse_report(msg)
    if report_type in ("delivery-status", "global-delivery-status") or types & _DSN_TYPES:
        return _bounce(msg, "dsn", _notice_text(msg))
    if report_type in ("disposition-notification", "global-disposition-notification") or types & _MDN_TYPES:
        return _receipt(msg)
    null_sender = _is_null_sender(msg)
    mta_sender = _is_mta_sender(msg)
    auto = _auto_submitted(msg)
    failed_header = msg.has("x-failed-recipients") or msg.has("x-ms-exchange-message-is-ndr")
    autoreply_header = msg.header("precedence").lower() == "auto_reply" or any(msg.has(h) for h in _AUTOREPLY_HEADERS)
    machine = null_sender or mta_sender or failed_header or bool(auto) or autoreply_header
    av_sender = bool(_AV_SENDER.search(msg.from_display.lower()))
    low_subject = subject.lower()
    if not machine and not av_sender:
        if _OOO_SUBJECT.search(low_subject) and not msg.is_mailing_list:
            text = _notice_text(msg)
            if _OOO_BODY.search(text.lower()):
                return _autoreply(msg, text)
        return _complaint(msg)
    if not (null_sender or mta_sender):
        if _FORWARD_PREFIX.match(subject):
            return None  # a person forwarding a notice to you
        if any(msg.has(h) for h in ("list-id", "list-unsubscribe", "list-post")):
            return None  # a newsletter or list post (a security bulletin talks about viruses, too)
    text = _notice_text(msg)
    own = _own_text(text).lower()
    if _VIRUS_SUBJECT.search(low_subject) or _has_virus_words(own):
        return _virus(msg, text)
    if null_sender or mta_sender or failed_header:
        fmt = _bounce_format(own)
        returned = mta_sender and bool(types & _ORIGINAL_TYPES)
        if fmt or returned or failed_header or _BOUNCE_SUBJECT.search(low_subject) or _GENERIC_BOUNCE_BODY.search(own):
            return _mark_challenge(_bounce(msg, fmt or "generic", text), msg, text)
    elif auto and _BOUNCE_SUBJECT.search(low_subject) and _bounce_format(own):
        return _bounce(msg, _bounce_format(own), text)
    if _is_autoreply(msg, low_subject, text, auto, autoreply_header):
        return _mark_challenge(_autoreply(msg, text), msg, text)
    return None


@functools.lru_cache(maxsize=16)
def _marker(text: str) -> tuple[int, int] | None:
    """Where the line announcing the returned copy starts and ends."""
    low = text.lower()
    if len(low) != len(text):  # a few characters change length in lower case: keep positions exact
        low = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
    m = _ORIGINAL_MARKER.search(low)
    if m is None:
        return None
    end = text.find("\n", m.end())
    return text.rfind("\n", 0, m.start()) + 1, len(text) if end < 0 else end


def _own_text(text: str) -> str:
    """The notice's own words, without the returned copy that plain-text bounces append."""
    marker = _marker(text)
    return text[: marker[0]] if marker else text


def is_postmaster_copy(subject: str) -> bool:
    """"Postmaster Copy: Undelivered Mail": a server's copy for its admin, about someone else's mail."""
    return bool(_POSTMASTER_COPY.match(subject))


def _has_virus_words(low: str) -> bool:
    """_VIRUS_BODY on lower-case text, after a cheap test for the words it needs."""
    if not any(w in low for w in _VIRUS_WORDS):
        return False
    return bool(_VIRUS_BODY.search(low))


def _bounce_format(text: str) -> str:
    """The server family whose wording `text` (lower case) uses; '' when none is recognised."""
    for name, pattern in _FORMATS:
        if pattern.search(text):
            return name
    return ""


def _originals(msg: Message, text: str) -> Original:
    """The original's identity from returned copies, report fields and quoted text, best first."""
    orig = Original()
    for part in msg.parts:
        if part.content_type in _ORIGINAL_TYPES or (
            part.content_type == "text/plain" and part.is_attachment and _looks_like_headers(part)
        ):
            _merge(orig, _headers_from_bytes(part.data))
    if not orig.message_ids or orig.from_addr is None or not orig.subject:
        _merge(orig, _headers_from_text(text))
    return orig


def _refs(msg: Message) -> list[str]:
    refs: list[str] = []
    _add(refs, message_ids(msg.header("in-reply-to")))
    _add(refs, message_ids(msg.header("references")))
    return refs


def _status_fields(notice: Notice, msg: Message, types: frozenset[str]) -> None:
    """Fills recipients, action, status, diagnostic and ids from delivery-status-like parts."""
    for part in _report_parts(msg, types):
        blocks = parse_fields(_part_text(part))
        for fields in blocks:
            for key in ("original-message-id", "x-original-message-id", "message-id"):
                if fields.get(key):
                    _add(notice.original.message_ids, message_ids(fields[key]))
            if fields.get("reporting-mta") and not notice.reporting_mta:
                notice.reporting_mta = _typed_value(fields["reporting-mta"])
            if fields.get("reporting-ua") and not notice.reporting_mta:
                notice.reporting_mta = fields["reporting-ua"].split(";")[0].strip()
            recipient = fields.get("final-recipient") or fields.get("original-recipient")
            if recipient:
                _add(notice.failed_recipients, [_typed_value(recipient).lower()])
            if fields.get("action") and not notice.action:
                notice.action = fields["action"].split()[0].lower()
            if fields.get("status") and not notice.status:
                notice.status = fields["status"].split()[0]
            if fields.get("diagnostic-code") and not notice.diagnostic:
                notice.diagnostic = _typed_value(fields["diagnostic-code"])[:300]
            if fields.get("x-postfix-sender") and notice.original.from_addr is None:
                found = parse_addresses(_typed_value(fields["x-postfix-sender"]))
                notice.original.from_addr = found[0] if found and "@" in found[0].addr else None


def _common(notice: Notice, msg: Message, text: str) -> Notice:
    text = _own_text(text)
    if not notice.failed_recipients:
        for value in msg.header_all("x-failed-recipients"):
            _add(notice.failed_recipients, _addresses(value))
    if not notice.failed_recipients and notice.kind in (BOUNCE, VIRUS):
        own = {a.addr.lower() for a in msg.to}
        found = [(m.group(1) or m.group(2) or "").lower() for m in _TEXT_RECIPIENT.finditer(text)]
        _add(notice.failed_recipients, [a for a in found if a and a not in own and "@" in a])
    if not notice.diagnostic and notice.kind in (BOUNCE, VIRUS):
        m = _SMTP_REPLY.search(text)
        if m:
            notice.diagnostic = unfold(m.group(0))[:300]
    if not notice.reporting_mta:
        m = _QMAIL_HOST.search(text)
        if m:
            notice.reporting_mta = m.group(1).rstrip(".").lower()
    if not notice.reporting_mta and msg.from_addr is not None:
        notice.reporting_mta = msg.from_addr.domain
    notice.reporter = _sender_address(msg)
    return notice


def _bounce(msg: Message, fmt: str, text: str) -> Notice:
    notice = Notice(kind=BOUNCE, fmt=fmt, original=Original(), references=_refs(msg))
    _status_fields(notice, msg, _DSN_TYPES)
    _merge(notice.original, _originals(msg, text))
    if not notice.original.subject:
        m = _SUBJECT_PREFIX.match(msg.subject)
        if m and msg.subject[m.end() :].strip():
            notice.original.subject = msg.subject[m.end() :].strip()
    if fmt == "dsn":
        body_fmt = _bounce_format(_own_text(text).lower())
        if body_fmt:
            notice.fmt = f"dsn/{body_fmt}"
    # A scanner's report in DSN form ("Banned file: x.bat in mail from you") is a virus warning.
    if _VIRUS_SUBJECT.search(msg.subject.lower()) or _has_virus_words(_own_text(text).lower()):
        notice.kind = VIRUS
        _virus_details(notice, msg, text)
    return _common(notice, msg, text)


def _virus(msg: Message, text: str) -> Notice:
    notice = Notice(kind=VIRUS, fmt="av", original=Original(), references=_refs(msg))
    _status_fields(notice, msg, _DSN_TYPES)
    _merge(notice.original, _originals(msg, text))
    _named_in_text(notice.original, msg.subject + "\n" + _own_text(text))
    _virus_details(notice, msg, text)
    return _common(notice, msg, text)


def _named_in_text(orig: Original, text: str) -> None:
    """Fills From (and To) from the notice's own words ("a message from a@b to c@d") when no quoted
    header gave them."""
    if orig.from_addr is not None and orig.to:
        return
    m = _TEXT_FROM_TO.search(text)
    if m is None:
        return
    if orig.from_addr is None:
        orig.from_addr = Address("", m.group(1))
        orig.source = orig.source or "text"
    if not orig.to and m.group(2):
        _add(orig.to, [m.group(2).lower()])


def _virus_details(notice: Notice, msg: Message, text: str) -> None:
    text = _own_text(text)
    about = msg.subject + "\n" + text
    low = about.lower()
    from_you = bool(_FROM_YOU.search(low))
    to_you = bool(_TO_YOU.search(low))
    notice.direction = "from_you" if from_you and not to_you else ("to_you" if to_you and not from_you else "")
    for pattern in _VIRUS_NAME:
        for source in (msg.subject, text):
            m = pattern.search(source)
            if m:
                notice.virus = m.group(1).strip().strip("\"'.,;")[:80]
                return
    m = _BANNED_NAME.search(about)
    if m:
        notice.virus = "banned file " + m.group(1).strip("\"'.,;")[:80]


def _abuse_report(msg: Message) -> Notice:
    notice = Notice(kind=ABUSE_REPORT, fmt="arf", original=Original(), references=_refs(msg))
    text = _notice_text(msg)
    for part in _report_parts(msg, _ARF_TYPES):
        for fields in parse_fields(_part_text(part)):
            if fields.get("original-rcpt-to"):
                _add(notice.original.to, _addresses(fields["original-rcpt-to"]))
            if fields.get("original-mail-from") and notice.original.from_addr is None:
                found = [a for a in parse_addresses(fields["original-mail-from"]) if "@" in a.addr]
                notice.original.from_addr = found[0] if found else None
            if fields.get("feedback-type") and not notice.action:
                notice.action = fields["feedback-type"].lower()
            if fields.get("source-ip") and not notice.diagnostic:
                notice.diagnostic = "source IP " + fields["source-ip"]
            if fields.get("user-agent") and not notice.reporting_mta:
                notice.reporting_mta = fields["user-agent"]
    returned = _originals(msg, text)
    # The reported message's own From beats the envelope sender the report names.
    if returned.from_addr is not None:
        notice.original.from_addr = returned.from_addr
    _merge(notice.original, returned)
    notice.reporting_mta = msg.from_addr.domain if msg.from_addr else notice.reporting_mta
    notice.reporter = _sender_address(msg)
    return notice


def _receipt(msg: Message) -> Notice:
    notice = Notice(kind=RECEIPT, fmt="mdn", original=Original(), references=_refs(msg))
    _status_fields(notice, msg, _MDN_TYPES)
    _merge(notice.original, _originals(msg, _notice_text(msg)))
    notice.reporter = _sender_address(msg)
    return notice


def _is_autoreply(msg: Message, subject: str, text: str, auto: str, autoreply_header: bool) -> bool:
    if msg.is_mailing_list and not autoreply_header:
        return False
    if auto.startswith("auto-replied") or autoreply_header:
        return True
    if _OOO_SUBJECT.search(subject):
        return bool(auto or msg.has("x-auto-response-suppress") or _OOO_BODY.search(text.lower()))
    return False


def _autoreply(msg: Message, text: str) -> Notice:
    notice = Notice(kind=AUTOREPLY, fmt="autoreply", original=Original(), references=_refs(msg))
    quoted = _headers_from_text(text)
    if quoted is not None and quoted.message_ids:
        _add(notice.original.message_ids, quoted.message_ids)
    notice.original.subject = _strip_prefixes(msg.subject)
    notice.reporter = _sender_address(msg)
    return notice


_REPLY_PREFIX = re.compile(
    r"^\s*(?:\[\s*(?:auto[- ]?reply|auto[- ]?response|out of (?:the )?office|ooo|autoreply)\s*\]|"
    r"(?:re|aw|sv|vs|antw|r|ref|rif|tr|fwd?|wg|odp|odpowied[źz]|res|resp|enc|doorst|vl|ynt|απ)\s*(?:\[\d+\])?\s*:|"
    r"(?:out of (?:the )?office|automatic reply|auto(?:matic)?[- ]?(?:reply|response|antwort)|auto|autoreply|"
    r"abwesenheitsnotiz|abwesend|r[ée]ponse automatique|absence|respuesta autom[aá]tica|risposta automatica|"
    r"automatisch antwoord|read|gelesen|lu|le[ií]do|letto)\s*:)\s*",
    re.I,
)


def _strip_prefixes(subject: str) -> str:
    for _ in range(5):
        new = _REPLY_PREFIX.sub("", subject, count=1)
        if new == subject:
            break
        subject = new
    return subject.strip()


_SOFT_PUNCT = re.compile(r"[,;]")
_COMPLAINT_CHARS = 6000
_ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Within a weak complaint: the writer calls it spam or fraud, or never dealt with you ("take me off your
# list" alone is what a newsletter's reader says).
_SPAM_COMPLAINT = re.compile(
    r"\bspam|\bjunk\b|rubbish|\bscam|fraud|betrug|oszust|golpe|estafa|truffa|oplichting|arnaque|"
    r"never (?:been|was) (?:a |your )?(?:customer|client)|never (?:heard of|done (?:any )?business)|"
    r"nooit klant|nie by[łl]e[mś] (?:pa[ńn]stwa )?klient|nunca (?:fui|comprei|fiz)|nie kenne ich|"
    r"noch nie (?:kunde|bestellt)|jamais (?:été )?client|nunca (?:he sido|fui) cliente|mai stato cliente"
)
# A challenge-response filter holding mail until its sender confirms it (a link, a reply, a code).
_CHALLENGE = re.compile(
    r"confirm (?:that )?you (?:sent|are a (?:real )?(?:person|human))|please confirm (?:your|this) (?:message|e-?mail)|"
    r"to (?:confirm|verify) (?:the )?(?:delivery|your message|that you)|verify (?:that )?you (?:sent|are a)|"
    r"held (?:for|until) (?:confirmation|verification)|sender verification|challenge[- ]response|"
    r"zustellung zu best[äa]tigen|best[äa]tigungscode|best[äa]tigen sie|"
    r"confirmez (?:l'envoi|que vous|votre message)|confirme(?:r)? (?:o envio|el env[íi]o|que (?:usted|voc[êe]))|"
    r"conferm(?:a|i|are) (?:l'invio|che)|bevestig (?:dat u|uw bericht|de verzending)|potwierd[źz] (?:wys[łl]anie|"
    r"[żz]e)|whitelist|witte lijst|liste blanche|lista blanca|"
    # "confirm you are the sender", in the languages around
    r"(?:confirm|best[äa]tig|confirmer|confirmar|conferm|bevestig|potwierd)\w*[^.\n]{0,60}(?:the sender|"
    r"absender|exp[ée]diteur|remitente|remetente|mittente|afzender|nadawc)|"
    r"(?:sender|absender|exp[ée]diteur|remitente|remetente|mittente|afzender|nadawc)\w*[^.\n]{0,30}(?:confirm|"
    r"best[äa]tig|confirmer|confirmar|conferm|bevestig|potwierd|verif)|"
    r"trattenuto dal (?:nostro )?(?:sistema )?antispam|retenu par (?:notre )?(?:filtre )?antispam|"
    r"retenido por (?:nuestro )?(?:filtro )?antispam|zatrzymana przez (?:nasz )?(?:filtr )?antyspam",
)
_QUOTED_SUBJECT = re.compile(
    r"(?:subject|betreff|objet|oggetto|asunto|assunto|onderwerp|temat)\s*:?\s*[\"“„'«]?\s*([^\"”“'»\r\n]{3,160})",
    re.I,
)


def _challenge_subject(subject: str, text: str) -> str:
    """The held message's subject: its own line in the notice, or the quotes in the notice's subject."""
    m = _QUOTED_SUBJECT.search(text)
    if m:
        return m.group(1).strip().strip('"“”„«»').strip()
    m = re.search(r"[\"“„«]([^\"”“»]{3,160})[\"”“»]", subject)
    return m.group(1).strip() if m else ""


def _mark_challenge(notice: Notice, msg: Message, text: str) -> Notice:
    low = (msg.subject + "\n" + text).lower()
    if _CHALLENGE.search(low):
        notice.challenge = True
        own_text = _own_text(text)
        held = _challenge_subject(msg.subject, own_text)
        if held:
            notice.original.subject = held
        if not notice.original.to:  # "your message to anna@shop.example has been held": whom it was for
            yours = {a.addr.lower() for a in msg.to} | {notice.reporter.lower()}
            _add(notice.original.to, [a.lower() for a in _ADDRESS.findall(own_text) if a.lower() not in yours])
    return notice


def _complaint(msg: Message) -> Notice | None:
    """A person's "stop sending me viruses" mail. Cheap checks first: most mail is not one."""
    if msg.is_mailing_list:
        return None
    refs = _refs(msg)
    subject = msg.subject
    low_subject = subject.lower()
    if not refs and not _COMPLAINT_SUBJECT.search(low_subject) and not _complaint_hint(msg):
        return None
    text = _notice_text(msg)
    # "your e-mail, it seems, was hacked"; a complaint is in its first lines, not pages down
    # (lines wrap anywhere: "our antivirus\nblocked it")
    low = " ".join(_SOFT_PUNCT.sub(" ", low_subject + "\n" + text[:_COMPLAINT_CHARS].lower()).split())
    strong = _COMPLAINT_STRONG.search(low)
    weak = None if strong else _COMPLAINT_WEAK.search(low)
    if not (strong or weak):
        return None
    if not refs and strong and not _says_it_came_from_you(msg, low):
        return None  # "your account was hacked" alone is also what phishing says
    fmt = "strong" if strong else ("spam" if _SPAM_COMPLAINT.search(low) else "weak")
    notice = Notice(kind=COMPLAINT, fmt=fmt, original=Original(), references=refs)
    notice.hacked = bool(strong and _HACKED.search(low))
    quoted = _originals(msg, text)
    _merge(notice.original, quoted)
    if notice.original.from_addr is None:
        own = _own_text(text)
        m = _TEXT_FROM_TO.search(own)
        if m:
            notice.original.from_addr = Address("", m.group(1))
    if not notice.original.subject:
        stripped = _strip_prefixes(subject)
        if stripped != subject.strip():
            notice.original.subject = stripped
        else:
            m = re.search(r"subject\s+[\"“']([^\"”'\r\n]{1,120})[\"”']", text, re.I) or re.search(
                r"(?:message|e-?mail|mail)\s+[\"“]([^\"”\r\n]{1,120})[\"”]", text, re.I
            )
            if m:
                notice.original.subject = m.group(1).strip()
    notice.reporter = _sender_address(msg)
    return notice


def _complaint_hint(msg: Message) -> bool:
    """A word of a strong complaint somewhere in the first bytes of the text (no decoding needed)."""
    for part in msg.body_parts:
        # (substring tests: a regex of many words is ten times slower). Complaint wording is looked for in the
        # first _COMPLAINT_CHARS characters of the plain text, which four bytes a character always cover;
        # an HTML part's text comes after its tags are dropped, so all of it is looked at.
        size = TEXT_BYTES if part.content_type == "text/html" else min(TEXT_BYTES, _COMPLAINT_CHARS * 4)
        low = part.data[:size].lower()
        if any(word in low for word in _COMPLAINT_HINT):
            return True
    return False


def _says_it_came_from_you(msg: Message, low: str) -> bool:
    """The writer says a mail came from you: in words, or by naming the address this mail went to."""
    if _CAME_FROM_YOU.search(low):
        return True
    return any(a.addr and a.addr.lower() in low for a in msg.to)
