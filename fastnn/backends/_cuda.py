"""The CUDA backend (``backend="cuda"``): Numba CUDA kernels on an NVIDIA GPU.

Training data go to the GPU once per fit (kept in the fit's cache); each
epoch uploads the parameters and optimizer state, runs every mini-batch on
the device (rows gathered there, about ``4 L + 4`` kernel launches per batch
for ``L`` layers, no host round trip), and copies parameters, state and the
epoch loss back at its end, so the estimator sees the same arrays as with
the CPU backends. Without a GPU, ``NUMBA_ENABLE_CUDASIM=1`` runs the same
kernels on Numba's simulator (slow: for tests).

Sparse input is not supported here: the CPU backends take it.
"""

import numpy as np

from . import _scalar
from ._scalar import H_BETA_1, H_BETA_2, H_CLIPNORM, H_LEARNING_RATE, H_WEIGHT_DECAY
from .._dropout import scale
from .._registry import DERIVATIVE_FROM_INPUT
from ._base import Backend

# Rows per chunk when predicting, so device memory stays bounded.
PREDICT_CHUNK = 65536

INSTALL_HINT = "pip install 'fastnn[cuda]'"


def describe():
    """One line for ``show_backends``; ImportError saying why CUDA cannot run."""
    ok, detail = cuda_status()
    if not ok:
        raise ImportError(detail)
    return f"Numba CUDA kernels on {detail}" if detail.startswith("GPU") else detail


def cuda_status():
    """``(available, detail)``: whether ``backend="cuda"`` can run here, and why not.

    Never raises; ``detail`` names the device, the simulator, or what is missing.
    """
    import importlib.util

    # NVIDIA's numba-cuda, not the deprecated target that older numba bundles.
    if importlib.util.find_spec("numba_cuda") is None:
        return False, f"numba-cuda is not installed ({INSTALL_HINT})"
    try:
        from numba import cuda
    except ImportError as exc:
        return False, f"numba's CUDA target cannot be imported ({exc}); {INSTALL_HINT}"
    try:
        from numba.cuda import config as cuda_config

        simulated = bool(cuda_config.ENABLE_CUDASIM)
    except ImportError:
        from numba import config as cuda_config

        simulated = bool(getattr(cuda_config, "ENABLE_CUDASIM", False))
    if simulated:
        return True, "Numba's CUDA simulator (NUMBA_ENABLE_CUDASIM=1): correct but slow"
    try:
        if not cuda.is_available():
            return False, "no usable NVIDIA GPU or driver (numba.cuda.is_available() is False)"
        name = cuda.get_current_device().name
    except Exception as exc:  # driver errors come in many types
        return False, f"CUDA initialisation failed: {exc}"
    if isinstance(name, bytes):
        name = name.decode()
    problem = _compiler_problem()
    if problem:
        return False, problem
    return True, f"GPU: {name}"


def _compiler_problem():
    """Why numba-cuda's kernel compiler cannot load here, or None.

    Its lowering modules load at the first kernel compile, so a version
    clash would otherwise surface as an AttributeError deep inside the
    first fit: numba-cuda 0.30.4 registers ``np.row_stack``, which numpy
    2.5 removed (seen on an H100 machine).
    """
    import importlib
    from importlib.metadata import PackageNotFoundError, version

    try:
        importlib.import_module("numba.cuda.cudaimpl")
        return None
    except Exception as exc:  # the clash can raise anything at import time
        if isinstance(exc, ModuleNotFoundError) and exc.name == "numba.cuda.cudaimpl":
            return None  # laid out differently: the first compile will tell
        try:
            ours = version("numba-cuda")
        except PackageNotFoundError:
            ours = "?"
        return (f"numba-cuda {ours} cannot compile kernels with numpy {np.__version__} "
                f"({type(exc).__name__}: {exc}); install a numba-cuda release that supports "
                "this numpy, or an older numpy")


def _block_offsets(widths, max_batch):
    # Start of each layer's block of max_batch rows in the outputs/deltas
    # buffers: width columns (maxout's pieces; its outputs use the first n).
    offs = [0]
    for n in widths[1:]:
        offs.append(offs[-1] + max_batch * int(n))
    return offs


class _Workspace:
    """Device buffers of one fit, for batches of up to ``max_batch`` rows."""

    def __init__(self, cuda, net, dtype, max_batch, n_features, tpb, dropout=False):
        self.offs = _block_offsets(net.widths, max_batch)
        self.max_batch = max_batch
        # Dropout's number of each layer's first unit: outputs, not widths.
        self.first_unit = np.concatenate([[0], np.cumsum(net.units[1:])]).astype(int).tolist()
        n_params = net.n_params
        self.outs = cuda.device_array(self.offs[-1], dtype)
        self.deltas = cuda.device_array(self.offs[-1], dtype)
        # What derivatives read, kept in training where the outputs cannot
        # serve: pre-activations, or outputs before dropout's mask. maxout's
        # layers also put their linear columns there when predicting.
        keep = net.keeps_input or dropout
        self.pres = cuda.device_array(self.offs[-1] if keep else 0, dtype)
        # dL/da of a maxout layer (compact) before it goes to the pieces.
        n_max = max([layer.n_out for layer in net.layers if layer.activation == "maxout"],
                    default=0)
        self.dact = cuda.device_array(max_batch * n_max, dtype)
        # Batch norm: the normalized products, and each column's batch mean
        # and 1 / sqrt(var + eps).
        norm = net.has_batch_norm
        self.xhats = cuda.device_array(self.offs[-1] if norm else 0, dtype)
        n_cols = int(sum(net.widths[1:]))
        self.bn_mean = cuda.device_array(n_cols if norm else 0, dtype)
        self.bn_inv = cuda.device_array(n_cols if norm else 0, dtype)
        self.xbuf = cuda.device_array(max_batch * n_features, dtype)
        self.row_loss = cuda.device_array(max_batch, np.float64)
        self.row_w = cuda.device_array(max_batch, np.float64)
        self.grad = cuda.device_array(n_params, dtype)
        self.sums = cuda.device_array(2, np.float64)
        # One weight penalty (L2 and L1) per block of the finish_step kernel.
        self.penalty_parts = cuda.device_array(-(-n_params // tpb), np.float64)
        self.acc = cuda.device_array(1, np.float64)
        # clipnorm's variables (weight matrices, bias vectors, batch-norm
        # blocks, whose norm is gamma's, then prelu slope vectors) and factors.
        coef_off, bias_off = net.offsets()
        self.bounds = cuda.to_device(np.unique(np.concatenate(
            [coef_off, bias_off[1:], net.bn_offsets[1:], net.slope_offsets[1:]])).astype(np.intp))
        self.scales = cuda.device_array(self.bounds.shape[0] - 1, dtype)

    def layer(self, buf, l, nb, n_out):
        return buf[self.offs[l] : self.offs[l] + nb * n_out]

    def columns(self, buf, l, width):
        # Layer l's entries of a buffer with one entry per linear column.
        u = self.offs[l] // self.max_batch
        return buf[u : u + width]


class CudaBackend(Backend):
    """Numba CUDA kernels (``backend="cuda"``).

    Parameters
    ----------
    config : CudaConfig, optional
        Kernel launch geometry (tile sizes, threads per block).

    Raises
    ------
    ImportError
        If numba's CUDA target is missing or no GPU can be used; the message
        says which and how to fix it.
    """

    name = "cuda"

    def __init__(self, config=None):
        ok, detail = cuda_status()
        if not ok:
            raise ImportError(
                f"backend='cuda' cannot run here: {detail}. Use backend='cython' or "
                "'numba' on the CPU, or set NUMBA_ENABLE_CUDASIM=1 to run the CUDA "
                "kernels on Numba's simulator."
            )
        from numba import cuda

        from . import _cuda_kernels

        self._cuda = cuda
        self._k = _cuda_kernels
        self.config = config or _cuda_kernels.CudaConfig()
        self._zero_rows = cuda.to_device(np.zeros(1, dtype=np.intp))[:0]

    # -- launches ------------------------------------------------------------

    def _gemm(self, dtype, M, N, K, A, lda, trans_a, B, ldb, trans_b, C, ldc,
              epi=0, bias=None, aux=None, code=0, param=0.0):
        cfg, k = self.config, self._k
        kernel = k.gemm_kernel(np.dtype(dtype), cfg)
        grid = (k.blocks(N, cfg.bn), k.blocks(M, cfg.bm))
        block = (cfg.bn // cfg.tn, cfg.bm // cfg.tm)
        # Unused operands still need an array of C's type: C itself.
        kernel[grid, block](M, N, K, A, lda, trans_a, B, ldb, trans_b, C, ldc, epi,
                            C if bias is None else bias, C if aux is None else aux, code,
                            float(param))

    def _launch_1d(self, kernel, n, *args):
        tpb = self.config.tpb
        kernel[self._k.blocks(n, tpb), tpb](*args)

    def _forward(self, net, d_theta, d_in, nb, ws, dtype, train=False, dropout=None, start=0,
                 bn_momentum=0.99):
        # Every layer's output for nb rows into ws.outs (softmax left to the caller);
        # in training, what a derivative reads into ws.pres where the outputs
        # cannot serve (pre-activations; outputs before dropout's mask, the
        # batch being rows start, start + 1, ... of the epoch). Batch-normalized
        # layers (training only) keep their normalized products in ws.xhats
        # and move their running statistics in d_theta. prelu, which reads
        # each unit's slope, runs in a kernel of its own after the shift;
        # maxout's layers shift their width linear columns in ws.pres, and a
        # kernel of their own writes the units' maxima to ws.outs.
        coef_off, bias_off = net.offsets()
        dt = np.dtype(dtype).type
        units, widths, codes = net.units, net.widths, net.activation_codes
        a_in = d_in
        for l in range(len(codes)):
            layer = net.layers[l]
            n_in, n_out, width = int(units[l]), int(units[l + 1]), int(widths[l + 1])
            W = d_theta[coef_off[l] : coef_off[l + 1]]
            b = d_theta[bias_off[l] : bias_off[l] + width]
            prelu, maxout = layer.activation == "prelu", layer.activation == "maxout"
            # Where the GEMM writes: the outputs, or maxout's linear columns.
            Z = ws.layer(ws.pres if maxout else ws.outs, l, nb, width)
            epi, pre = self._k.EPI_BIAS_ACT, None
            if train and layer.activation in DERIVATIVE_FROM_INPUT and not maxout:
                epi, pre = self._k.EPI_BIAS_ACT_KEEP, ws.layer(ws.pres, l, nb, width)
            code = self._k.IDENTITY if prelu or maxout else int(codes[l])
            if layer.batch_norm:
                self._gemm(dtype, nb, width, n_in, a_in, n_in, False, W, width, False, Z, width)
                g = d_theta[net.bn_offsets[l] : net.bn_offsets[l + 1]]
                mean, inv = ws.columns(ws.bn_mean, l, width), ws.columns(ws.bn_inv, l, width)
                self._launch_1d(self._k.bn_stats, width, Z, nb, width, float(net.bn_epsilon),
                                dt(bn_momentum), dt(1.0 - bn_momentum), mean, inv,
                                g[width : 2 * width], g[2 * width :])
                self._launch_1d(self._k.bn_apply, nb * width, Z, ws.layer(ws.xhats, l, nb, width),
                                mean, inv, g[:width], b, Z[:0] if pre is None else pre, nb,
                                width, code, layer.param)
            else:
                self._gemm(dtype, nb, width, n_in, a_in, n_in, False, W, width, False, Z, width,
                           epi, b, pre, code, layer.param)
            if prelu:
                slopes = d_theta[net.slope_offsets[l] : net.slope_offsets[l + 1]]
                self._launch_1d(self._k.prelu_apply, nb * n_out, Z, slopes, nb, n_out)
            if maxout:
                A = ws.layer(ws.outs, l, nb, n_out)
                self._launch_1d(self._k.maxout_apply, nb * n_out, Z, A, nb, n_out,
                                layer.pieces)
                Z = A
            rate = 0.0 if dropout is None else float(dropout.rates[l])
            if rate > 0:
                # maxout's derivative reads its linear columns, not the outputs.
                kept = Z[:0] if pre is not None or maxout else ws.layer(ws.pres, l, nb, n_out)
                self._launch_1d(self._k.drop_units, nb * n_out, Z, kept, nb, n_out, rate,
                                np.dtype(dtype).type(scale(rate)), dropout.key, start,
                                ws.first_unit[l])
            a_in = Z
        return a_in

    def _loss_grad(self, net, d_theta, d_in, d_Y, d_sw, d_rows, start, nb, ws, dtype,
                   dropout=None, bn_momentum=0.99):
        # Forward, output rows, backward: raw summed gradient in ws.grad, sums in ws.sums.
        k = self._k
        units, widths, codes = net.units, net.widths, net.activation_codes
        coef_off, bias_off = net.offsets()
        L = len(codes)
        n_out = int(units[-1])
        P = self._forward(net, d_theta, d_in, nb, ws, dtype, True, dropout, start, bn_momentum)
        D = ws.layer(ws.deltas, L - 1, nb, n_out)
        eps = float(np.finfo(dtype).eps)
        self._launch_1d(k.output_rows, nb, P, n_out, bool(codes[-1] == k.SOFTMAX), d_Y, d_sw,
                        d_rows, start, nb, net.loss_code, eps, D, ws.row_loss, ws.row_w)
        sum_rows = k.reduction_kernels(self.config.tpb)[0]
        sum_rows[1, self.config.tpb](ws.row_loss, ws.row_w, nb, ws.sums)
        for l in range(L - 1, -1, -1):
            # D is dL/dz of layer l's width linear columns.
            n_in, width = int(units[l]), int(widths[l + 1])
            a_in = d_in if l == 0 else ws.layer(ws.outs, l - 1, nb, n_in)
            gW = ws.grad[coef_off[l] : coef_off[l + 1]]
            gb = ws.grad[bias_off[l] : bias_off[l] + width]
            self._launch_1d(k.column_sums, width, D, nb, width, gb)
            if net.layers[l].batch_norm:
                # D becomes dL/d(x @ W); the bias sums above are dL/dbeta.
                lo, hi = net.bn_offsets[l], net.bn_offsets[l + 1]
                xhat = ws.layer(ws.xhats, l, nb, width)
                self._launch_1d(k.bn_grad, width, D, xhat, nb, width, ws.grad[lo:hi])
                self._launch_1d(k.bn_backward, nb * width, D, xhat,
                                ws.columns(ws.bn_inv, l, width), d_theta[lo : lo + width], gb,
                                ws.grad[lo : lo + width], nb, width, np.dtype(dtype).type(nb))
            self._gemm(dtype, n_in, width, nb, a_in, n_in, True, D, width, False, gW, width)
            if l > 0:
                W = d_theta[coef_off[l] : coef_off[l + 1]]
                below = net.layers[l - 1]
                D_prev = ws.layer(ws.deltas, l - 1, nb, int(widths[l]))
                prelu, maxout = below.activation == "prelu", below.activation == "maxout"
                # prelu's derivative (and its slopes' gradient) and maxout's
                # have kernels of their own.
                code = k.IDENTITY if prelu or maxout else int(codes[l - 1])
                rate = 0.0 if dropout is None else float(dropout.rates[l - 1])
                # The derivative reads the outputs, or what _forward kept.
                src = a_in
                if rate > 0 or below.activation in DERIVATIVE_FROM_INPUT:
                    src = ws.layer(ws.pres, l - 1, nb, int(widths[l]))
                # maxout's dL/da (compact) goes to ws.dact, then to the pieces.
                Da = ws.dact[: nb * n_in] if maxout else D_prev
                if rate > 0:
                    # Mask, then derivative, in a kernel of their own.
                    self._gemm(dtype, nb, n_in, width, D, width, False, W, width, True, Da, n_in)
                    self._launch_1d(k.drop_backprop, nb * n_in, Da, src, nb, n_in, rate,
                                    np.dtype(dtype).type(scale(rate)), dropout.key,
                                    start, ws.first_unit[l - 1], code, below.param)
                else:
                    self._gemm(dtype, nb, n_in, width, D, width, False, W, width, True, Da, n_in,
                               k.EPI_STORE if maxout else k.EPI_BACKPROP, None, src, code,
                               below.param)
                if prelu:
                    lo, hi = net.slope_offsets[l - 1], net.slope_offsets[l]
                    self._launch_1d(k.prelu_backward, n_in, D_prev, src, d_theta[lo:hi], nb,
                                    n_in, ws.grad[lo:hi])
                if maxout:
                    self._launch_1d(k.maxout_backward, nb * n_in, Da, src, D_prev, nb, n_in,
                                    below.pieces)
                D = D_prev

    def _finish(self, net, d_theta, ws, alpha, l1, dtype, nb, accumulate, solver=-1,
                sc=(0.0, 0.0, 0.0), hyper=np.zeros(9), state=None):
        # Complete the gradient, step (unless solver -1) with the step's scalars
        # sc (_scalar.step_scalars), and account the batch loss. With clipnorm
        # (hyper[H_CLIPNORM]) the step waits for every variable's gradient norm.
        _, finish_step, batch_loss, clip_scales = self._k.reduction_kernels(self.config.tpb)
        dt = np.dtype(dtype).type
        s1, s2 = state if state is not None else (ws.grad[:0], ws.grad[:0])
        n_coef = int(net.offsets()[0][-1])
        clip = solver >= 0 and hyper[H_CLIPNORM] > 0
        update = (_scalar.coefficients(sc, hyper, dt), s1, s2)
        self._launch_1d(finish_step, net.n_params, d_theta, ws.grad, n_coef, dt(alpha), dt(l1),
                        ws.sums, -1 if clip else solver, *update, ws.penalty_parts)
        if clip:
            n_vars = ws.bounds.shape[0] - 1
            clip_scales[n_vars, self.config.tpb](ws.grad, ws.bounds, float(hyper[H_CLIPNORM]),
                                                 ws.scales)
            self._launch_1d(self._k.clip_step, net.n_params, d_theta, ws.grad, ws.bounds,
                            ws.scales, n_coef, solver, *update)
        batch_loss[1, self.config.tpb](ws.sums, ws.penalty_parts, nb,
                                       int(net.units[-1]), net.loss_code, ws.acc, accumulate)

    # -- the Backend interface ----------------------------------------------

    def _device_data(self, cache, data):
        # X, Y and weights on the device, once per fit.
        key = (id(data), id(data.X), id(data.Y))
        if cache.get("data_key") != key:
            cuda = self._cuda
            sw = data.sample_weight
            cache["data_key"] = key
            cache["data_ref"] = data  # keeps the ids valid
            cache["d_X"] = cuda.to_device(data.X.reshape(-1))
            cache["d_Y"] = cuda.to_device(data.Y.reshape(-1))
            cache["d_sw"] = cuda.to_device(sw) if sw is not None else cache["d_Y"][:0]
        return cache["d_X"], cache["d_Y"], cache["d_sw"]

    def forward(self, net, theta, X):
        self.check_input(X)
        cuda, k = self._cuda, self._k
        n, nf = X.shape
        dtype = theta.dtype
        out = np.empty((n, int(net.units[-1])), dtype=dtype)
        chunk = max(1, min(PREDICT_CHUNK, n))
        ws = _Workspace(cuda, net, dtype, chunk, 0, self.config.tpb)
        d_theta = cuda.to_device(theta)
        softmax = net.activation_codes[-1] == k.SOFTMAX
        for start in range(0, n, chunk):
            nb = min(chunk, n - start)
            d_in = cuda.to_device(np.ascontiguousarray(X[start : start + nb]).reshape(-1))
            P = self._forward(net, d_theta, d_in, nb, ws, dtype)
            if softmax:
                self._launch_1d(k.softmax_rows, nb, P, out.shape[1], nb)
            out[start : start + nb] = P.copy_to_host().reshape(nb, -1)
        return out

    def loss_grad(self, net, theta, data, alpha, grad, cache=None, l1=0.0):
        self.check_input(data.X)
        cuda = self._cuda
        cache = {} if cache is None else cache
        n, dtype = data.n_samples, theta.dtype
        d_X, d_Y, d_sw = self._device_data(cache, data)
        if cache.get("lbfgs_key") != (n, theta.shape[0], dtype.str):
            cache["lbfgs_key"] = (n, theta.shape[0], dtype.str)
            cache["lbfgs_ws"] = _Workspace(cuda, net, dtype, n, 0, self.config.tpb)
            cache["lbfgs_theta"] = cuda.device_array_like(theta)
        ws, d_theta = cache["lbfgs_ws"], cache["lbfgs_theta"]
        d_theta.copy_to_device(theta)
        self._loss_grad(net, d_theta, d_X, d_Y, d_sw, self._zero_rows, 0, n, ws, dtype)
        self._finish(net, d_theta, ws, alpha, l1, dtype, n, False)
        ws.grad.copy_to_host(grad)
        return float(ws.acc.copy_to_host()[0])

    def epoch(self, net, theta, optimizer, data, order, batch_size, alpha, cache, l1=0.0,
              dropout=None, bn_momentum=0.99, ahead=None):
        self.check_input(data.X)
        cuda, k = self._cuda, self._k
        n, nf = data.X.shape
        dtype = theta.dtype
        bs = min(batch_size, n)
        d_X, d_Y, d_sw = self._device_data(cache, data)
        ws_key = (bs, dtype.str, dropout is None)
        if cache.get("ws_key") != ws_key:
            cache["ws_key"] = ws_key
            cache["ws"] = _Workspace(cuda, net, dtype, bs, nf, self.config.tpb,
                                     dropout is not None)
            cache["d_theta"] = cuda.device_array_like(theta)
            cache["d_state"] = tuple(cuda.device_array_like(b) for b in optimizer.buffers)
        ws, d_theta, d_state = cache["ws"], cache["d_theta"], cache["d_state"]
        d_theta.copy_to_device(theta)
        for d, h in zip(d_state, optimizer.buffers):
            if h.size:
                d.copy_to_device(h)
        d_rows = cuda.to_device(order) if order is not None else self._zero_rows
        ws.acc.copy_to_device(np.zeros(1))
        hyper = optimizer.hyper()
        t, mu_product = optimizer.t, optimizer.mu_product
        sc = (float(hyper[H_LEARNING_RATE]), 0.0, 0.0)
        try:
            for start in range(0, n, bs):
                nb = min(bs, n - start)
                if order is not None:
                    x_in = ws.xbuf[: nb * nf]
                    self._launch_1d(k.gather_rows, nb * nf, d_X, nf, d_rows, start, nb, x_in)
                else:
                    x_in = d_X[start * nf : (start + nb) * nf]
                self._loss_grad(net, d_theta, x_in, d_Y, d_sw, d_rows, start, nb, ws, dtype,
                                dropout, bn_momentum)
                if optimizer.code != _scalar.SGD:
                    t += 1
                    *sc, mu_product = _scalar.step_scalars(
                        optimizer.code, t, hyper[H_LEARNING_RATE], hyper[H_BETA_1],
                        hyper[H_BETA_2], hyper[H_WEIGHT_DECAY], mu_product)
                self._finish(net, d_theta, ws, alpha, l1, dtype, nb, True, optimizer.code, sc,
                             hyper, d_state)
        finally:
            # Even when stopped midway (Ctrl-C), the host gets the last weights.
            d_theta.copy_to_host(theta)
            for d, h in zip(d_state, optimizer.buffers):
                if h.size:
                    d.copy_to_host(h)
            optimizer.set_counters((t, mu_product))
        optimizer.record_rate(sc[0])
        return float(ws.acc.copy_to_host()[0])
