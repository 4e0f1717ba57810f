"""fastnn's bench suite: fastnn against scikit-learn and PyTorch CPU, on this machine.

``python -m bench`` (or ``make bench``) runs the workloads of issue #3 and writes
``bench/results/<name>.json``, ``<name>.md`` and PNG plots; ``--quick`` runs a
small version in about a minute. See ``python -m bench --help``.

Layout: ``_timing`` (how every number is measured), ``_machine`` (what it was
measured on), ``_systems`` and ``_torch_mlp`` (the systems compared),
``_data`` (data sets), ``_flops`` (the GEMM lower bound), ``_results`` (the
shape of a result), ``_targets`` (the issue's targets), ``_report`` (JSON,
Markdown, plots) and one module per workload in ``workloads/``.
"""
