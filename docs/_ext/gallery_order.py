"""The gallery's order: the examples read as a short course, then the workflows."""

COURSE = (
    "plot_xor.py",
    "plot_activations.py",
    "plot_vanishing_gradients.py",
    "plot_initialization.py",
    "plot_optimizers.py",
    "plot_regularization.py",
    "plot_early_stopping.py",
    "plot_fashion_mnist.py",
    "plot_regression.py",
    "plot_search_pipeline.py",
    "plot_optuna_search.py",
    "plot_dask_search.py",
    "plot_backends_timing.py",
    "plot_to_sklearn.py",
)


class CourseOrder:
    """sphinx-gallery's ``within_subsection_order``: the course first, the rest by name."""

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        if filename in COURSE:
            return (0, COURSE.index(filename), filename)
        return (1, 0, filename)

    def __repr__(self):
        return f"<{type(self).__name__}>"
