"""Benchmarks of xl_duban at district, city and province scale (issue 6).

``python -m benchmarks.run --scale province [--runs 3] [--out DIR]`` generates (and caches) a
synthetic year with :mod:`benchmarks.synthetic`, then times the services the ``duban``
command line uses — issue, collect, light, bulletin, ledger load and save — next to two
baselines on the same returned files (python-calamine's floor and the naive
``pandas.read_excel``). Results: one table on the terminal, a JSON file in the out dir,
and ``benchmarks/RESULTS.md`` for the numbers of record.
"""
