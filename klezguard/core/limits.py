"""Hard limits on the work one message can cause, whatever its shape.

A message over a limit is still judged, on what lies within the limits, and gets a finding that says
which limit it went over (rules/attachments.py: TooComplex), so an attacker cannot hide a file behind
a flood of parts and cannot make the scan hang or run out of memory either. Real mail stays far below
every limit here; archives have their own in core/archives.py.
"""

MAX_PARTS = 1000  # leaves of the MIME tree that are looked at (a digest of 200 mails has 200)
MAX_DEPTH = 30  # multipart levels followed (forwards of forwards reach 10)
MAX_BOUNDARY_LINES = 4 * MAX_PARTS  # lines starting with "--" read from a whole message before cutting it
MAX_HEADER_FIELDS = 2000  # header fields kept for the rules (a long relay chain has 100)
MAX_PARAM_TEXT = 8192  # characters of a Content-Type or Content-Disposition read for parameters
MAX_DEFECTS = 100  # parser complaints kept
MAX_HOST = 253  # a DNS name (RFC 1035): longer is no host name at all
MAX_LABEL = 63


def valid_host(host: str) -> bool:
    """A host name the DNS could hold: at most 253 characters, labels of 1 to 63. Anything else is
    text that only looks like a host, and costs nothing to ignore."""
    if not host or len(host) > MAX_HOST:
        return False
    return all(0 < len(label) <= MAX_LABEL for label in host.rstrip(".").split("."))
