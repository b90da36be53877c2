"""The "Your domain" page in the app: opened from the toolbar action, from a backscatter finding's button and
from a notice about backscatter; the check runs off the GUI thread against a real DNS server (dnsmasq),
shows the verdict and the records to add, and the background check runs at most once a day."""

import threading

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import QApplication, QPushButton, QToolBar

from klezguard.application import domain as domain_use
from klezguard.application.domain import DomainMemory
from klezguard.core.domainadvice import PROTECTED, UNCHECKED, WEAK
from klezguard.gui.domainpage import DomainDialog, DomainWatch
from klezguard.gui.tray import Notice, describe
from tests.gui.conftest import select_subject


@pytest.fixture
def laptop(demo_window, dns_server):
    """The demo window at 1366x768 (its panel taken off), asking the test DNS server."""
    demo_window.resize(1366 - 24, 768 - 48)
    demo_window.domain_nameserver = dns_server.address
    return demo_window


@pytest.fixture
def threads(monkeypatch):
    """Records the thread each check ran on: never the GUI thread."""
    seen = []
    real = domain_use.check_domain

    def recording(*args, **kwargs):
        seen.append(threading.current_thread() is threading.main_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr(domain_use, "check_domain", recording)  # the page's checks and the background's
    return seen


def open_page(qtbot, window) -> DomainDialog:
    qtbot.waitUntil(lambda: isinstance(getattr(window, "domain_dialog", None), DomainDialog)
                    and window.domain_dialog.isVisible(), timeout=3000)
    return window.domain_dialog


def shown_text(qtbot, page: DomainDialog) -> str:
    qtbot.wait(50)  # new labels are shown by the event loop
    return " ".join(w.text() for w in page.body.findChildren(type(page.headline)) if not w.isHidden())


def check(qtbot, page: DomainDialog, domain: str):
    page.domain_box.setCurrentText(domain)
    with qtbot.waitSignal(page.checked, timeout=10000) as blocker:
        qtbot.mouseClick(page.check_button, Qt.MouseButton.LeftButton)
    return blocker.args[0]


def test_the_toolbar_action_opens_the_page_and_it_checks_in_the_background(qtbot, laptop, threads):
    toolbar = laptop.findChild(QToolBar, "actions")
    assert toolbar.widgetForAction(laptop.domain_action).isVisible()  # on the bar, not in its overflow menu
    laptop.domain_action.trigger()
    page = open_page(qtbot, laptop)
    # The demo's own domain is not in the test DNS: opening the page checks at once and says it plainly
    qtbot.waitUntil(lambda: page.verdict is not None, timeout=10000)
    assert page.domain == "brightwater-bakery.com"
    assert page.verdict.outcome == UNCHECKED
    verdict = check(qtbot, page, "nospf.test")
    assert verdict.outcome == WEAK
    assert page.headline.text().startswith("Anyone can send mail that looks like it comes from nospf.test")
    records = [f.text() for f in page.record_fields]
    assert "v=spf1 mx ~all" in records
    assert any(r.startswith("v=DMARC1; p=quarantine") for r in records)
    qtbot.mouseClick(page.copy_buttons[0], Qt.MouseButton.LeftButton)
    assert QApplication.clipboard().text() == page.record_fields[0].text()
    assert threads and not any(threads)  # every check ran off the GUI thread
    # it fits the laptop's screen, and its first lines are in view
    assert page.width() <= 1366 and page.height() <= 728
    qtbot.wait(50)  # new labels are laid out by the event loop
    corner = page.headline.mapTo(page, page.headline.rect().bottomRight())
    assert corner.y() <= page.height(), (corner, page.result_area.geometry(), page.body.geometry())
    page.close()


def test_protected_and_unreachable_answers_on_the_page(qtbot, laptop):
    laptop.domain_action.trigger()
    page = open_page(qtbot, laptop)
    qtbot.waitUntil(lambda: page.verdict is not None, timeout=10000)
    verdict = check(qtbot, page, "reject.test")
    assert verdict.outcome == PROTECTED
    assert page.headline.text() == "Mail servers can spot fakes from reject.test and turn them away."
    assert page.record_fields == []
    verdict = check(qtbot, page, "missing.test")
    assert verdict.outcome == UNCHECKED
    shown = shown_text(qtbot, page)
    assert "This domain does not exist" in shown
    page.close()


def test_a_backscatter_finding_links_to_the_page(qtbot, laptop):
    select_subject(qtbot, laptop, "Undelivered Mail Returned to Sender")
    buttons = [v.domain_button for v in laptop.detail.finding_views if v.domain_button is not None]
    assert buttons, "the backscatter finding has no 'check your domain' button"
    qtbot.mouseClick(buttons[0], Qt.MouseButton.LeftButton)
    page = open_page(qtbot, laptop)
    assert page.domain == "brightwater-bakery.com"
    page.close()
    # other findings have no such button
    select_subject(qtbot, laptop, "DHL: your parcel is on hold")
    assert all(v.domain_button is None for v in laptop.detail.finding_views)


def test_the_backscatter_notice_offers_the_page(qtbot, laptop):
    # the demo scan's notice (its findings include backscatter) is marked so
    qtbot.waitUntil(lambda: bool(laptop.notifier.shown), timeout=5000)
    assert any(n.backscatter for n in laptop.notifier.shown)
    laptop.show_notice(Notice("KlezGuard", "Bounce for mail you never sent", [], "suspicious", backscatter=True),
                       lambda: None)
    assert laptop.notice_domain.isVisible()
    qtbot.mouseClick(laptop.notice_domain, Qt.MouseButton.LeftButton)
    page = open_page(qtbot, laptop)
    assert not laptop.notice_bar.isVisible()
    page.close()
    laptop.show_notice(Notice("KlezGuard", "Suspicious message", [], "suspicious"), lambda: None)
    assert not laptop.notice_domain.isVisible()  # only notices about backscatter offer it


def test_describe_marks_backscatter_notices():
    """describe() gets what a scan found: a notice with a backscatter finding among them offers the page."""
    from types import SimpleNamespace

    finding = SimpleNamespace(category="backscatter", score=2.0, title="Bounce for mail you never sent")
    other = SimpleNamespace(category="attachment", score=3.0, title="Disguised program")
    message = SimpleNamespace(from_display="MAILER-DAEMON", from_addr=None, subject="Undelivered Mail")

    def scanned(*findings):
        return SimpleNamespace(result=SimpleNamespace(verdict="suspicious", findings=list(findings), score=2.0),
                               message=message)

    assert describe("Shop", [(1, scanned(finding))]).backscatter
    assert not describe("Shop", [(1, scanned(other))]).backscatter
    assert describe("Shop", [(1, scanned(other)), (2, scanned(finding))]).backscatter


def test_the_background_check_runs_at_most_daily(qtbot, dns_server, threads):
    memory = DomainMemory()
    watch = DomainWatch(lambda: [("reject.test", "anna@reject.test"), ("nospf.test", "")], memory,
                        dns_server.address, first_ms=0)
    with qtbot.waitSignal(watch.weak, timeout=10000) as weak:
        pass
    assert [v.domain for v in weak.args[0]] == ["nospf.test"]
    assert memory.last("reject.test").outcome == PROTECTED
    checks = len(threads)
    assert checks == 2 and not any(threads)
    watch.run()  # the hourly timer again: both answers are fresh, so nothing is asked
    qtbot.wait(200)
    assert len(threads) == checks and watch._pending is None
    # a day later both are checked again
    for domain in ("reject.test", "nospf.test"):
        data = memory.settings.values[domain]
        data["checked_at"] -= 24 * 3600 + 1
        memory.settings.set(domain, data)
    with qtbot.waitSignal(watch.done, timeout=10000) as done:
        watch.run()
    assert len(done.args[0]) == 2 and len(threads) == checks + 2
    watch.timer.stop()


def test_opening_the_page_shows_the_last_answer_and_checks_again(qtbot, laptop, threads):
    laptop.domain_action.trigger()
    page = open_page(qtbot, laptop)
    qtbot.waitUntil(lambda: page.verdict is not None, timeout=10000)
    check(qtbot, page, "gsuite.test")
    page.close()
    before = len(threads)
    laptop.show_domain("gsuite.test")
    page = laptop.domain_dialog
    # the last answer, at once (before the event loop runs: the new check may come back within milliseconds)
    assert page.verdict is not None and page.verdict.domain == "gsuite.test"
    assert "This is the last answer" in " ".join(w.text() for w in page.body.findChildren(type(page.headline)))
    with qtbot.waitSignal(page.checked, timeout=10000):
        pass
    assert len(threads) == before + 1  # and it was checked again
    assert isinstance(page.check_button, QPushButton) and page.check_button.isEnabled()
    assert QRect(0, 0, 1366, 728).contains(QRect(0, 0, page.width(), page.height()))
    page.close()
