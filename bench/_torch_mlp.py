"""scikit-learn-style MLPs in PyTorch (CPU, or a GPU with ``device="cuda"``).

The network, loss, L2 penalty, Adam, mini-batching, initialisation
(Glorot-uniform bounds) and the stopping rule are scikit-learn's, so the
three systems do the same work; the random numbers differ, so the models are
comparable, not equal. Being estimators, they also run inside
``GridSearchCV``. Importing this module needs PyTorch.
"""

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from torch.nn import functional as F

_ACTIVATIONS = {
    "relu": torch.nn.ReLU,
    "tanh": torch.nn.Tanh,
    "logistic": torch.nn.Sigmoid,
    "identity": torch.nn.Identity,
}


class _TorchMLP(BaseEstimator):
    """Shared fit loop; subclasses encode targets and pick the loss.

    Parameters are those of ``sklearn.neural_network.MLPClassifier`` that
    the bench uses; only ``solver='adam'`` is supported.
    """

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate_init=0.001,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        device="cpu",
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.device = device

    def _as_input(self, X):
        return torch.from_numpy(np.ascontiguousarray(X, dtype=self._np_dtype)).to(self.device)

    def _build(self, units, generator):
        layers = []
        # scikit-learn's _init_coef: uniform in +-sqrt(factor / (fan_in + fan_out)).
        factor = 2.0 if self.activation == "logistic" else 6.0
        for i, (fan_in, fan_out) in enumerate(zip(units[:-1], units[1:])):
            linear = torch.nn.Linear(fan_in, fan_out, dtype=self._torch_dtype)
            bound = float(np.sqrt(factor / (fan_in + fan_out)))
            with torch.no_grad():
                linear.weight.uniform_(-bound, bound, generator=generator)
                linear.bias.uniform_(-bound, bound, generator=generator)
            layers.append(linear)
            if i < len(units) - 2:
                layers.append(_ACTIVATIONS[self.activation]())
        return torch.nn.Sequential(*layers)

    def fit(self, X, y):
        """Train with Adam on mini-batches, as scikit-learn's MLP does.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            float32 input trains in float32, anything else in float64.
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)

        Returns
        -------
        self : object
        """
        if self.solver != "adam":
            raise ValueError(f"Only solver='adam' is implemented here, got {self.solver!r}.")
        X = np.asarray(X)
        self._np_dtype = np.float32 if X.dtype == np.float32 else np.float64
        self._torch_dtype = torch.float32 if X.dtype == np.float32 else torch.float64
        X_t = self._as_input(X)
        target, width = self._encode_targets(y)
        target = target.to(self.device)
        n = X_t.shape[0]
        batch_size = min(200, n) if self.batch_size == "auto" else min(self.batch_size, n)

        generator = torch.Generator()
        generator.manual_seed(0 if self.random_state is None else int(self.random_state))
        units = [X_t.shape[1], *self.hidden_layer_sizes, width]
        self.model_ = self._build(units, generator).to(self.device)
        weights = [m.weight for m in self.model_ if isinstance(m, torch.nn.Linear)]
        biases = [m.bias for m in self.model_ if isinstance(m, torch.nn.Linear)]
        # scikit-learn adds alpha * W / batch_length to the weight gradients (not
        # the biases) before Adam; Adam's weight_decay adds the same term
        # (with the nominal batch length on the shorter last batch).
        optimizer = torch.optim.Adam(
            [
                {"params": weights, "weight_decay": self.alpha / batch_size},
                {"params": biases, "weight_decay": 0.0},
            ],
            lr=self.learning_rate_init,
            betas=(self.beta_1, self.beta_2),
            eps=self.epsilon,
        )

        n_batches = -(-n // batch_size)
        best_loss, no_improvement = np.inf, 0
        self.loss_curve_ = []
        for _ in range(self.max_iter):
            order = torch.randperm(n, generator=generator) if self.shuffle else torch.arange(n)
            order = order.to(self.device)
            total = torch.zeros((), dtype=self._torch_dtype, device=self.device)
            for start in range(0, n, batch_size):
                idx = order[start : start + batch_size]
                optimizer.zero_grad(set_to_none=True)
                loss = self._loss(self.model_(X_t[idx]), target[idx])
                loss.backward()
                optimizer.step()
                total += loss.detach() * len(idx)
            with torch.no_grad():
                penalty = 0.5 * self.alpha * sum(float((w * w).sum()) for w in weights)
            # scikit-learn's loss_: batch losses (penalty included) averaged over samples.
            epoch_loss = float(total) / n + penalty * n_batches / n
            self.loss_curve_.append(epoch_loss)
            # scikit-learn's stopping rule on the training loss.
            no_improvement = no_improvement + 1 if epoch_loss > best_loss - self.tol else 0
            best_loss = min(best_loss, epoch_loss)
            if no_improvement > self.n_iter_no_change:
                break
        self.n_iter_ = len(self.loss_curve_)
        self.loss_ = self.loss_curve_[-1]
        return self

    def _raw_output(self, X):
        with torch.inference_mode():
            return self.model_(self._as_input(X)).cpu()


class TorchMLPClassifier(ClassifierMixin, _TorchMLP):
    """Softmax (or logistic, for two classes) output, log loss."""

    def _encode_targets(self, y):
        self.classes_, codes = np.unique(np.asarray(y), return_inverse=True)
        if len(self.classes_) == 2:
            return torch.from_numpy(codes.astype(self._np_dtype)), 1
        return torch.from_numpy(codes.astype(np.int64)), len(self.classes_)

    def _loss(self, output, target):
        if len(self.classes_) == 2:
            return F.binary_cross_entropy_with_logits(output[:, 0], target)
        return F.cross_entropy(output, target)

    def predict(self, X):
        """Most likely class of each row.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,)
        """
        out = self._raw_output(X)
        codes = (out[:, 0] > 0).long() if len(self.classes_) == 2 else out.argmax(dim=1)
        return self.classes_[codes.numpy()]


class TorchMLPRegressor(RegressorMixin, _TorchMLP):
    """Identity output, scikit-learn's squared error (half the mean square)."""

    def _encode_targets(self, y):
        y = np.asarray(y, dtype=self._np_dtype)
        self._one_output = y.ndim == 1
        y = y.reshape(len(y), -1)
        return torch.from_numpy(np.ascontiguousarray(y)), y.shape[1]

    def _loss(self, output, target):
        return 0.5 * F.mse_loss(output, target)

    def predict(self, X):
        """Predicted targets.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        """
        out = self._raw_output(X).numpy()
        return out.ravel() if self._one_output else out
