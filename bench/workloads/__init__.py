"""The workloads of issues #3 and #6, one module each, run in this order.

Each module's ``run(ctx)`` takes a ``bench._context.Context`` and returns a
result shaped as ``bench._results`` documents.
"""

from . import (accuracy, fashion, gpu, lbfgs, memory, parallel, predict, scaling, search,
               tabular)

WORKLOADS = {
    "fashion": fashion.run,
    "tabular": tabular.run,
    "search": search.run,
    "parallel": parallel.run,
    "lbfgs": lbfgs.run,
    "predict": predict.run,
    "memory": memory.run,
    "scaling": scaling.run,
    "gpu": gpu.run,
    "accuracy": accuracy.run,
}
