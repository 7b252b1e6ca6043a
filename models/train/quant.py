"""Quantized layers of the mbn training recipe (PyTorch): ABC-Net multi-bit weights/activations,
DoReFa k-bit fixed point, with straight-through estimators for training and clean ops for export.

Export mode (`set_export(True)`) replaces every straight-through trick by the plain forward op, so
torch.onnx.export writes compact graphs: the weight path is a small web of ops on the float
initializer (ReduceMean, Sqrt, GreaterOrEqual, Where, Mul, Add; Tanh, Round for DoReFa) that the
mbn compiler constant-folds, and the activation path is elementwise (Sub, GreaterOrEqual, Where,
Mul, Add; Clip, Round for DoReFa).

Sign convention: binary bases use >=-semantics, sign(0) = +1 (torch.where(x >= 0, 1, -1)), so every
input maps to exactly one of two levels; ONNX Sign (sign(0) = 0) is avoided on purpose.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

EXPORT = False


def set_export(flag: bool) -> None:
    global EXPORT
    EXPORT = flag


def sign_ge(x):
    """+1 where x >= 0, else -1. Activations: exports as GreaterOrEqual + Where over ones_like (Shape +
    ConstantOfShape at run time, no stored tensor)."""
    one = torch.ones_like(x)
    return torch.where(x >= 0, one, -one)


def sign_ge_const(x):
    """The same for a constant operand (weights): (x >= 0)*2 - 1 exports as GreaterOrEqual, Cast, Mul,
    Sub; ones_like would be traced into a per-element constant tensor as large as the weight."""
    return (x >= 0).to(x.dtype) * 2 - 1


class SignSTE(torch.autograd.Function):
    """sign_ge forward; straight-through (hard-tanh window |x| <= 1) backward."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return sign_ge(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * (x.abs() <= 1).to(g.dtype)


def round_ste(x):
    return torch.round(x) if EXPORT else x + (torch.round(x) - x).detach()


def bsign(x, const=False):
    if EXPORT:
        return sign_ge_const(x) if const else sign_ge(x)
    return SignSTE.apply(x)


# ---------------------------------------------------------------- weights

class ABCWeight(nn.Module):
    """ABC-Net weights: W ~ sum_m alpha_m * B_m, B_m = sign(W - mean(W) + u_m * std(W)),
    u_m evenly spaced in [-1, 1] (u = 0 for M = 1); alpha by least squares, per layer, refit on
    every training forward and kept as a buffer (exported as a constant)."""

    def __init__(self, m: int):
        super().__init__()
        self.m = m
        self.register_buffer("u", torch.linspace(-1, 1, m) if m > 1 else torch.zeros(1))
        self.register_buffer("alpha", torch.ones(m) / m)

    def bases(self, w):
        mean = w.mean()
        std = torch.sqrt(((w - mean) ** 2).mean() + 1e-12)
        return [bsign(w - mean + self.u[i] * std, const=True) for i in range(self.m)]

    def forward(self, w):
        bs = self.bases(w)
        if self.training and not EXPORT:
            with torch.no_grad():
                B = torch.stack([b.flatten() for b in bs], 1)  # [n, M]
                sol = torch.linalg.lstsq(B, w.detach().flatten().unsqueeze(1)).solution.flatten()
                self.alpha.copy_(sol)
        out = self.alpha[0] * bs[0]
        for i in range(1, self.m):
            out = out + self.alpha[i] * bs[i]
        return out


class DoReFaWeight(nn.Module):
    """DoReFa k-bit weights: w = 2*round((tanh(W)/(2 max|tanh W|) + 1/2)*(2^k-1))/(2^k-1) - 1."""

    def __init__(self, bits: int):
        super().__init__()
        self.n = 2 ** bits - 1

    def forward(self, w):
        t = torch.tanh(w)
        t = t / (2 * t.abs().max()) + 0.5
        return 2 * round_ste(t * self.n) / self.n - 1


# ---------------------------------------------------------------- activations

class ABCAct(nn.Module):
    """ABC-Net activations: a = sum_k beta_k * sign(x - t_k), learnable thresholds t_k and scales
    beta_k (per layer), >=-semantics."""

    def __init__(self, k: int):
        super().__init__()
        self.k = k
        self.t = nn.Parameter(torch.linspace(0.25, 1.25, k) if k > 1 else torch.tensor([0.5]))
        self.beta = nn.Parameter(torch.ones(k) / k)

    def forward(self, x):
        out = self.beta[0] * bsign(x - self.t[0])
        for i in range(1, self.k):
            out = out + self.beta[i] * bsign(x - self.t[i])
        return out


class DoReFaAct(nn.Module):
    """DoReFa k-bit activations: a = round(clip(x, 0, 1)*(2^k-1))/(2^k-1)."""

    def __init__(self, bits: int):
        super().__init__()
        self.n = 2 ** bits - 1

    def forward(self, x):
        return round_ste(torch.clamp(x, 0, 1) * self.n) / self.n


class QConv2d(nn.Conv2d):
    """Conv whose input and weights pass through quantizers (either may be None = float)."""

    def __init__(self, *args, wq=None, aq=None, **kw):
        super().__init__(*args, **kw)
        self.wq, self.aq = wq, aq

    def forward(self, x):
        if self.aq is not None:
            x = self.aq(x)
        w = self.wq(self.weight) if self.wq is not None else self.weight
        return F.conv2d(x, w, self.bias, self.stride, self.padding)


def quantizers(kind: str):
    """(weight quantizer, activation quantizer) factories for a model kind."""
    if kind == "fp32":
        return (lambda: None), (lambda: None)
    if kind.startswith("fxp"):
        b = int(kind[3:])
        return (lambda: DoReFaWeight(b)), (lambda: DoReFaAct(b))
    if kind.startswith("mbn"):
        m, k = (int(v) for v in kind[3:].split("x"))
        return (lambda: ABCWeight(m)), (lambda: ABCAct(k))
    raise ValueError(f"unknown model kind {kind!r} (fp32, fxp<bits>, mbn<M>x<K>)")
