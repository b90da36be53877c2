"""A mail that moves payments to new bank details: always the advice to phone first; a warning only where the
provider could not confirm the sender or the mail tries to stop the call. Invoices and bank statements that
merely show an IBAN are nothing."""

import pytest

from tests.mailfactory import auth, build, check, context

SUPPLIER = "Moinhos Serra <contas@moinhos-serra.example.pt>"
CONFIRMED = [("Authentication-Results", auth(domain="moinhos-serra.example.pt"))]


def _finding(result):
    return next((f for f in result.findings if f.rule == "sender.payment_details_changed"), None)


@pytest.mark.parametrize(
    "body",
    [
        "Please note that our bank details have changed. From today please pay all invoices to IBAN "
        "LT42 3250 0736 4417 9820.",
        "Bitte beachten Sie unsere neue Bankverbindung: IBAN LT42 3250 0736 4417 9820.",
        "Veuillez noter nos nouvelles coordonnées bancaires pour les prochains paiements.",
        "Le informamos de nuestra nueva cuenta bancaria para los próximos pagos.",
        "Vi comunichiamo le nuove coordinate bancarie per i prossimi pagamenti.",
        "Graag maken wij u attent op ons nieuwe rekeningnummer voor toekomstige betalingen.",
        "Informujemy, że zmienił się nasz nowy numer konta do przelewów.",
        "Informamos que a empresa mudou de banco. Os pagamentos devem ser feitos para o novo IBAN.",
    ],
)
def test_new_bank_details_from_an_unconfirmed_sender_are_a_warning_with_the_phone_advice(body):
    result = check(build(from_=SUPPLIER, subject="Invoice 118", body=body + "\n"))
    found = _finding(result)
    assert found is not None and found.severity in ("medium", "high") and result.flagged
    assert "Phone" in found.advice and "number you already have" in found.advice


def test_a_confirmed_sender_gets_the_advice_but_no_alarm():
    raw = build(from_=SUPPLIER, subject="New bank details", headers=CONFIRMED,
                body="Our bank details have changed: please use IBAN PT50 0002 0123 1234 5678 9015 4 from May.\n")
    result = check(raw)
    found = _finding(result)
    assert found is not None and found.severity == "low" and not result.flagged
    assert "Phone" in found.advice


def test_asking_you_not_to_call_is_the_tell():
    raw = build(from_=SUPPLIER, subject="Alteração de dados bancários", headers=CONFIRMED,
                body="Mudámos de banco. Novo IBAN: LT42 3250 0736 4417 9820. Pedimos que não ligue para o "
                     "escritório porque as linhas estão em manutenção.\n")
    found = _finding(check(raw))
    assert found.severity == "high" and "not to phone" in found.explanation
    assert "another country (LT)" in found.explanation


def test_a_supplier_you_pay_faked_without_confirmation_is_high():
    sent = [build(from_="Owner <owner@harbour-test.example>", to=SUPPLIER, subject="Order")]
    raw = build(from_=SUPPLIER, subject="Updated payment details",
                body="Please note our updated bank details for the next invoice.\n")
    assert _finding(check(raw, context(sent=sent))).severity == "high"


@pytest.mark.parametrize(
    "body",
    [
        "Please find attached invoice 2026/118. Payment to IBAN PT50 0002 0123 1234 5678 9015 4 within 30 days.",
        "Your monthly statement is ready. Your account number and bank details are unchanged.",
        "Thanks for the new order! We changed our opening hours: from May we open at 7.",
        "Reminder: the bank holiday on Monday means deliveries move to Tuesday.",
    ],
)
def test_an_invoice_or_a_statement_showing_bank_details_is_nothing(body):
    assert _finding(check(build(from_=SUPPLIER, subject="Invoice", body=body + "\n"))) is None


def test_a_mailing_list_discussing_bank_changes_is_nothing():
    raw = build(from_=SUPPLIER, subject="[smallbiz] switching banks",
                body="We changed our bank last year and new bank details went out to all clients. Any tips?\n",
                headers=[("List-Id", "<smallbiz.lists.example>")])
    assert _finding(check(raw)) is None


def test_paying_into_an_account_abroad_is_the_other_form():
    raw = build(from_="Katarzyna <export@sklejka.example.pl>", subject="RE: order - payment details",
                body="Due to an audit of our Polish bank account, payments in EUR must be made to our euro account:\n"
                     "IBAN: GB84 REVO 0099 6912 3456 78\n")
    found = _finding(check(raw))
    assert found is not None and found.severity in ("medium", "high") and "another country (GB)" in found.explanation


def test_an_invoice_footer_with_the_senders_own_country_account_is_nothing():
    raw = build(from_="Biuro <biuro@sklejka.example.pl>", subject="Faktura 04/2026",
                body="Payment should be made to the following account: IBAN PL61 1090 1014 0000 0712 1981 2874\n")
    assert _finding(check(raw)) is None
