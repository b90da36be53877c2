"""Trusting a sender ("not a threat") and taking it back, as the use case runs them: a trust holds for every
account (each judged again with its own context), and untrusting brings the findings back."""

import shutil

from klezguard.application.local import context_of, scan_mailbox
from klezguard.application.rejudge import rejudge_stale
from klezguard.application.trust import not_a_threat, trusted, untrust
from klezguard.cli import main
from klezguard.mail.local import LocalMailbox, LocalSource, demo_source
from klezguard.store.db import Store, default_path


def two_mailboxes(tmp_path, store):
    """The demo mailbox twice, as two accounts that both get mail from the same senders."""
    demo = demo_source()
    boxes = []
    for n in range(2):
        shutil.copytree(demo.inbox[0], tmp_path / f"inbox{n}")
        source = LocalSource(f"Box {n}", [str(tmp_path / f"inbox{n}")], demo.sent, demo.own_domains,
                             demo.trusted_authserv, demo.owner)
        box = LocalMailbox(source, store, root=tmp_path / f"copy{n}")
        scan_mailbox(box, store)
        boxes.append(box)
    return boxes


def trustable(store, box):
    """A flagged message whose sender the provider confirmed (trusting it clears the message)."""
    for row in store.messages(account=box.key):
        if row.verdict == "threat" and row.subject.startswith("Overdue: invoice MF-10517"):
            return row
    raise AssertionError([(r.subject, r.verdict) for r in store.messages(account=box.key)])


def test_a_trust_clears_that_sender_in_every_account_and_untrust_brings_it_back(tmp_path):
    store = Store(tmp_path / "s.sqlite3")
    a, b = two_mailboxes(tmp_path, store)
    row = trustable(store, a)
    twin = next(r for r in store.messages(account=b.key) if r.message_id == row.message_id)
    assert twin.verdict == row.verdict != "clean"
    outcome = not_a_threat(store, a.key, context_of(a, store), [row.id])
    assert outcome.senders and not outcome.cleared
    assert store.message(row.id).verdict == "clean"  # at once in the account where the user clicked
    assert rejudge_stale(store, b.key, context_of(b, store)) >= 1  # the other account's next re-judging
    assert store.message(twin.id).verdict == "clean"
    address, domain = outcome.senders[0]
    assert [(t[0], t[1]) for t in trusted(store)] == [(address, domain)]

    assert untrust(store, address, domain)
    for box in (a, b):
        rejudge_stale(store, box.key, context_of(box, store))
    assert store.message(row.id).verdict == row.verdict and store.message(twin.id).verdict == row.verdict
    assert not untrust(store, address, domain)  # not trusted any more


def test_trust_list_and_remove_on_the_command_line(capsys):
    store = Store(default_path())
    store.trust("Billing@Millstone.example", "millstone.example")
    store.close()
    assert main(["trust", "list"]) == 0
    assert "billing@millstone.example\tmillstone.example" in capsys.readouterr().out
    assert main(["trust", "remove", "billing@millstone.example"]) == 0
    assert "No longer trusted" in capsys.readouterr().out
    assert main(["trust", "remove", "billing@millstone.example"]) == 2
    assert main(["trust", "list"]) == 0
    assert "not trusted any sender" in capsys.readouterr().out


def test_a_rejudging_begun_under_a_trust_does_not_overwrite_its_taking_back(tmp_path, monkeypatch):
    """The worker judges the other account again under the trust while the user takes the trust back: the
    verdict judged under the old trust must not be stored as current, or the message stays cleared."""
    import klezguard.application.rejudge as rejudge

    store = Store(tmp_path / "s.sqlite3")
    a, b = two_mailboxes(tmp_path, store)
    row = trustable(store, a)
    twin = next(r for r in store.messages(account=b.key) if r.message_id == row.message_id)
    outcome = not_a_threat(store, a.key, context_of(a, store), [row.id])
    address, domain = outcome.senders[0]
    judged_under_trust = rejudge._judged_again
    taken_back = []

    def judge_then_untrust(*args, **kw):
        result = judged_under_trust(*args, **kw)
        if not taken_back:  # the user clicks "Stop trusting" while this judgement runs
            taken_back.append(untrust(store, address, domain))
        return result

    monkeypatch.setattr(rejudge, "_judged_again", judge_then_untrust)
    rejudge_stale(store, b.key, context_of(b, store))  # context built while trusted: judges it clean
    monkeypatch.setattr(rejudge, "_judged_again", judged_under_trust)
    assert taken_back == [True]
    assert store.message(twin.id).verdict == row.verdict != "clean"  # the judgement under the trust was dropped
    rejudge_stale(store, b.key, context_of(b, store))  # and the row is still stale: judged again without it
    assert store.message(twin.id).verdict == row.verdict


def test_a_rejudging_whose_context_was_built_under_a_trust_reads_the_trust_again(tmp_path):
    """The other order: the worker builds its context while the sender is trusted, the user takes the trust
    back (which marks the rows stale again), and only then does the worker read the stale rows. Judged with
    the old context, the row would be stored clean, its new mark matched, and nothing left to correct it."""
    store = Store(tmp_path / "s.sqlite3")
    a, b = two_mailboxes(tmp_path, store)
    row = trustable(store, a)
    twin = next(r for r in store.messages(account=b.key) if r.message_id == row.message_id)
    outcome = not_a_threat(store, a.key, context_of(a, store), [row.id])
    address, domain = outcome.senders[0]
    built_under_trust = context_of(b, store)
    assert untrust(store, address, domain)
    rejudge_stale(store, b.key, built_under_trust)
    assert store.message(twin.id).verdict == row.verdict != "clean"
