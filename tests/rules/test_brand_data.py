"""The bundled brand list (data/brands.json): well-formed entries, registrable domains only, no label so
short or ordinary that it is watched everywhere, a source for every national entry; and, for some of the
national brands, that a look-alike of their domain is caught while their real domains stay quiet."""

import json
import re
from importlib import resources

import pytest

from klezguard.core import lookalike
from klezguard.core.domains import org_domain
from klezguard.core.limits import valid_host
from tests.mailfactory import build, check, context

DATA = json.loads(resources.files("klezguard.data").joinpath("brands.json").read_text("utf-8"))
ENTRIES = DATA["brands"]
NATIONAL = [e for e in ENTRIES if "countries" in e]

# Brands that share a registrable domain on purpose: one firm's brands, or a group's common site.
SHARED = [
    {"PayPal", "Venmo"},
    {"Walmart", "Sam's Club"},
    {"Meta", "Instagram", "WhatsApp"},
    {"Microsoft", "LinkedIn"},
    {"Norton", "Avast"},
    {"Deutsche Bank", "Postbank"},
    {"Lloyds Bank", "Halifax"},
    {"HMRC", "GOV.UK", "DVLA"},
    {"Virgin Media", "O2"},
    {"Yahoo", "AOL"},
    {"Sparkasse", "Erste Bank"},  # sparkasse.at: Erste Bank und Sparkassen
    {"Volksbank", "Raiffeisen"},  # vr.de: Volksbanken Raiffeisenbanken
]
# Listed before labels of four letters or fewer were kept out of "watch"; no new ones.
LEGACY_SHORT_WATCH = {"ebay", "hsbc", "itau", "dhl", "usps", "evri", "hmrc", "dvla", "irs"}
# A sub-domain is compared by its registrable domain, so listing one vouches for every name under that
# domain: only where the whole registrable domain is the brand's (or its government's).
WIDER = {
    "fed.be",  # the Belgian federal government's domain; FPS Finance mails from minfin.fed.be
    # (never a host on a site that gives anyone a sub-domain: coinbase.zendesk.com would vouch for every help
    # desk on zendesk.com, amazon.com.be for every name under com.be, which is no public suffix)
}
# A national entry lists registrable domains, except a sub-domain that is how the body is known.
NATIONAL_SUBDOMAINS = {"dgfip.finances.gouv.fr", "minfin.fed.be"}
REQUIRED = "PL DE FR ES IT NL PT BE AT IE CZ SE DK FI GR RO CH".split()


def name_of(entry):
    return entry["name"]


def test_the_loader_reads_every_entry_and_ignores_the_documentation_fields():
    loaded = lookalike.brands()
    assert [b.name for b in loaded] == [e["name"] for e in ENTRIES]
    assert "countries" in DATA["about"] and "source" in DATA["about"]


def test_every_brand_has_a_name_a_sector_and_a_domain():
    sectors = set(lookalike.SECTOR_WORDS)
    for entry in ENTRIES:
        assert entry.get("name", "").strip(), entry
        assert entry.get("domains"), entry["name"]
        assert entry.get("sector") in sectors, (entry["name"], entry.get("sector"))
        assert entry.get("aliases"), entry["name"]


def test_no_duplicate_names():
    names = [e["name"].casefold() for e in ENTRIES]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)


def test_no_duplicate_values_in_a_list():
    for entry in ENTRIES:
        for key in ("aliases", "domains", "watch", "weak", "ambiguous", "countries"):
            values = entry.get(key, [])
            assert len(values) == len(set(values)), (entry["name"], key)


@pytest.mark.parametrize("entry", ENTRIES, ids=name_of)
def test_domains_are_proper_domains_under_a_registrable_one(entry):
    for domain in entry["domains"]:
        assert domain == domain.lower().strip() and valid_host(domain) and "." in domain, domain
        org = org_domain(domain)
        assert org and (domain == org or domain.endswith("." + org)), (domain, org)
        if domain != org:
            listed = {org_domain(d) for d in entry["domains"] if org_domain(d) == d}
            assert org in listed or org in WIDER, f"{domain} would vouch for all of {org}"


@pytest.mark.parametrize("entry", NATIONAL, ids=name_of)
def test_national_entries_list_registrable_domains(entry):
    for domain in entry["domains"]:
        assert org_domain(domain) == domain or domain in NATIONAL_SUBDOMAINS, domain


def test_no_registrable_domain_belongs_to_two_unrelated_brands():
    owners: dict[str, set[str]] = {}
    for entry in ENTRIES:
        for domain in entry["domains"]:
            owners.setdefault(org_domain(domain), set()).add(entry["name"])
    for org, names in owners.items():
        if len(names) > 1:
            assert any(names <= group for group in SHARED), (org, sorted(names))


def test_no_short_watch_label():
    for entry in ENTRIES:
        for label in entry.get("watch", []):
            assert len(label) > 4 or label in LEGACY_SHORT_WATCH, (entry["name"], label)
    for entry in NATIONAL:
        assert all(len(label) > 4 for label in entry.get("watch", [])), entry["name"]


def test_a_label_is_watch_or_weak_not_both():
    for entry in ENTRIES:
        assert not set(entry.get("watch", [])) & set(entry.get("weak", [])), entry["name"]


@pytest.mark.parametrize("entry", NATIONAL, ids=name_of)
def test_national_entries_have_a_source_and_countries(entry):
    assert re.fullmatch(r"https://[a-z0-9.-]+\.[a-z]{2,}(/\S*)?", entry.get("source", "")), entry["name"]
    host = re.match(r"https://([^/]+)", entry["source"]).group(1)
    assert org_domain(host) in {org_domain(d) for d in entry["domains"]} | {"group.bnpparibas"}, host
    assert entry["countries"] and all(re.fullmatch(r"[A-Z]{2}", c) for c in entry["countries"]), entry["name"]


@pytest.mark.parametrize("entry", NATIONAL, ids=name_of)
def test_national_watch_and_weak_labels_are_names_of_its_domains(entry):
    labels = {lookalike._label_of(org_domain(d)) for d in entry["domains"]}
    labels |= {re.sub(r"[^a-z0-9]", "", a.lower()) for a in entry.get("aliases", [])}  # a product: PosteID
    for label in entry.get("watch", []) + entry.get("weak", []):
        assert label in labels, (entry["name"], label)


def test_ambiguous_aliases_are_aliases():
    for entry in ENTRIES:
        assert set(entry.get("ambiguous", [])) <= set(entry["aliases"]), entry["name"]


@pytest.mark.parametrize("country", REQUIRED)
def test_each_country_has_its_banks_post_and_tax_office(country):
    here = [e for e in NATIONAL if country in e["countries"]]
    sectors = [e["sector"] for e in here]
    assert sectors.count("bank") >= 3, (country, [e["name"] for e in here])
    assert "parcel" in sectors and "gov" in sectors, (country, sectors)


# --- behaviour ----------------------------------------------------------------------------------------
KNOWN = lookalike.for_context(context())


@pytest.mark.parametrize(
    ("domain", "brand"),
    [
        ("pkobp-id-support.com", "PKO Bank Polski"),
        ("rnillenniumbcp.pt", "Millennium bcp"),
        ("belastingdienst-id-support.com", "Belastingdienst"),
        ("digid-id-support.com", "DigiD"),
        ("bizum-id-support.com", "Bizum"),
        ("rnbway.pt", "MB Way"),
        ("rnitid.dk", "MitID"),
        ("twint-id-support.ch", "TWINT"),
        ("skatteverket-id-support.com", "Skatteverket"),
        ("agenziaentrate-id-support.com", "Agenzia delle Entrate"),
        ("agenciatributaria-id-support.com", "Agencia Tributaria"),
        ("danskebank-id-support.com", "Danske Bank"),
        ("postnord-id-support.com", "PostNord"),
        ("satispay-id-support.com", "Satispay"),
        ("franceconnect-id-support.com", "FranceConnect"),
        ("raiffeisen-id-support.com", "Raiffeisen"),
        ("bancatransilvania-id-support.com", "Banca Transilvania"),
        ("blik-id-support.com", "BLIK"),  # an ordinary word: only with service words
        ("intesasanpaoIo.com", "Intesa Sanpaolo"),
        ("pkobp.pl.secure-login.top", "PKO Bank Polski"),
    ],
)
def test_look_alikes_of_national_brands_are_caught(domain, brand):
    match = KNOWN.check(domain)
    assert match is not None and match.brand == brand, match


@pytest.mark.parametrize(
    "domain",
    [
        "pkobp.pl", "www.ipko.pl", "millenniumbcp.pt", "belastingdienst.nl", "mijn.digid.nl", "bizum.es", "mbway.pt",
        "mitid.dk", "twint.ch", "skatteverket.se", "agenziaentrate.gov.it", "sede.agenciatributaria.gob.es",
        "danskebank.fi", "postnord.se", "login.gov.pl", "franceconnect.gouv.fr", "raiffeisen.ro", "blik.com",
        "intesasanpaolo.com", "posta-romana.ro", "e-boks.dk", "s-pankki.fi",
    ],
)
def test_real_domains_of_national_brands_are_not_look_alikes(domain):
    assert KNOWN.check(domain) is None and KNOWN.brand_in_host(domain) is None


@pytest.mark.parametrize("domain", ["allegro-music.com", "swish-golf.se", "posti-hotel.it", "subito-pizza.it"])
def test_ordinary_words_without_service_words_stay_quiet(domain):
    assert KNOWN.check(domain) is None


@pytest.mark.parametrize(
    ("name", "brand"),
    [
        ("PKO Bank Polski", "PKO Bank Polski"),
        ("Agencia Tributaria", "Agencia Tributaria"),
        ("Caixa Geral de Depósitos", "Caixa Geral de Depósitos"),
        ("Allegro Konto", "Allegro"),
        ("Swish Säkerhet", None),
        ("Allegro", None),
        ("Post Office", None),
        ("Revenue Team", None),
        ("George", None),
    ],
)
def test_display_names(name, brand):
    claim = lookalike.brand_in_name(name)
    assert (claim.brand.name if claim else None) == brand


def test_lookalike_senders_of_a_national_bank_are_flagged():
    result = check(build(from_="PKO Bank Polski <powiadomienia@pkobp-id-support.com>"))
    assert any(f.rule == "sender.lookalike_domain" and f.severity in ("medium", "high") for f in result.findings)
    result = check(build(from_="Millennium bcp <alertas@rnillenniumbcp.pt>"))
    assert any(f.rule == "sender.lookalike_domain" and f.severity == "high" for f in result.findings)


def test_the_national_bank_itself_is_no_lookalike():
    result = check(build(from_="PKO Bank Polski <powiadomienia@pkobp.pl>"))
    assert not {f.rule for f in result.findings} & {"sender.lookalike_domain", "sender.brand_impersonation"}
