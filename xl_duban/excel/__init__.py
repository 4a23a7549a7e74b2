"""The Excel side of 督办: a VBA-project writer (``vba``) and the template build (``template``).

Both run on any platform without Excel: ``vba`` writes the [MS-OVBA] project inside an
[MS-CFB] compound file with the standard library only; ``template`` turns the openpyxl ledger
skeleton into ``workbooks/template.xlsm`` with the 督办 ribbon tab.
"""
