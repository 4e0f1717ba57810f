"""The workloads of issue #3, one module each, run in this order.

Each module's ``run(ctx)`` takes a ``bench._context.Context`` and returns a
result shaped as ``bench._results`` documents.
"""

from . import accuracy, fashion, gpu, lbfgs, memory, predict, scaling, search, tabular

WORKLOADS = {
    "fashion": fashion.run,
    "tabular": tabular.run,
    "search": search.run,
    "lbfgs": lbfgs.run,
    "predict": predict.run,
    "memory": memory.run,
    "scaling": scaling.run,
    "gpu": gpu.run,
    "accuracy": accuracy.run,
}
