"""A TCP relay on 127.0.0.1 between an IMAP client and the server that can cut the connection
just before a chosen client command reaches the server, or just after the server has carried it out
(dropping its answer), to prove that no step of a move or restore can lose mail. It can also answer a
named command with a tagged NO instead of passing it on, as a server with a full mailbox or a passing
internal error does."""

import select
import socket
import threading


class CuttingRelay:
    def __init__(self, upstream_port: int):
        self.upstream = ("127.0.0.1", upstream_port)
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.port = self.listener.getsockname()[1]
        self.cut_at: int | None = None
        self.mode = "before"
        self.count = 0
        self.commands: list[bytes] = []
        self.cut = threading.Event()
        self.refusing: list[bytes] = []  # command names (b"UID MOVE", b"SELECT") to answer with NO, once each
        self.after: list[bytes] = []  # command names to pass on and then cut before the answer, once each
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    def arm(self, cut_at: int | None, mode: str = "before") -> None:
        """Counts commands from now on; cuts at the `cut_at`-th (1-based). None: only count."""
        self.cut_at, self.mode, self.count, self.commands = cut_at, mode, 0, []
        self.cut.clear()

    def disarm(self) -> bool:
        """Stops cutting; True when the armed cut happened."""
        was_cut = self.cut.is_set()
        self.cut_at = None
        return was_cut

    def cut_during(self, client, operation, cut_at: int, mode: str) -> bool:
        """Runs `operation()` with the cut armed, then closes `client`; True when the cut happened."""
        self.arm(cut_at, mode)
        try:
            operation()
        except Exception:  # noqa: BLE001, S110 - the cut surfaces as whichever error the client meets first
            pass
        finally:
            was_cut = self.disarm()
            try:
                client.shutdown()
            except OSError:
                pass
        return was_cut

    def close(self) -> None:
        self._stop = True
        self.listener.close()

    def _accept(self) -> None:
        while not self._stop:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            threading.Thread(target=self._pump, args=(client, server), daemon=True).start()

    def _command(self, line: bytes) -> bool:
        """Counts a client command line; True when the connection must be cut before it."""
        if len(line.split()) < 2 or self.cut.is_set():
            return False
        self.count += 1
        self.commands.append(_name(line))
        return self.cut_at is not None and self.count == self.cut_at

    def _pump(self, client: socket.socket, server: socket.socket) -> None:
        pending = b""
        server_buf = b""
        waiting_tag: bytes | None = None
        try:
            while True:
                ready, _, _ = select.select([client, server], [], [], 30)
                if not ready:
                    return
                if client in ready:
                    data = client.recv(65536)
                    if not data:
                        return
                    pending += data
                    while b"\n" in pending:
                        line, pending = pending.split(b"\n", 1)
                        line += b"\n"
                        name = _name(line)
                        if name in self.refusing:
                            self.refusing.remove(name)
                            client.sendall(line.split()[0] + b" NO [SERVERBUG] Internal error (relay)\r\n")
                            continue
                        if name in self.after:
                            self.after.remove(name)
                            waiting_tag = line.split()[0]
                            server.sendall(line)
                            continue
                        if self._command(line):
                            if self.mode == "before":
                                self.cut.set()
                                return
                            waiting_tag = line.split()[0]
                        server.sendall(line)
                if server in ready:
                    data = server.recv(65536)
                    if not data:
                        return
                    if waiting_tag is None:
                        client.sendall(data)
                        continue
                    server_buf += data
                    while b"\n" in server_buf:
                        line, server_buf = server_buf.split(b"\n", 1)
                        if line.startswith(waiting_tag + b" "):
                            self.cut.set()  # the server did it; the client never hears
                            return
                        client.sendall(line + b"\n")
        except OSError:
            return
        finally:
            for s in (client, server):
                try:
                    s.close()
                except OSError:
                    pass


def _name(line: bytes) -> bytes:
    """The command of a client line: b"SELECT", or b"UID MOVE" for UID commands."""
    parts = line.split()
    if len(parts) < 2:
        return b""
    name = parts[1].upper()
    if name == b"UID" and len(parts) > 2:
        name += b" " + parts[2].upper()
    return name
