"""Turns a domain's records into a plain answer to "can someone send mail as me?" and the steps to fix it.

Three outcomes: protected (receivers can tell fakes and turn them away), weak (fakes get through), and
could not be checked (DNS did not answer, or there is no such domain). A free-mail domain (gmail.com, ...)
gets a short answer of its own: it is not the user's to fix.

What decides is what receivers do: DMARC at quarantine or reject for all mail (pct=100), backed by an SPF
record they can use (no +all or ?all, at most 10 look-ups, no mistakes), and DKIM where the provider's key
names are known. A missing report address or a DKIM key under a name we could only guess is said, but does
not make a domain weak: that would cry wolf. Every sentence here is written for a shop owner (reading
grade 8 or below, checked by tests/test_readability.py).
"""

import functools
import json
import time
from dataclasses import asdict, dataclass, field
from importlib import resources
from typing import Any

import dns.resolver

from klezguard.core.domaincheck import SPF_LOOKUP_LIMIT, DomainFacts, DomainUnreadable, read_dkim, read_domain
from klezguard.core.domains import is_freemail

PROTECTED = "protected"
WEAK = "weak"
UNCHECKED = "unchecked"
FREEMAIL = "freemail"

HEADLINES = {
    PROTECTED: "Mail servers can spot fakes from {domain} and turn them away.",
    WEAK: "Anyone can send mail that looks like it comes from {domain}, and most servers will deliver it.",
    "weak_dkim": "Most fakes from {domain} are turned away, but one part is missing.",
    UNCHECKED: "We could not check {domain}.",
    FREEMAIL: "{domain} is not yours to fix.",
}
REASONS = {
    "timeout": "The name server did not answer in time. Check that you are online, then try again later.",
    "servfail": "The name server had a problem and gave no answer. Please try again later.",
    "refused": "The name server would not answer us. Try another one, or try again later.",
    "nxdomain": "This domain does not exist. Check how it is spelled.",
    "invalid": "That is not a domain name. Type it like this: example.com.",
}
PROBLEMS = {
    "spf_missing": "{domain} has no SPF record. So no server can tell which servers may send its mail.",
    "spf_error": "The SPF record has a mistake ({error}). Servers skip a broken record.",
    "spf_lookups": "The SPF record needs {n} look-ups, but the limit is 10. Many servers then treat it as broken.",
    "spf_pass": "The SPF record ends in +all. That lets every server in the world send mail as {domain}.",
    "spf_neutral": "The SPF record ends in ?all, or has no end at all. That tells servers nothing about fakes.",
    "dmarc_missing": "There is no DMARC record. So servers do not know what to do with fakes, and most let them in.",
    "dmarc_error": "The DMARC record has a mistake ({error}). Servers skip a broken record.",
    "dmarc_none": "DMARC is set to p=none. Servers send you reports, but they still deliver the fakes.",
    "dmarc_pct": "DMARC covers only {pct} of every 100 fakes (pct={pct}). The rest still get through.",
    "dmarc_sp_none": "Names under your domain, like shop.{domain}, are not covered (sp=none). Fakes can use them.",
    "dkim_missing": "We found no DKIM key for {provider}. Without it, your real mail carries no seal, "
    "and forwarded mail can be turned away.",
}
NOTES = {
    "spf_softfail": "SPF ends in ~all: servers should be wary of mail from other servers. With DMARC, that is fine.",
    "spf_fail": "SPF ends in -all: mail from other servers should be turned away.",
    "dmarc_reject": "DMARC says p=reject: servers should turn fakes away.",
    "dmarc_quarantine": "DMARC says p=quarantine: servers should put fakes in the junk folder.",
    "dmarc_parent": "The DMARC record of {parent} covers this name too.",
    "no_rua": "You get no reports about mail sent in your name. Add rua= to get them.",
    "rua": "Reports about mail sent in your name go to {rua}.",
    "strict": "Alignment is strict (adkim=s or aspf=s). Only mail from {domain} itself passes, not from names "
    "under it.",
    "relaxed": "Alignment is relaxed. Mail from names under {domain} passes too. That is normal.",
    "dkim_found": "DKIM keys found: {selectors}.",
    "dkim_unknown": "We found no DKIM key under the usual names. Your provider may use other names. Ask them "
    "if DKIM is on.",
    "no_mx": "{domain} takes no mail (it has no MX record).",
    "spf_missing_covered": "{domain} has no SPF record. DMARC still turns fakes away, but your own mail may "
    "be turned away too.",
    "provider": "Your mail seems to be with {provider}.",
}
STEPS = {
    "where": "Add or change records where your domain's DNS is kept. That is often where you bought the "
    "domain. Changes can take a few hours to show.",
    "spf_add": "Add this SPF record as a TXT record for {domain}:",
    "spf_fix": "Replace the SPF record of {domain} with this one:",
    "spf_check": "Check that it names every service that sends mail for you, like a web shop or newsletter tool.",
    "spf_generic": "This record lets your mail servers send. Ask your provider if other servers send for you.",
    "spf_lookups": "Take services you no longer use out of the SPF record. Or ask your provider to make it "
    "shorter.",
    "dmarc_add": "Add this DMARC record as a TXT record for _dmarc.{domain}:",
    "dmarc_fix": "Replace the DMARC record at _dmarc.{domain} with this one:",
    "dmarc_watch": "Servers will put fakes in the junk folder. Read the reports for a few weeks. When all your "
    "real mail passes, change p=quarantine to p=reject.",
    "lock": "If no one sends mail from {domain}, lock it with these two TXT records:",
    "freemail": "A big mail service owns {domain}, not you. Only that service can change how it guards the "
    "domain.",
    "free_password": "Use a strong password for your mail that you use nowhere else.",
    "free_two_step": "Turn on two-step sign-in. Then no one can send mail from your real account, even with "
    "your password.",
    "free_contacts": "Tell the people you write to that you never send files they did not ask for.",
    "free_own": "If your business needs mail that others cannot fake, get a domain of your own. Then KlezGuard "
    "can check it for you.",
    "retry": "Try again later. The app checks again each time you open the Your domain page.",
}


@dataclass(frozen=True)
class Provider:
    id: str
    name: str
    mx: tuple[str, ...]
    spf: tuple[str, ...]
    include: str
    all: str
    dkim: tuple[str, ...]
    dkim_fixed: bool
    dkim_how: str


@functools.cache
def providers() -> tuple[Provider, ...]:
    text = resources.files("klezguard.data").joinpath("mailproviders.json").read_text("utf-8")
    found = []
    for item in json.loads(text)["providers"]:
        found.append(Provider(id=item["id"], name=item["name"], mx=tuple(item["mx"]), spf=tuple(item["spf"]),
                              include=item["include"], all=item["all"], dkim=tuple(item["dkim"]),
                              dkim_fixed=bool(item["dkim_fixed"]), dkim_how=item["dkim_how"]))
    return tuple(found)


def _matches(host: str, suffixes: tuple[str, ...]) -> bool:
    return any(host == s or host.endswith("." + s) for s in suffixes)


def detect_provider(mx: list[str], includes: list[str]) -> Provider | None:
    """The provider whose servers take the domain's mail (MX), else the first one its SPF includes."""
    for host in mx:
        for provider in providers():
            if _matches(host, provider.mx):
                return provider
    for target in includes:
        for provider in providers():
            if _matches(target, provider.spf):
                return provider
    return None


@dataclass
class Step:
    text: str
    record: str = ""  # what to type, exactly
    where: str = ""  # the record's DNS name, for the DNS form


@dataclass
class Verdict:
    domain: str
    outcome: str  # PROTECTED, WEAK, UNCHECKED or FREEMAIL
    headline: str
    problems: list[str] = field(default_factory=list)  # what makes it weak, worst first
    notes: list[str] = field(default_factory=list)  # what is fine, and what we could not tell
    steps: list[Step] = field(default_factory=list)
    provider: str = ""
    reason: str = ""  # UNCHECKED: timeout, servfail, refused, nxdomain, invalid
    detail: str = ""  # UNCHECKED: the resolver's own words, for a helper
    facts: dict[str, Any] | None = None
    checked_at: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Verdict":
        values = dict(data)
        values["steps"] = [Step(**s) for s in values.get("steps", [])]
        known = {k: v for k, v in values.items() if k in cls.__dataclass_fields__}
        return cls(**known)


def _spf_record(facts: DomainFacts, provider: Provider | None) -> str:
    """The SPF to publish: the current one's mechanisms kept (minus its 'all'), the provider's include added."""
    end = provider.all if provider else "~all"
    terms: list[str] = []
    if facts.spf.record and not facts.spf.error:
        terms = [t for t in facts.spf.record.split()[1:] if not t.lower().lstrip("+-~?").startswith("all")]
    if provider and f"include:{provider.include}" not in terms:
        terms.insert(0, f"include:{provider.include}")
    if not terms:
        terms = ["mx"]
    return " ".join(["v=spf1", *terms, end])


def _dmarc_record(facts: DomainFacts, report_to: str) -> str:
    rua = [u for u in facts.dmarc.rua if u] if not facts.dmarc.error else []
    parts = ["v=DMARC1", "p=quarantine"]
    if rua:
        parts.append("rua=" + ",".join(rua))
    elif report_to:
        parts.append(f"rua=mailto:{report_to}")
    return "; ".join(parts)


def judge(facts: DomainFacts, report_to: str = "") -> Verdict:
    """The verdict and the steps for one domain's records. `report_to`: the address for DMARC reports that
    the suggested record names (the user's own, when known; else postmaster@ the domain)."""
    domain = facts.domain
    report_to = report_to or f"postmaster@{domain}"
    spf, dmarc = facts.spf, facts.dmarc
    provider = detect_provider(facts.mx, spf.includes)
    problems: list[str] = []
    notes: list[str] = []
    steps: list[Step] = []
    sends_nothing = spf.record.strip().lower() == "v=spf1 -all"
    if provider:
        notes.append(NOTES["provider"].format(provider=provider.name))
    if not facts.mx:
        notes.append(NOTES["no_mx"].format(domain=domain))

    enforced = bool(dmarc.record) and not dmarc.error and dmarc.policy in ("quarantine", "reject") \
        and dmarc.pct == 100
    spf_bad = True
    if not spf.record and enforced:
        notes.append(NOTES["spf_missing_covered"].format(domain=domain))  # fakes fail DMARC all the same
    elif not spf.record:
        problems.append(PROBLEMS["spf_missing"].format(domain=domain))
    elif spf.error:
        problems.append(PROBLEMS["spf_error"].format(error=spf.error.rstrip(".")))
    elif spf.lookups > SPF_LOOKUP_LIMIT:
        problems.append(PROBLEMS["spf_lookups"].format(n=spf.lookups))
    elif spf.all == "pass":
        problems.append(PROBLEMS["spf_pass"].format(domain=domain))
    elif spf.all in ("neutral", ""):
        problems.append(PROBLEMS["spf_neutral"])
    else:
        spf_bad = False
        notes.append(NOTES["spf_fail" if spf.all == "fail" else "spf_softfail"])

    dmarc_bad = True
    if not dmarc.record:
        problems.append(PROBLEMS["dmarc_missing"])
    elif dmarc.error:
        problems.append(PROBLEMS["dmarc_error"].format(error=dmarc.error.rstrip(".")))
    elif dmarc.policy == "none":
        problems.append(PROBLEMS["dmarc_none"])
    elif dmarc.pct < 100:
        problems.append(PROBLEMS["dmarc_pct"].format(pct=dmarc.pct))
    else:
        dmarc_bad = False
        notes.append(NOTES["dmarc_reject" if dmarc.policy == "reject" else "dmarc_quarantine"])
        if dmarc.subdomain_policy == "none" and dmarc.location == domain:
            problems.append(PROBLEMS["dmarc_sp_none"].format(domain=domain))
            dmarc_bad = True
    if dmarc.record and not dmarc.error:
        if dmarc.location and dmarc.location != domain:
            notes.append(NOTES["dmarc_parent"].format(parent=dmarc.location))
        rua = ", ".join(u.removeprefix("mailto:") for u in dmarc.rua)
        notes.append(NOTES["rua"].format(rua=rua) if rua else NOTES["no_rua"])
        strict = "s" in (dmarc.adkim, dmarc.aspf)
        notes.append(NOTES["strict" if strict else "relaxed"].format(domain=domain))

    dkim_bad = False
    found = [d.selector for d in facts.dkim if d.found]
    if found:
        notes.append(NOTES["dkim_found"].format(selectors=", ".join(found)))
    elif not sends_nothing and facts.dkim and (facts.mx or spf.record):
        if provider and provider.dkim_fixed:
            problems.append(PROBLEMS["dkim_missing"].format(provider=provider.name))
            dkim_bad = True
        else:
            notes.append(NOTES["dkim_unknown"])

    if not facts.mx and not spf.record and not dmarc.record:
        steps.append(Step(STEPS["lock"].format(domain=domain), "v=spf1 -all", domain))
        steps.append(Step("", "v=DMARC1; p=reject", f"_dmarc.{domain}"))
    else:
        if spf_bad and spf.lookups > SPF_LOOKUP_LIMIT and not spf.error:
            steps.append(Step(STEPS["spf_lookups"]))
        elif spf_bad:
            key = "spf_fix" if spf.record else "spf_add"
            steps.append(Step(STEPS[key].format(domain=domain), _spf_record(facts, provider), domain))
            steps.append(Step(STEPS["spf_check"] if provider else STEPS["spf_generic"]))
        if dmarc_bad and dmarc.location in ("", domain):
            key = "dmarc_fix" if dmarc.record else "dmarc_add"
            steps.append(Step(STEPS[key].format(domain=domain), _dmarc_record(facts, report_to), f"_dmarc.{domain}"))
            steps.append(Step(STEPS["dmarc_watch"]))
        if dkim_bad and provider:
            steps.append(Step(provider.dkim_how))
    if steps:
        steps.append(Step(STEPS["where"]))

    if not problems:
        outcome, headline = PROTECTED, HEADLINES[PROTECTED]
    elif dkim_bad and not (spf_bad or dmarc_bad):
        outcome, headline = WEAK, HEADLINES["weak_dkim"]
    else:
        outcome, headline = WEAK, HEADLINES[WEAK]
    return Verdict(domain=domain, outcome=outcome, headline=headline.format(domain=domain), problems=problems,
                   notes=notes, steps=steps, provider=provider.name if provider else "", facts=facts.to_dict(),
                   checked_at=time.time())


def unchecked(domain: str, error: DomainUnreadable) -> Verdict:
    reason = REASONS.get(error.reason, REASONS["servfail"])
    return Verdict(domain=domain, outcome=UNCHECKED, headline=HEADLINES[UNCHECKED].format(domain=domain),
                   problems=[reason], steps=[] if error.reason in ("nxdomain", "invalid") else [Step(STEPS["retry"])],
                   reason=error.reason, detail=error.detail, checked_at=time.time())


def freemail(domain: str) -> Verdict:
    steps = [Step(STEPS[key]) for key in ("free_password", "free_two_step", "free_contacts", "free_own")]
    return Verdict(domain=domain, outcome=FREEMAIL, headline=HEADLINES[FREEMAIL].format(domain=domain),
                   problems=[STEPS["freemail"].format(domain=domain)], steps=steps, checked_at=time.time())


def check(domain: str, resolver: dns.resolver.Resolver, selectors: list[str] | tuple[str, ...] = (),
          report_to: str = "") -> Verdict:
    """Reads and judges one domain. DKIM is looked up under `selectors` (seen in the user's mail) and the
    names the detected provider uses (all known names when the provider is unknown)."""
    name = domain.strip().rstrip(".").rpartition("@")[2].lower()
    if name and is_freemail(name):
        return freemail(name)
    started = time.monotonic()
    try:
        facts = read_domain(name, resolver)
        provider = detect_provider(facts.mx, facts.spf.includes)
        known = provider.dkim if provider else tuple(s for p in providers() for s in p.dkim)
        for selector in dict.fromkeys([*(s.strip().lower() for s in selectors if s.strip()), *known]):
            facts.dkim.append(read_dkim(resolver, facts.domain, selector))
    except DomainUnreadable as exc:
        return unchecked(name or domain, exc)
    facts.seconds = round(time.monotonic() - started, 3)
    return judge(facts, report_to)


def all_texts() -> dict[str, str]:
    """Every sentence this module can show, for the reading-grade test."""
    texts = {f"headline:{k}": v for k, v in HEADLINES.items()}
    for group, table in (("reason", REASONS), ("problem", PROBLEMS), ("note", NOTES), ("step", STEPS)):
        texts.update({f"{group}:{k}": v for k, v in table.items()})
    texts.update({f"provider:{p.id}:dkim_how": p.dkim_how for p in providers()})
    return texts
