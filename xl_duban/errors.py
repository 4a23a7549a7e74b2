"""The one exception a clerk may see the message of.

Everything else a command meets is a finding (data, ``domain.findings``); a
:class:`LedgerError` is what stops a command before it changes anything — the ledger cannot
be opened, is locked by another command, or would lose content on save. It lives in a module
of its own, importing nothing, so every layer can raise it without importing another.
"""


class LedgerError(Exception):
    """A ledger that cannot be opened or written; the message is Chinese and actionable."""
