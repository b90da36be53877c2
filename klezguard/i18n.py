"""One place for translation, so core texts can be translated with gettext like the GUI's."""

import gettext

_translation = gettext.translation("klezguard", fallback=True)


def _(text: str) -> str:
    return _translation.gettext(text)
