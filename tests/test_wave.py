"""A backscatter wave (application/wave.py, store.backscatter_since): three bounces or complaints for mail the
user never sent within a week make one, said once; fewer, older, quarantined, cleared or benign ones do not."""

import json

import pytest

from klezguard.application.wave import MIN_MESSAGES, WINDOW_DAYS, WaveWatch
from klezguard.store.db import Judgement, Store

NOW = 1_800_000_000.0
DAY = 86400.0
BOUNCE = [{"rule": "backscatter.bounce_for_unsent_mail", "category": "backscatter", "score": 3.0}]
REAL_BOUNCE = [{"rule": "backscatter.bounce_for_unsent_mail", "category": "backscatter", "score": 0.0}]
SPOOF = [{"rule": "sender.display_name_spoof", "category": "sender", "score": 4.0}]


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "wave.sqlite3")
    yield s
    s.close()


def put(store: Store, uid: int, when: float | None, findings=BOUNCE, verdict="suspicious", folder="INBOX",
        account="acc", flags="") -> int:
    store.save_judged(account, folder, 1, [Judgement(
        uid, f"<{uid}@x.example>", "Mail Delivery Subsystem", "mailer-daemon@x.example", "Undelivered Mail", when,
        100, flags, verdict, 3.0, "Bounce for mail you never sent", json.dumps(findings), None, "e")])
    row_id = store.row_id(account, folder, 1, uid)
    assert row_id is not None
    return row_id


def test_three_bounces_within_a_week_make_a_wave_said_once(store):
    ids = [put(store, uid, NOW - (uid * DAY)) for uid in (1, 2, 3)]
    watch = WaveWatch()
    wave = watch.check(store, "acc", ["KlezGuard Quarantine"], now=NOW)
    assert wave is not None and wave.count == MIN_MESSAGES == 3
    assert sorted(wave.row_ids) == sorted(ids)
    assert watch.check(store, "acc", ["KlezGuard Quarantine"], now=NOW) is None  # said once
    put(store, 4, NOW)  # one more joins the same wave: not said again
    assert watch.check(store, "acc", ["KlezGuard Quarantine"], now=NOW) is None


def test_a_new_wave_of_its_own_is_said_again_with_everything_still_waiting(store):
    for uid in (1, 2, 3):
        put(store, uid, NOW - DAY)
    watch = WaveWatch()
    assert watch.check(store, "acc", [], now=NOW) is not None
    for uid in (4, 5, 6):
        put(store, uid, NOW)
    again = watch.check(store, "acc", [], now=NOW)
    assert again is not None and again.count == 6


def test_what_was_told_carries_over_to_a_new_watch(store):
    for uid in (1, 2, 3):
        put(store, uid, NOW)
    first = WaveWatch()
    assert first.check(store, "acc", [], now=NOW) is not None
    assert WaveWatch(first.told).check(store, "acc", [], now=NOW) is None


def test_two_bounces_are_no_wave(store):
    put(store, 1, NOW)
    put(store, 2, NOW - DAY)
    assert WaveWatch().check(store, "acc", [], now=NOW) is None


def test_bounces_spread_over_more_than_the_window_are_no_wave(store):
    put(store, 1, NOW)
    put(store, 2, NOW - DAY)
    put(store, 3, NOW - (WINDOW_DAYS + 1) * DAY)
    assert WaveWatch().check(store, "acc", [], now=NOW) is None


def test_undated_bounces_count_by_when_they_were_scanned(store):
    import time

    for uid in (1, 2, 3):
        put(store, uid, None)
    assert WaveWatch().check(store, "acc", [], now=time.time()) is not None


@pytest.mark.parametrize("benign", [
    dict(findings=REAL_BOUNCE, verdict="clean"),  # a bounce for mail the user did send
    dict(findings=SPOOF),  # flagged, but not backscatter
    dict(folder="KlezGuard Quarantine"),  # already in quarantine
    dict(account="other"),  # another account's
    dict(flags="\\Seen \\Deleted"),  # deleted in a mail program already
])
def test_what_is_not_part_of_a_wave(store, benign):
    put(store, 1, NOW)
    put(store, 2, NOW)
    put(store, 3, NOW, **benign)
    assert WaveWatch().check(store, "acc", ["KlezGuard Quarantine"], now=NOW) is None


def test_a_bounce_the_user_cleared_is_no_part_of_a_wave(store):
    put(store, 1, NOW)
    put(store, 2, NOW)
    store.clear([put(store, 3, NOW)], "not a threat")
    assert WaveWatch().check(store, "acc", [], now=NOW) is None


def test_threat_verdicts_and_other_findings_beside_it_still_count(store):
    put(store, 1, NOW, findings=[*SPOOF, *BOUNCE], verdict="threat")
    put(store, 2, NOW)
    put(store, 3, NOW)
    wave = WaveWatch().check(store, "acc", [], now=NOW)
    assert wave is not None and wave.account == "acc"
