"""payment rules: a mail that moves your payments to a new bank account.

The costliest fraud a small business meets is not a virus but a supplier's invoice paid to a stranger:
someone fakes (or breaks into) a supplier's mail and writes that the bank details have changed. The
defence is old and simple: before paying to new details, phone the supplier on a number you already
have. So every such mail gets that advice; it is a warning only where the provider could not confirm
the sender, or the mail itself tries to stop you from calling.
"""

import re
from collections.abc import Iterator

from klezguard.core import links
from klezguard.core.context import Context
from klezguard.core.message import Message
from klezguard.core.visible import visible
from klezguard.rules.registry import Hit, Rule, Severity, register
from klezguard.rules.sender import facts

# "Our bank details have changed", in the languages of the EU's small businesses.
_CHANGED = re.compile(
    r"(?:new|changed|updated|different|alternative) (?:bank(?:ing)?|payment|remittance) (?:account|details|"
    r"information|info|instructions)|bank (?:account |)details (?:have |has )?(?:changed|been (?:changed|updated))|"
    r"(?:changed|updated|switched|moved) (?:our |my )?(?:bank(?:s|ing)?|bank account|account|payment details)\b|"
    r"new (?:iban|account number|sort code)|"
    r"neue (?:bankverbindung|iban|kontoverbindung|kontonummer|bankdaten)|bankverbindung (?:hat sich )?ge[äa]ndert|"
    r"ge[äa]nderte (?:bankverbindung|iban|kontoverbindung)|bank gewechselt|"
    r"nouvelles? coordonn[ée]es bancaires|nouveau (?:rib|iban|compte bancaire)|changement (?:de|des) (?:rib|"
    r"coordonn[ée]es bancaires|banque|compte)|chang[ée] de banque|"
    r"(?:nueva|nuevo|nuevos) (?:cuenta bancaria|iban|n[úu]mero de cuenta|datos bancarios)|cambio de (?:cuenta|"
    r"datos bancarios|banco|iban)|cambiado de banco|"
    r"nuov[eoi] (?:coordinate bancarie|iban|conto corrente|conto)|(?:cambio|variazione) (?:di |delle |del )?"
    r"(?:iban|coordinate bancarie|conto)|cambiato banca|"
    r"nieuw(?:e)? (?:rekeningnummer|iban|bankrekening)|gewijzigd(?:e)? (?:rekeningnummer|bankgegevens|iban)|"
    r"van bank veranderd|"
    r"nowy (?:numer (?:konta|rachunku)|rachunek)|zmian[ayę] (?:numeru )?(?:konta|rachunku)|nowe dane (?:bankowe|"
    r"do przelewu)|zmienili[śs]my bank|"
    r"(?:novo|nova|novos) (?:iban|nib|conta banc[áa]ria|n[úu]mero de conta|dados banc[áa]rios)|"
    r"altera[çc][ãa]o (?:d[aoe]s? )?(?:dados banc[áa]rios|iban|nib|conta)|mud(?:ou|ámos|amos) de banco",
    re.I,
)
# The same words without re.I, for the lower-cased text: five times faster on the long alternation, so
# the case-blind search runs only on the few mails where this one finds the words.
_CHANGED_LOW = re.compile(_CHANGED.pattern)
# "Payments must now be made to our euro account": an instruction to pay into a given account. Alone this is
# every invoice's footer; with an account in another country than the sender it is the fraud's other form.
_PAY_TO = re.compile(
    r"(?:payments?|transfers?|remittances?|amounts?|invoices?) (?:\w+ ){0,4}(?:must|should|has to|have to|need to|"
    r"are to|is to)(?: now| from now on| henceforth| only)? be (?:made|sent|paid|transferred|wired|settled) (?:in|"
    r"to|into)|(?:please )?(?:pay|transfer|wire|remit)(?: \w+){0,4} (?:to|into) (?:our|the|this) (?:\w+ )?"
    r"(?:new |other |euro |eur |usd |alternative |following )?(?:bank )?account|"
    r"zahlungen? (?:\w+ ){0,3}(?:bitte |nur )?(?:auf|an) (?:unser|folgendes|das folgende)|"
    r"paiements? (?:\w+ ){0,3}(?:doivent|devront) (?:d[ée]sormais )?(?:[êe]tre )?(?:effectu|vers)|"
    r"pagos? (?:\w+ ){0,3}(?:deben|deber[áa]n) (?:realizarse|hacerse|efectuarse)|"
    r"pagament[oi] (?:\w+ ){0,3}(?:deve|devono|dovr[àa]nno) essere (?:effettuat|eseguit|versat)|"
    r"betalingen? (?:\w+ ){0,3}(?:moet|moeten|dient|dienen) (?:\w+ ){0,2}(?:worden )?(?:overgemaakt|gedaan)|"
    r"p[łl]atno[śs]ci (?:\w+ ){0,3}(?:nale[żz]y|prosimy) (?:\w+ ){0,2}(?:wp[łl]aca[ćc]|przelewa[ćc]|kierowa[ćc])|"
    r"pagamentos? (?:\w+ ){0,3}(?:devem|dever[ãa]o) ser (?:feitos|efetuados|realizados)",
    re.I,
)
# The fraud's tell: it asks you not to check by phone, or to keep it quiet.
_NO_CALL = re.compile(
    r"(?:do not|don'?t|please do not) (?:call|phone|ring)|(?:phone|lines?) (?:is|are) (?:down|out of order)|"
    r"bitte nicht an(?:rufen)?|rufen sie (?:bitte )?nicht an|ne (?:pas )?(?:nous )?(?:appeler|t[ée]l[ée]phoner)|"
    r"no (?:llame|nos llame|llamen)|non (?:chiamare|telefonare)|niet (?:bellen|te bellen)|nie dzwo[ńn]|"
    r"n[ãa]o (?:ligue|liguem|telefone)|linhas (?:est[ãa]o )?em manuten[çc][ãa]o",
    re.I,
)
# Cheap first look (substring tests): most mail never names a bank account at all.
_HINT = ("iban", "bank", "banc", "kont", "conta", "rekening", "rachun", "compte", "cuenta", "conto", "rib ", "nib ",
         "remit", "payment det")
_TEXT_CHARS = 8000
_IBAN = re.compile(r"\b([A-Z]{2})\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b")


def _text(msg: Message) -> str:
    """The subject and the first lines a reader sees (a bank change is said at the top, not pages down)."""
    body = msg.body_text[:_TEXT_CHARS] or links.visible_text(msg.body_html[: _TEXT_CHARS * 3])[:_TEXT_CHARS]
    return " ".join(f"{msg.subject} {body}".split())  # lines wrap anywhere: "must be\nmade to"


@register
class PaymentDetailsChanged(Rule):
    """A mail saying that payments should go to new bank details: phone before you pay."""

    id = "sender.payment_details_changed"
    category = "sender"
    severity = "medium"
    title = "The mail asks you to pay to new bank details"
    explanation = (
        "This mail tells you to pay {who} into a new or other bank account. Fraudsters who fake a supplier's "
        "mail do exactly this, and the money is then gone."
    )
    advice = (
        "Do not pay and do not change any bank details yet. Phone {who} on a number you already have, not one "
        "from this mail, and ask them to confirm the new details."
    )
    notes = {
        "unconfirmed": "Your mail provider could not confirm that this mail really came from {domain}.",
        "confirmed": "Your mail provider confirmed that it came from {domain}. But a broken-into mailbox sends "
        "real-looking mail too.",
        "stranger": "You have never written to {domain}, yet it writes as if you already paid it.",
        "no_call": "It also asks you not to phone or to keep it quiet. Real firms never mind a call to check.",
        "reply_to": "Answers would go to {reply_to}, not to the sender.",
        "foreign_iban": "The new account is in another country ({iban_country}) than the sender ({domain}).",
    }

    def check(self, msg: Message, ctx: Context) -> Iterator[Hit]:
        fa = msg.from_addr
        if fa is None or msg.is_mailing_list:
            return
        text = _text(msg)
        low = text.lower()
        if not any(word in low for word in _HINT):
            return
        changed = _CHANGED.search(text) if _CHANGED_LOW.search(low) else None
        iban = _IBAN.search(text)
        country = fa.domain.rsplit(".", 1)[-1].upper()
        foreign = bool(iban and len(country) == 2 and country not in ("EU", "UK") and iban.group(1) != country)
        if not changed and foreign:
            changed = _PAY_TO.search(text)  # pay into an account abroad: the other form of the fraud
        if not changed:
            return
        f = facts(msg, ctx)
        if f.own_from and f.aligned:
            return  # your own firm's mail about your own bank
        notes: list[str] = []
        severity: Severity = "low"
        if not f.aligned:
            severity = "medium"
            notes.append("unconfirmed")
        elif ctx.knows_sent and not f.known_from:
            severity = "medium"  # a "change" from someone you never wrote to: you never paid them before
            notes.append("stranger")
        else:
            notes.append("confirmed")
        reply_to = next((r.addr for r in msg.reply_to if r.domain.lower() != fa.domain.lower()), "")
        if reply_to:
            severity = "medium"
            notes.append("reply_to")
        if _NO_CALL.search(text):
            severity = "high"
            notes.append("no_call")
        elif severity == "medium" and f.known_from:
            severity = "high"  # a supplier you pay, faked: the classic
        if foreign:
            notes.append("foreign_iban")
        who = fa.name or fa.addr
        yield Hit(
            facts={
                "who": visible(who),
                "domain": visible(fa.domain),
                "reply_to": visible(reply_to),
                "iban_country": iban.group(1) if iban else "",
            },
            evidence={
                "From": visible(msg.header("from")),
                "The mail says": visible(text[max(0, changed.start() - 60): changed.end() + 80].strip()),
                **({"New account": visible(iban.group(0))} if iban else {}),
                **({"Reply-To": visible(reply_to)} if reply_to else {}),
            },
            notes=tuple(notes),
            severity=severity,
        )
