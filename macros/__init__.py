"""One function per button of the 督办 ribbon tab: ``macros.<key>`` for each entry of
:data:`xl_duban.buttons.BUTTONS` (the table the ribbon XML and Duban.bas are generated from).

``workbooks/vba/Duban.bas`` calls them through xlwings ``RunPython`` ("import macros;
macros.validate()"). Each takes the calling book (``xw.Book.caller()``; tests pass a book)
and runs :func:`xl_duban.ribbon.press`, which opens a store over that book, runs the same
service as the command line, writes the result into the book, shows progress in the status
bar and ends with a Chinese message box.

The functions are made below from the table (``macros.validate`` for the button with key
"validate"), each named after its button's key, with the button's description as docstring:
adding a row to the table adds the function.
"""

from __future__ import annotations

from xl_duban.buttons import BUTTONS as _BUTTONS
from xl_duban.buttons import macro_doc as _macro_doc
from xl_duban.ribbon import Pressed, press


def _caller(book):
    if book is not None:
        return book
    import xlwings as xw

    return xw.Book.caller()


def _macro(key: str, doc: str):
    def macro(book=None) -> Pressed:
        return press(key, _caller(book))

    macro.__name__ = macro.__qualname__ = key
    macro.__doc__ = doc
    return macro


for _button in _BUTTONS:
    if _button.key in globals():
        raise ValueError(f"button key {_button.key!r} is already a name in macros")
    globals()[_button.key] = _macro(_button.key, _macro_doc(_button))
del _button

__all__ = [b.key for b in _BUTTONS]
