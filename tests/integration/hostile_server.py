"""A small IMAP server on 127.0.0.1 that misbehaves on purpose, for the tests only.

Dovecot will not answer slowly, hugely or wrongly when asked to; this one does, per message: a
BODYSTRUCTURE that cannot be parsed, an answer dripped a byte at a time, a literal announced as
999,999,999 bytes. Everything else it answers as a plain, read-only IMAP4rev1 server with one folder.
"""

import re
import socket
import threading
import time

from tests.mailfactory import build

STRUCTURE = b'("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" %d 1 NIL NIL NIL NIL)'


class HostileServer:
    def __init__(self, count: int = 6, behaviour: dict[int, str] | None = None, drip: float = 0.5):
        """`behaviour`: UID -> 'malformed' | 'drip' | 'huge'; other messages are answered properly."""
        self.messages = {uid: build(subject=f"Message {uid}", message_id=f"<m{uid}@hostile.example>")
                         for uid in range(1, count + 1)}
        self.behaviour = behaviour or {}
        self.drip = drip
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.port = self.listener.getsockname()[1]
        self.commands: list[str] = []
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self._stop = True
        self.listener.close()

    def _accept(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        reader = conn.makefile("rb")
        try:
            conn.sendall(b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN UIDPLUS] hostile test server ready\r\n")
            while True:
                line = reader.readline()
                if not line:
                    return
                tag, _, rest = line.decode("ascii", "replace").strip().partition(" ")
                self.commands.append(rest)
                if not self._answer(conn, tag, rest):
                    return
        except OSError:
            return
        finally:
            conn.close()

    def _answer(self, conn: socket.socket, tag: str, command: str) -> bool:
        word = command.split(" ", 1)[0].upper()
        send = conn.sendall
        if word == "CAPABILITY":
            send(b"* CAPABILITY IMAP4rev1 AUTH=PLAIN UIDPLUS\r\n")
        elif word == "LOGIN":
            pass
        elif word == "LOGOUT":
            send(b"* BYE\r\n" + tag.encode() + b" OK bye\r\n")
            return False
        elif word in ("SELECT", "EXAMINE"):
            send(b"* %d EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\n* OK [UIDNEXT %d] ok\r\n"
                 % (len(self.messages), max(self.messages) + 1))
        elif word in ("LIST", "LSUB"):
            send(b'* LIST () "/" INBOX\r\n')
        elif word == "NOOP" or word == "ENABLE":
            pass
        elif word == "UID" and " SEARCH" in command.upper():
            send(b"* SEARCH " + " ".join(str(uid) for uid in self.messages).encode() + b"\r\n")
        elif word == "UID" and " FETCH" in command.upper():
            self._fetch(conn, command)
        else:
            send(tag.encode() + b" BAD unknown\r\n")
            return True
        send(tag.encode() + b" OK done\r\n")
        return True

    def _uids(self, spec: str) -> list[int]:
        found = []
        for piece in spec.split(","):
            low, _, high = piece.partition(":")
            top = max(self.messages) if high == "*" else int(high or low)
            found.extend(uid for uid in range(int(low), top + 1) if uid in self.messages)
        return found

    def _fetch(self, conn: socket.socket, command: str) -> None:
        _uid, _fetch, spec, items = command.split(" ", 3)
        wants_head = "BODYSTRUCTURE" in items.upper()
        part = re.search(r"BODY\.PEEK\[1\]<0\.(\d+)>", items, re.I)
        for n, uid in enumerate(self._uids(spec), 1):
            raw = self.messages[uid]
            head, _, body = raw.partition(b"\n\n")
            head += b"\n\n"
            size = len(raw)
            if wants_head:
                behaviour = self.behaviour.get(uid, "")
                if behaviour == "huge":
                    conn.sendall(b"* %d FETCH (UID %d BODY[HEADER] {999999999}\r\n" % (n, uid) + head)
                    continue
                structure = b'(("TEXT" "PLAIN" ((( NIL' if behaviour == "malformed" else STRUCTURE % len(body)
                answer = (b"* %d FETCH (UID %d BODY[HEADER] {%d}\r\n" % (n, uid, len(head)) + head
                          + b" BODYSTRUCTURE " + structure + b" RFC822.SIZE %d FLAGS () " % size
                          + b'INTERNALDATE "04-Dec-2026 10:00:00 +0000")\r\n')
                if behaviour == "drip":
                    for byte in answer:
                        conn.sendall(bytes([byte]))
                        time.sleep(self.drip)
                else:
                    conn.sendall(answer)
            elif part:
                data = body[: int(part.group(1))]
                conn.sendall(b"* %d FETCH (UID %d BODY[1]<0> {%d}\r\n" % (n, uid, len(data)) + data + b")\r\n")
            else:
                conn.sendall(b"* %d FETCH (UID %d RFC822.SIZE %d)\r\n" % (n, uid, size))
