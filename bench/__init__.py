"""fastnn's bench suite: fastnn against scikit-learn and PyTorch CPU, on this machine.

``make bench`` (``python bench/run.py`` on the installed fastnn, or
``python -m bench`` in a checkout built in place) runs the workloads and writes
``bench/results/<name>.json``, ``<name>.md`` and PNG plots; ``--quick`` runs a
small version in about a minute. See ``python -m bench --help``.

Layout: ``_timing`` (how every number is measured), ``_machine`` (what it was
measured on), ``_systems`` and ``_torch_mlp`` (the systems compared),
``_data`` (data sets), ``_flops`` (the GEMM lower bound), ``_results`` (the
shape of a result), ``_targets`` (the issue's targets), ``_report`` (JSON,
Markdown, plots) and one module per workload in ``workloads/``.
"""
