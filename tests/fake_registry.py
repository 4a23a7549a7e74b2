"""The Windows registry as a dict: the one faked boundary of ``duban doctor``
(:class:`xl_duban.io.windows.Registry`), and the keys an Office 16.0 install leaves."""

from __future__ import annotations

from xl_duban.io import windows


class FakeRegistry:
    """The registry as a dict: {(root, key): {name: value}}; subkeys derived from the key paths."""

    def __init__(self, values: dict[tuple[str, str], dict[str, object]]) -> None:
        self.values = {(root, key.lower()): v for (root, key), v in values.items()}
        self.keys = [(root, key) for root, key in values]

    def value(self, root, key, name):
        return self.values.get((root, key.lower()), {}).get(name)

    def subkeys(self, root, key):
        prefix = key.lower() + "\\"
        return sorted({k[len(prefix):].split("\\")[0] for r, k in self.keys if r == root and k.lower().startswith(prefix)})


SECURITY = r"Software\Microsoft\Office\16.0\Excel\Security"


def office(security: dict | None = None, trusted: str | None = None) -> FakeRegistry:
    values = {("HKLM", windows.EXCEL_APP_PATH): {"": r"C:\Program Files\Microsoft Office\root\Office16\EXCEL.EXE"},
              ("HKCU", r"Software\Microsoft\Office\16.0\Excel\Options"): {},
              ("HKCU", SECURITY): dict(security or {})}
    if trusted:
        values[("HKCU", SECURITY + r"\Trusted Locations\Location9")] = {"Path": trusted, "AllowSubfolders": 1}
    return FakeRegistry(values)
