"""Local mail sources: .eml, folders, mbox (as path#N) and Maildir; unreadable paths are reported."""

import mailbox

from klezguard.core.sources import SourceError, read_mail

MSG = b"From: a@b.example\nSubject: s%d\n\nbody\n"


def test_eml_folder_mbox_and_maildir(tmp_path):
    (tmp_path / "one.eml").write_bytes(MSG % 1)
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "two.eml").write_bytes(MSG % 2)
    (sub / "notes.txt").write_text("not mail")
    box = mailbox.mbox(tmp_path / "archive.mbox")
    box.add(MSG % 3)
    box.add(MSG % 4)
    box.close()
    md = mailbox.Maildir(tmp_path / "Maildir")
    md.add(MSG % 5)
    found = dict(read_mail([str(tmp_path)]))
    names = sorted(k.replace(str(tmp_path), "") for k in found)
    assert "/one.eml" in names and "/sub/two.eml" in names
    assert "/archive.mbox#1" in names and "/archive.mbox#2" in names
    assert sum(1 for n in names if n.startswith("/Maildir/new/")) == 1
    assert not any("notes.txt" in n for n in names)
    assert found[str(tmp_path / "archive.mbox") + "#2"].startswith(b"From: a@b.example")


def test_missing_path_is_an_error_and_others_still_read(tmp_path):
    (tmp_path / "ok.eml").write_bytes(MSG % 1)
    items = list(read_mail([str(tmp_path / "missing.eml"), str(tmp_path / "ok.eml")]))
    assert isinstance(items[0], SourceError) and "No such file" in items[0].reason
    assert items[1][0].endswith("ok.eml")
