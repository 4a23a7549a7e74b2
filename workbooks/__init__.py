"""Not code: the ledger template (template.xlsm), its VBA sources and ribbon XML.

A package only so that the wheel carries these files beside ``xl_duban`` (``pyproject.toml``
package data): ``xl_duban.excel.template`` finds them at ``<site-packages>/workbooks/`` in an
installed copy, as it finds ``workbooks/`` beside ``xl_duban/`` in a checkout.
"""
