"""Procedural illustrations for demo content.

Draws warm, flat "paper-cut" style pictures of cacao-tour motifs (valleys, cloud forest,
pods, fermentation boxes, lodges...) with nothing but Pillow: layered silhouettes, soft
gradients, grain and a vignette. Scenes are drawn at twice the requested size and
downsampled with LANCZOS for anti-aliasing. Output depends only on (kind, seed, size).
"""

from __future__ import annotations

import io
import math
import random
from collections.abc import Callable
from functools import lru_cache
from itertools import pairwise

from PIL import Image, ImageChops, ImageDraw, ImageFilter

KINDS = (
    "valley",
    "cloud_forest",
    "cacao_pod",
    "cacao_tree",
    "fermentation",
    "drying",
    "chocolate",
    "coffee",
    "lodge",
    "river",
    "market",
    "hands",
)

Color = tuple[int, int, int]
Point = tuple[float, float]

# --------------------------------------------------------------------------- colours


def _rgb(value: str | Color) -> Color:
    if isinstance(value, tuple):
        return value
    value = value.lstrip("#")
    return (int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16))


def _mix(a: str | Color, b: str | Color, t: float) -> Color:
    a, b = _rgb(a), _rgb(b)
    t = min(1.0, max(0.0, t))
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )


def _dark(c: str | Color, t: float) -> Color:
    return _mix(c, (0, 0, 0), t)


def _light(c: str | Color, t: float) -> Color:
    return _mix(c, (255, 255, 255), t)


def _vary(rng: random.Random, c: str | Color, amount: float = 10) -> Color:
    c = _rgb(c)
    return tuple(max(0, min(255, round(v + rng.uniform(-amount, amount)))) for v in c)


def _tone(rng: random.Random, c: str | Color, amount: float = 0.1) -> Color:
    """Same hue, randomly lighter or darker."""
    t = rng.uniform(-amount, amount)
    return _light(c, t) if t > 0 else _dark(c, -t)


def _ramp(stops: list[tuple[float, str | Color]], t: float) -> Color:
    if t <= stops[0][0]:
        return _rgb(stops[0][1])
    for (p0, c0), (p1, c1) in pairwise(stops):
        if t <= p1:
            return _mix(c0, c1, (t - p0) / (p1 - p0) if p1 > p0 else 0.0)
    return _rgb(stops[-1][1])


SKIES = {
    "dawn": [(0.0, "#7d9cbd"), (0.55, "#e6cbb3"), (1.0, "#f6c583")],
    "day": [(0.0, "#6b9fc4"), (0.6, "#bcd5da"), (1.0, "#f0e2bd")],
    "golden": [(0.0, "#5f7fa3"), (0.5, "#e2b08c"), (1.0, "#f8cd78")],
    "mist": [(0.0, "#9fb6bf"), (0.6, "#dbe2d8"), (1.0, "#f2e5c8")],
    "dusk": [(0.0, "#232648"), (0.45, "#694470"), (0.8, "#d6725a"), (1.0, "#f4a65a")],
}

POD_COLORS = {
    "yellow": ("#f7dc6a", "#e0a92e", "#7e5210"),
    "orange": ("#f8a955", "#dc6d21", "#6f2c0e"),
    "maroon": ("#cc5a66", "#912639", "#3f0c18"),
    "green": ("#dbe07a", "#a4b03c", "#4c5a18"),
    "red": ("#f27a52", "#c23c28", "#5a160e"),
}

FRESH_BEANS = ("#ecdfc8", "#dcc3a0", "#c99b78", "#a8705a", "#8d5a4a", "#b7867a")
DRY_BEANS = ("#7a3e28", "#8c4a2e", "#6a3422", "#9a5a36", "#5a2e1e", "#a0643c")
LEAF_GREENS = ["#2f5e3a", "#3c6e3f", "#28513a", "#4a7a3c", "#335f45"]


# --------------------------------------------------------------------------- canvas


class _Canvas:
    """A 2x-resolution RGB drawing surface plus the scene's random generator."""

    def __init__(
        self,
        width: int,
        height: int,
        rng: random.Random,
        scale: int = 2,
        u: float | None = None,
    ) -> None:
        self.W, self.H = width * scale, height * scale
        self.u = min(self.W, self.H) / 1000.0 if u is None else u
        self.rng = rng
        self.img = Image.new("RGB", (self.W, self.H), (0, 0, 0))

    def sub(self, width: float, height: float) -> _Canvas:
        """A separate canvas (same unit and rng) for clipped drawing, e.g. a window view."""
        return _Canvas(max(2, round(width)), max(2, round(height)), self.rng, 1, self.u)

    def draw(self) -> ImageDraw.ImageDraw:
        return ImageDraw.Draw(self.img, "RGBA")


class _Mask:
    """An "L" mask covering a box of the canvas; drawing uses canvas coordinates."""

    def __init__(self, c: _Canvas, box: tuple[float, float, float, float] | None = None):
        x0, y0, x1, y1 = box or (0, 0, c.W, c.H)
        self.x0 = max(0, min(c.W - 1, int(x0)))
        self.y0 = max(0, min(c.H - 1, int(y0)))
        x1 = max(self.x0 + 1, min(c.W, math.ceil(x1)))
        y1 = max(self.y0 + 1, min(c.H, math.ceil(y1)))
        self.im = Image.new("L", (x1 - self.x0, y1 - self.y0), 0)
        self.d = ImageDraw.Draw(self.im)

    def _p(self, pts: list[Point]) -> list[Point]:
        return [(x - self.x0, y - self.y0) for x, y in pts]

    def poly(self, pts: list[Point], fill: int = 255) -> None:
        self.d.polygon(self._p(pts), fill=fill)

    def ellipse(self, cx: float, cy: float, rx: float, ry: float, fill: int = 255) -> None:
        x, y = cx - self.x0, cy - self.y0
        self.d.ellipse((x - rx, y - ry, x + rx, y + ry), fill=fill)

    def rect(self, x0: float, y0: float, x1: float, y1: float, fill: int = 255) -> None:
        self.d.rectangle((x0 - self.x0, y0 - self.y0, x1 - self.x0, y1 - self.y0), fill=fill)

    def line(self, pts: list[Point], width: float, fill: int = 255) -> None:
        self.d.line(self._p(pts), fill=fill, width=max(1, round(width)), joint="curve")


def _bbox(pts: list[Point], pad: float = 0) -> tuple[float, float, float, float]:
    xs = [p[0] for p in pts]
    ys = [p[1] for p in pts]
    return (min(xs) - pad, min(ys) - pad, max(xs) + pad, max(ys) + pad)


@lru_cache(maxsize=128)
def _gmask(angle: int) -> Image.Image:
    """128x128 linear ramp 0..255 along `angle` degrees (0 = left->right, 90 = top->bottom)."""
    a = math.radians(angle)
    ca, sa = math.cos(a), math.sin(a)
    n = 128
    half = (n - 1) / 2
    ext = (abs(ca) + abs(sa)) * half
    data = []
    for y in range(n):
        for x in range(n):
            data.append(round(255 * (((x - half) * ca + (y - half) * sa) / ext + 1) / 2))
    im = Image.new("L", (n, n))
    im.putdata(data)
    return im


@lru_cache(maxsize=16)
def _radial(falloff: float) -> Image.Image:
    """256x256 radial mask: 255 in the centre fading to 0 at the inscribed circle."""
    # radial_gradient() reaches 255 in the corners, i.e. ~181 on the inscribed circle
    lut = [round(255 * max(0.0, 1 - v / 181) ** falloff) for v in range(256)]
    return Image.radial_gradient("L").point(lut)


def _scale(mask: Image.Image, k: float) -> Image.Image:
    if k >= 0.999:
        return mask
    lut = [round(v * k) for v in range(256)]
    return mask.point(lut)


def _put(c: _Canvas, color: str | Color, xy: tuple[float, float], mask: Image.Image) -> None:
    """Blend a flat colour through `mask` placed at xy (clipped to the canvas)."""
    x, y = round(xy[0]), round(xy[1])
    w, h = mask.size
    cx0, cy0 = max(0, -x), max(0, -y)
    cx1, cy1 = min(w, c.W - x), min(h, c.H - y)
    if cx1 <= cx0 or cy1 <= cy0:
        return
    if (cx0, cy0, cx1, cy1) != (0, 0, w, h):
        mask = mask.crop((cx0, cy0, cx1, cy1))
    c.img.paste(Image.new("RGB", mask.size, _rgb(color)), (x + cx0, y + cy0), mask)


@lru_cache(maxsize=2)
def _lin_strip(horizontal: bool) -> Image.Image:
    strip = Image.linear_gradient("L").crop((0, 0, 1, 256))
    return strip.transpose(Image.Transpose.TRANSPOSE) if horizontal else strip


def _gradient(size: tuple[int, int], c1: str | Color, c2: str | Color, angle: int) -> Image.Image:
    w, h = size
    angle %= 360
    if angle in (0, 90, 180, 270):
        a, b = (c1, c2) if angle in (0, 90) else (c2, c1)
        lin = _lin_strip(angle in (0, 180))
        strip = Image.composite(
            Image.new("RGB", lin.size, _rgb(b)),
            Image.new("RGB", lin.size, _rgb(a)),
            lin,
        )
        return strip.resize((w, h), Image.NEAREST)
    g = _gmask(angle).resize((w, h), Image.NEAREST)
    return Image.composite(
        Image.new("RGB", (w, h), _rgb(c2)),
        Image.new("RGB", (w, h), _rgb(c1)),
        g,
    )


def _paint(
    c: _Canvas,
    m: _Mask,
    c1: str | Color,
    c2: str | Color | None = None,
    angle: int = 90,
    alpha: float = 1.0,
) -> None:
    """Fill the mask with a flat colour or a linear gradient c1 -> c2."""
    mask = _scale(m.im, alpha)
    if c2 is None:
        _put(c, c1, (m.x0, m.y0), mask)
        return
    c.img.paste(_gradient(m.im.size, c1, c2, angle), (m.x0, m.y0), mask)


def _soften(mask: Image.Image, blur: float, opacity: float = 1.0) -> Image.Image:
    """Blur a mask cheaply: reduce 4x, gaussian blur, scale opacity, enlarge again."""
    w, h = mask.size
    if w < 8 or h < 8:
        return _scale(mask.filter(ImageFilter.GaussianBlur(blur)), opacity)
    small = mask.reduce(4).filter(ImageFilter.GaussianBlur(max(0.5, blur / 4)))
    return _scale(small, opacity).resize((w, h), Image.BILINEAR)


def _shadow(
    c: _Canvas,
    m: _Mask,
    blur: float,
    dx: float = 0,
    dy: float = 0,
    color: str | Color = (24, 14, 10),
    opacity: float = 0.35,
) -> None:
    """Soft drop shadow of a mask."""
    w, h = m.im.size
    p = int(blur * 2.5) + 4
    big = Image.new("L", (w + 2 * p, h + 2 * p), 0)
    big.paste(m.im, (p, p))
    _put(c, color, (m.x0 - p + dx, m.y0 - p + dy), _soften(big, blur, opacity))


def _glow(
    c: _Canvas,
    cx: float,
    cy: float,
    r: float,
    color: str | Color,
    opacity: float = 0.6,
    falloff: float = 2.0,
    ry: float | None = None,
) -> None:
    """Soft radial light; only the part that falls on the canvas is computed."""
    ry = r if ry is None else ry
    x0, y0 = max(0, math.floor(cx - r)), max(0, math.floor(cy - ry))
    x1, y1 = min(c.W, math.ceil(cx + r)), min(c.H, math.ceil(cy + ry))
    if x1 - x0 < 2 or y1 - y0 < 2:
        return
    k = 256 / (2 * r)
    kv = 256 / (2 * ry)
    box = tuple(
        min(256.0, max(0.0, v))
        for v in ((x0 - cx + r) * k, (y0 - cy + ry) * kv, (x1 - cx + r) * k, (y1 - cy + ry) * kv)
    )
    m = _radial(falloff).resize((x1 - x0, y1 - y0), Image.BILINEAR, box=box)
    _put(c, color, (x0, y0), _scale(m, opacity))


def _vgrad(size: tuple[int, int], stops: list[tuple[float, str | Color]]) -> Image.Image:
    strip = Image.new("RGB", (1, 256))
    strip.putdata([_ramp(stops, i / 255) for i in range(256)])
    return strip.resize(size, Image.NEAREST)


def _sky(c: _Canvas, stops: list[tuple[float, str | Color]], horizon: float) -> None:
    h = max(2, int(horizon))
    c.img.paste(_vgrad((c.W, h), stops), (0, 0))
    if h < c.H:
        c.img.paste(Image.new("RGB", (c.W, c.H - h), _rgb(stops[-1][1])), (0, h))


def _band(c: _Canvas, y0: float, y1: float, color: str | Color, a0: float, a1: float) -> None:
    """Horizontal translucent band whose opacity goes a0 -> a1 from y0 to y1."""
    h = max(2, int(y1 - y0))
    strip = Image.new("L", (1, 256))
    strip.putdata([round(255 * (a0 + (a1 - a0) * i / 255)) for i in range(256)])
    _put(c, color, (0, int(y0)), strip.resize((c.W, h), Image.NEAREST))


def _mist(c: _Canvas, y: float, thick: float, color: str | Color, opacity: float) -> None:
    """Soft wispy mist band centred on y."""
    h = max(4, int(2 * thick))
    strip = Image.new("L", (1, 256))
    prof = [math.exp(-((((i / 255) * 2 - 1) * 2.2) ** 2)) for i in range(256)]
    strip.putdata([round(255 * opacity * v) for v in prof])
    band = strip.resize((c.W, h), Image.NEAREST)
    band = ImageChops.multiply(band, _noise_field(c.rng, (c.W, h), (12, 3), 0.35))
    _put(c, color, (0, int(y - thick)), band)


def _noise_field(
    rng: random.Random,
    size: tuple[int, int],
    cells: tuple[int, int],
    floor: float,
) -> Image.Image:
    """Smooth random field in [floor*255, 255] (bicubic upscale of a tiny random grid)."""
    cw, ch = cells
    small = Image.frombytes("L", (cw, ch), rng.randbytes(cw * ch))
    lut = [round(255 * (floor + (1 - floor) * v / 255)) for v in range(256)]
    return small.point(lut).resize(size, Image.BICUBIC)


# --------------------------------------------------------------------------- shapes


def _ridge(rng: random.Random, n: int = 64, rough: float = 0.55) -> list[float]:
    """Midpoint-displacement profile of n+1 values normalised to 0..1."""
    size = 1
    while size < n:
        size *= 2
    vals = [0.0] * (size + 1)
    vals[0], vals[size] = rng.uniform(-1, 1), rng.uniform(-1, 1)
    step, amp = size, 1.0
    while step > 1:
        half = step // 2
        for i in range(half, size, step):
            vals[i] = (vals[i - half] + vals[i + half]) / 2 + rng.uniform(-amp, amp)
        amp *= rough
        step = half
    lo, hi = min(vals), max(vals)
    span = (hi - lo) or 1.0
    return [(v - lo) / span for v in vals]


def _across(c: _Canvas, ys: list[float]) -> list[Point]:
    """Points evenly spread across the canvas width (slightly overscanned) at heights ys."""
    n = len(ys) - 1
    return [(-0.02 * c.W + 1.04 * c.W * k / n, y) for k, y in enumerate(ys)]


def _leaf_shape(
    x: float,
    y: float,
    length: float,
    width: float,
    angle: float,
    bend: float = 0.0,
    n: int = 22,
    widest: float = 0.42,
) -> tuple[list[Point], list[Point], list[Point]]:
    """Leaf from its base (x, y) pointing at `angle` degrees; returns (left, right, midrib)."""
    a = math.radians(angle)
    dx, dy = math.cos(a), math.sin(a)
    nx, ny = -dy, dx
    mid = []
    for i in range(n + 1):
        t = i / n
        off = bend * length * t * t
        mid.append((x + dx * length * t + nx * off, y + dy * length * t + ny * off))
    left, right = [], []
    k = math.log(0.5) / math.log(widest)
    for i in range(n + 1):
        t = i / n
        j0, j1 = max(0, i - 1), min(n, i + 1)
        tx, ty = mid[j1][0] - mid[j0][0], mid[j1][1] - mid[j0][1]
        tl = math.hypot(tx, ty) or 1.0
        px, py = -ty / tl, tx / tl
        hw = width / 2 * math.sin(math.pi * t**k) ** 0.85
        mx, my = mid[i]
        left.append((mx + px * hw, my + py * hw))
        right.append((mx - px * hw, my - py * hw))
    return left, right, mid


def _leaf(
    c: _Canvas,
    x: float,
    y: float,
    length: float,
    width: float,
    angle: float,
    color: str | Color,
    bend: float = 0.0,
    veins: int = 6,
    shadow: float = 0.0,
    two_tone: float = 0.12,
    widest: float = 0.42,
) -> None:
    """A two-tone paper-cut leaf with a midrib and a few veins."""
    color = _rgb(color)
    left, right, mid = _leaf_shape(x, y, length, width, angle, bend, widest=widest)
    outline = left + right[::-1]
    if shadow:
        m = _Mask(c, _bbox(outline, 2))
        m.poly(outline)
        _shadow(c, m, shadow, dy=shadow * 0.5, opacity=0.3)
    d = c.draw()
    d.polygon(outline, fill=_dark(color, two_tone))
    d.polygon(left + mid[::-1], fill=_light(color, two_tone * 0.8))
    vein_col = (*_light(color, 0.35), 150)
    lw = max(1, round(width * 0.035))
    d.line(mid[: len(mid) - 2], fill=vein_col, width=lw + 1)
    n = len(mid) - 1
    for k in range(1, veins + 1):
        i = round(n * (0.1 + 0.8 * k / (veins + 1)))
        j = min(n, i + 3)
        for side in (left, right):
            ex = side[j][0] * 0.85 + mid[j][0] * 0.15
            ey = side[j][1] * 0.85 + mid[j][1] * 0.15
            d.line([mid[i], (ex, ey)], fill=(*_light(color, 0.25), 90), width=lw)


def _pod(
    c: _Canvas,
    sx: float,
    sy: float,
    length: float,
    width: float,
    angle: float,
    colors: tuple[str, str, str],
    shadow: bool = True,
    stem: float = 0.12,
) -> None:
    """A ridged cacao pod hanging from stem point (sx, sy) along `angle` degrees."""
    light, mid, dark = (_rgb(v) for v in colors)
    a = math.radians(angle)
    ax, ay = math.cos(a), math.sin(a)
    px, py = -ay, ax

    def hw(v: float) -> float:
        s = v * 2 - 1
        p = 0.5 + 0.55 * v
        neck = 1 - 0.22 * max(0.0, 0.2 - v) / 0.2
        return width / 2 * max(0.0, 1 - s * s) ** p * neck

    def pt(v: float, f: float) -> Point:
        r = hw(v) * f
        d = v * length
        return (sx + ax * d + px * r, sy + ay * d + py * r)

    lsx, lsy, lz = -0.55, -0.6, 0.65
    ll = math.sqrt(lsx * lsx + lsy * lsy + lz * lz)
    lx = (lsx * px + lsy * py) / ll
    ly = (lsx * ax + lsy * ay) / ll
    lz /= ll

    nv, nphi = 22, 24
    stem_from = (sx, sy)
    sl = length * stem
    sx, sy = sx + ax * sl, sy + ay * sl
    outline = [pt(i / 40, -1) for i in range(41)] + [pt(1 - i / 40, 1) for i in range(41)]
    if shadow:
        m = _Mask(c, _bbox(outline, width * 0.3))
        m.poly(outline)
        _shadow(c, m, width * 0.12, dx=width * 0.06, dy=width * 0.1, opacity=0.45)
    if stem:
        c.draw().line(
            [stem_from, (sx + ax * sl * 0.5, sy + ay * sl * 0.5)],
            fill=_mix(dark, "#5a4a2a", 0.5),
            width=max(2, round(width * 0.12)),
        )
    d = c.draw()
    vs = [j / nv for j in range(nv + 1)]
    phis = [-math.pi / 2 + math.pi * i / nphi for i in range(nphi + 1)]
    for j in range(nv):
        v0, v1 = vs[j], vs[j + 1]
        vm = (v0 + v1) / 2
        r = hw(vm)
        dr = (hw(min(1, vm + 0.01)) - hw(max(0, vm - 0.01))) / (0.02 * length)
        for i in range(nphi):
            f0, f1 = math.sin(phis[i]), math.sin(phis[i + 1])
            pm = (phis[i] + phis[i + 1]) / 2
            pn = pm + 0.42 * math.sin(10 * pm)
            nx_, ny_, nz_ = math.sin(pn), -dr * (r > 0), math.cos(pn)
            nl = math.sqrt(nx_ * nx_ + ny_ * ny_ + nz_ * nz_)
            b = max(0.0, (nx_ * lx + ny_ * ly + nz_ * lz) / nl)
            b = 0.12 + 0.88 * b
            col = _mix(dark, mid, b / 0.55) if b < 0.55 else _mix(mid, light, (b - 0.55) / 0.45)
            quad = [pt(v0, f0), pt(v0, f1), pt(v1, f1), pt(v1, f0)]
            d.polygon(quad, fill=col)
    hx, hy = pt(0.33, -0.45)
    _glow(c, hx, hy, width * 0.2, (255, 250, 225), 0.35, 1.6, ry=length * 0.16)
    # a few specks of texture
    rng = c.rng
    for _ in range(int(length / c.u / 6)):
        v, f = rng.uniform(0.1, 0.9), rng.uniform(-0.9, 0.9)
        x, y = pt(v, f)
        rr = width * rng.uniform(0.008, 0.016)
        d.ellipse((x - rr, y - rr, x + rr, y + rr), fill=(*dark, 70))


def _trunk(
    c: _Canvas,
    center: list[Point],
    widths: list[float],
    color: str | Color,
    light_side: float = -1.0,
) -> list[Point]:
    """Paper-cut trunk/branch along a centre line; returns its outline."""
    color = _rgb(color)
    left, right = [], []
    n = len(center)
    for i, ((x, y), w) in enumerate(zip(center, widths, strict=True)):
        j0, j1 = max(0, i - 1), min(n - 1, i + 1)
        tx, ty = center[j1][0] - center[j0][0], center[j1][1] - center[j0][1]
        tl = math.hypot(tx, ty) or 1.0
        nx, ny = -ty / tl, tx / tl
        left.append((x + nx * w / 2, y + ny * w / 2))
        right.append((x - nx * w / 2, y - ny * w / 2))
    outline = left + right[::-1]
    m = _Mask(c, _bbox(outline, 2))
    m.poly(outline)
    ang = 0 if light_side < 0 else 180
    _paint(c, m, _light(color, 0.12), _dark(color, 0.35), angle=ang)
    d = c.draw()
    rng = c.rng
    # bark: long wavy strokes
    for _ in range(max(3, int(sum(widths) / len(widths) / (6 * c.u)))):
        f = rng.uniform(-0.8, 0.8)
        i0 = rng.randrange(0, max(1, n - 3))
        i1 = min(n, i0 + rng.randint(3, max(4, n // 2)))
        pts = []
        for i in range(i0, i1):
            lx, ly = left[i]
            rx, ry = right[i]
            t = (f + 1) / 2 + 0.03 * math.sin(i * 1.3 + f * 5)
            pts.append((lx + (rx - lx) * t, ly + (ry - ly) * t))
        if len(pts) > 1:
            tone = _dark(color, 0.3) if rng.random() < 0.6 else _light(color, 0.2)
            d.line(pts, fill=(*tone, 120), width=max(1, round(c.u * 1.6)), joint="curve")
    return outline


# --------------------------------------------------------------------------- finishing


def _finish(c: _Canvas, width: int, height: int, vignette: float = 0.38) -> bytes:
    img = c.img.resize((width, height), Image.LANCZOS)
    rng = c.rng
    # paper mottling + fine grain
    mottle = _noise_field(rng, (width, height), (max(2, width // 40), max(2, height // 40)), 0.0)
    grain = Image.frombytes("L", (width, height), rng.randbytes(width * height))
    grain = grain.point([round(128 + (v - 128) * 0.09) for v in range(256)])
    mottle = mottle.point([round(128 + (v - 128) * 0.03) for v in range(256)])
    tex = ImageChops.add(grain, mottle, 1.0, -128)
    tex_rgb = Image.merge("RGB", (tex, tex, tex))
    img = ImageChops.add(img, tex_rgb, 1.0, -128)
    # warm vignette
    lut = [round(255 * vignette * max(0.0, (v / 255 - 0.45) / 0.55) ** 1.6) for v in range(256)]
    vig = Image.radial_gradient("L").resize((width, height), Image.BILINEAR).point(lut)
    img.paste(Image.new("RGB", img.size, (28, 16, 12)), (0, 0), vig)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=85, optimize=True)
    return buf.getvalue()


# --------------------------------------------------------------------------- scenery parts


def _cloud(c: _Canvas, x: float, y: float, w: float, color: str | Color, alpha: float) -> None:
    """Flat-bottomed paper cloud centred at x with its base at y."""
    r = c.rng
    h = w * 0.3
    m = _Mask(c, (x - w * 0.75, y - h * 1.8, x + w * 0.75, y + 2))
    k = r.randint(3, 5)
    for i in range(k):
        t = (i + 0.5) / k
        cx = x - w / 2 + w * t
        rad = h * (0.45 + 0.55 * math.sin(math.pi * t)) * r.uniform(0.8, 1.15)
        m.ellipse(cx, y - rad * 0.6, rad, rad)
    m.rect(x - w * 0.75, y, x + w * 0.75, y + h, fill=0)
    _shadow(c, m, 6 * c.u, dy=4 * c.u, color=_dark(color, 0.3), opacity=0.15 * alpha)
    _paint(c, m, _light(color, 0.25), _dark(color, 0.05), alpha=alpha)


def _birds(c: _Canvas, x: float, y: float, n: int, color: str | Color) -> None:
    r = c.rng
    d = c.draw()
    for _ in range(n):
        bx, by = x + r.uniform(-90, 90) * c.u, y + r.uniform(-40, 40) * c.u
        s = r.uniform(7, 13) * c.u
        flap = r.uniform(0.2, 0.6)
        pts = [(bx - s, by - s * flap), (bx - s * 0.4, by - s * 0.15), (bx, by)]
        pts += [(bx + s * 0.4, by - s * 0.15), (bx + s, by - s * flap)]
        d.line(pts, fill=(*_rgb(color), 210), width=max(2, round(1.8 * c.u)), joint="curve")


def _rays(c: _Canvas, sx: float, sy: float, color: str | Color, opacity: float, n: int) -> None:
    """Soft god rays fanning down from (sx, sy)."""
    r = c.rng
    k = 4
    small = Image.new("L", (c.W // k, c.H // k), 0)
    d = ImageDraw.Draw(small)
    for _ in range(n):
        ang = math.radians(r.uniform(60, 120))
        spread = math.radians(r.uniform(1.5, 4.5))
        length = c.H * 1.6 / k
        x0, y0 = sx / k, sy / k
        p1 = (x0 + math.cos(ang - spread) * length, y0 + math.sin(ang - spread) * length)
        p2 = (x0 + math.cos(ang + spread) * length, y0 + math.sin(ang + spread) * length)
        d.polygon([(x0, y0), p1, p2], fill=r.randint(90, 255))
    small = small.filter(ImageFilter.GaussianBlur(6 * c.u))
    fade = _vgrad((c.W // k, c.H // k), [(0, (255,) * 3), (1, (60,) * 3)]).convert("L")
    small = ImageChops.multiply(small, fade)
    _put(c, color, (0, 0), _scale(small, opacity).resize((c.W, c.H), Image.BILINEAR))


def _canopy(
    c: _Canvas,
    base: float,
    crown: float,
    color: Color,
    haze: Color,
    shadow: float = 0.25,
    emergent: float = 0.08,
    palms: float = 0.06,
) -> list[tuple[float, float, float]]:
    """A row of lumpy tree crowns (cloud-forest canopy) standing on y=base.

    Returns the crowns as (x, y, radius) so callers can add highlights.
    """
    r = c.rng
    m = _Mask(c, (0, base - crown * 5, c.W, c.H))
    m.rect(0, base, c.W, c.H)
    crowns = []
    x = -crown * r.uniform(0, 1)
    while x < c.W + crown:
        rad = crown * r.uniform(0.55, 1.15)
        y = base + r.uniform(-0.3, 0.5) * crown
        roll = r.random()
        if roll < emergent:
            top = y - crown * r.uniform(1.1, 1.7)
            m.line([(x, y + crown), (x + r.uniform(-0.2, 0.2) * crown, top)], crown * 0.14)
            for _ in range(r.randint(4, 6)):
                ex, ey = x + r.uniform(-1.1, 1.1) * crown, top + r.uniform(-0.25, 0.3) * crown
                er = crown * r.uniform(0.4, 0.65)
                m.ellipse(ex, ey, er, er * 0.75)
                crowns.append((ex, ey, er))
        elif roll < emergent + palms:
            top = y - crown * r.uniform(1.2, 2.0)
            m.line([(x, y + crown), (x, top)], crown * 0.07)
            for k in range(9):
                ang = math.radians(-180 + k * 22.5 + r.uniform(-6, 6))
                fl = crown * r.uniform(0.8, 1.1)
                pts = [
                    (x + math.cos(ang) * fl * t, top + math.sin(ang) * fl * t + fl * 0.5 * t * t)
                    for t in (0, 0.2, 0.4, 0.6, 0.8, 1.0)
                ]
                m.line(pts, crown * 0.08)
        for _ in range(r.randint(3, 5)):
            ox, oy = r.uniform(-0.7, 0.7) * rad, r.uniform(-0.5, 0.3) * rad
            er = rad * r.uniform(0.45, 0.7)
            m.ellipse(x + ox, y + oy, er, er * 0.85)
            crowns.append((x + ox, y + oy, er))
        x += rad * r.uniform(0.9, 1.4)
    if shadow:
        _shadow(c, m, crown * 0.35, opacity=shadow)
    _paint(c, m, _mix(color, haze, 0.1), _dark(color, 0.15))
    return crowns


def _frond(
    c: _Canvas,
    x: float,
    y: float,
    length: float,
    angle: float,
    bend: float,
    color: str | Color,
    leaflet: float,
) -> None:
    """Fern frond silhouette: an arching rachis with long tapering pinnae."""
    d = c.draw()
    color = (*_rgb(color), 255)
    a = math.radians(angle)
    n = 22
    pts = [(x, y)]
    for i in range(1, n + 1):
        aa = a + bend * i / n
        px, py = pts[-1]
        pts.append((px + math.cos(aa) * length / n, py + math.sin(aa) * length / n))
    d.line(pts, fill=color, width=max(2, round(leaflet * 0.12)), joint="curve")
    for i in range(2, n):
        t = i / n
        px, py = pts[i]
        tx, ty = pts[i + 1][0] - px, pts[i + 1][1] - py
        tl = math.hypot(tx, ty) or 1
        tx, ty = tx / tl, ty / tl
        ll = leaflet * (1 - t) ** 0.5 * min(1.0, 0.5 + t * 2.5)
        for side in (-1, 1):
            ox, oy = -ty * side, tx * side
            dx, dy = ox * 0.85 + tx * 0.5, oy * 0.85 + ty * 0.5
            wv = ll * 0.13
            tip = (px + dx * ll + tx * ll * 0.25, py + dy * ll + ty * ll * 0.25)
            mid = (px + dx * ll * 0.5, py + dy * ll * 0.5)
            d.polygon(
                [
                    (px - tx * wv, py - ty * wv),
                    (mid[0] - tx * wv, mid[1] - ty * wv),
                    tip,
                    (mid[0] + tx * wv, mid[1] + ty * wv),
                    (px + tx * wv, py + ty * wv),
                ],
                fill=color,
            )


def _tree_fern(c: _Canvas, x: float, ground: float, height: float, color: Color) -> None:
    """A tree fern: slender trunk topped with a rosette of arching fronds."""
    r = c.rng
    u = c.u
    top = ground - height
    d = c.draw()
    d.line([(x, ground), (x + r.uniform(-15, 15) * u, top)], fill=color, width=round(14 * u))
    for k in range(9):
        ang = -165 + k * 18.75 + r.uniform(-6, 6)
        bend = math.radians(110 if ang > -90 else -110) * (0.4 + 0.6 * abs(ang + 90) / 75)
        _frond(c, x, top, height * r.uniform(0.5, 0.65), ang, bend, color, 30 * u)


def _bokeh_bg(
    c: _Canvas,
    stops: list[tuple[float, str | Color]],
    spots: list[str | Color],
    n: int = 40,
    angle_light: float | None = None,
) -> None:
    """Out-of-focus background: gradient + soft leaf blobs + bokeh discs."""
    r = c.rng
    k = 8
    w, h = c.W // k, c.H // k
    small = _vgrad((w, h), stops)
    d = ImageDraw.Draw(small, "RGBA")
    for _ in range(14):
        col = _vary(r, r.choice(spots[:2]), 14)
        x, y = r.uniform(0, w), r.uniform(0, h)
        rr = r.uniform(0.08, 0.25) * h
        d.ellipse((x - rr * 1.6, y - rr, x + rr * 1.6, y + rr), fill=(*_dark(col, 0.35), 110))
    small = small.filter(ImageFilter.GaussianBlur(h * 0.06))
    d = ImageDraw.Draw(small, "RGBA")
    for _ in range(n):
        col = _rgb(r.choice(spots))
        x, y = r.uniform(0, w), r.uniform(0, h * 0.85)
        rr = r.uniform(0.012, 0.05) * h
        d.ellipse((x - rr, y - rr, x + rr, y + rr), fill=(*col, r.randint(40, 120)))
    small = small.filter(ImageFilter.GaussianBlur(h * 0.006))
    c.img.paste(small.resize((c.W, c.H), Image.BICUBIC), (0, 0))


# --------------------------------------------------------------------------- scenes


def _crowns(c: _Canvas, contour: list[Point], rad: float, color: Color, bottom: float) -> None:
    """Two-tone tree crowns filling the area below a hill contour (forest texture)."""
    r = c.rng
    d = c.draw()
    k = 1
    while True:
        row_y = None
        for j in range(0, len(contour), 2):
            x, y = contour[j]
            rr = rad * r.uniform(0.75, 1.2) * (1 + 0.12 * k)
            y += k * rad * 1.25 + r.uniform(-0.3, 0.3) * rad
            x += r.uniform(-0.5, 0.5) * rad
            row_y = y if row_y is None else min(row_y, y)
            if y - rr > bottom:
                continue
            tone = r.uniform(-0.04, 0.04)
            d.ellipse(
                (x - rr, y - rr * 0.85, x + rr, y + rr * 0.85),
                fill=_dark(color, 0.12 + tone),
            )
            d.ellipse(
                (x - rr * 0.9, y - rr * 0.85, x + rr * 0.6, y + rr * 0.45),
                fill=_light(color, 0.05 + tone),
            )
        k += 1
        if row_y is None or row_y > bottom + rad:
            break


def _scene_valley(c: _Canvas) -> None:
    r, W, H, u = c.rng, c.W, c.H, c.u
    stops = SKIES[r.choice(["dawn", "day", "golden", "mist"])]
    hz = H * r.uniform(0.38, 0.45)
    _sky(c, stops, hz + H * 0.12)
    haze = _rgb(stops[-1][1])
    sun_x, sun_y = W * r.uniform(0.18, 0.82), hz - H * r.uniform(0.04, 0.16)
    _glow(c, sun_x, sun_y, 620 * u, "#fff0c4", 0.55, 2.4)
    _glow(c, sun_x, sun_y, 170 * u, "#fff5d8", 0.55, 1.6)
    sr = 46 * u
    c.draw().ellipse((sun_x - sr, sun_y - sr, sun_x + sr, sun_y + sr), fill=(255, 246, 220))
    for _ in range(r.randint(2, 4)):
        _cloud(
            c,
            r.uniform(0.05, 0.95) * W,
            r.uniform(0.12, 0.3) * H,
            r.uniform(160, 320) * u,
            _light(haze, 0.35),
            0.8,
        )
    far = _mix(haze, "#7f98b2", 0.6)
    near = _vary(r, "#2c4a35", 8)
    vx = W * r.uniform(0.36, 0.64)
    floor_y = hz + H * r.uniform(0.15, 0.19)
    n = r.randint(3, 4)
    for i in range(n):
        t = i / n
        base = hz + (floor_y - hz) * (0.15 + 0.85 * t)
        amp = H * (0.22 - 0.1 * t)
        prof = _ridge(r, 64, r.uniform(0.45, 0.6))
        pts = []
        for k, v in enumerate(prof):
            x = -0.02 * W + 1.04 * W * k / (len(prof) - 1)
            dip = math.exp(-(((x - vx) / (0.22 * W)) ** 2))
            pts.append((x, base - amp * (0.3 + 0.7 * v) * (1 - 0.65 * dip)))
        pts += [(W * 1.02, H), (-W * 0.02, H)]
        col = _mix(far, _mix(near, far, 0.45), t)
        m = _Mask(c, _bbox(pts))
        m.poly(pts)
        if i:
            _shadow(c, m, 12 * u, opacity=0.2)
        _paint(c, m, _light(col, 0.05), _dark(col, 0.1))
        _mist(c, base - amp * 0.2, amp * 0.35, haze, 0.55)
    # valley floor with fields
    floor_col = _mix(_vary(r, "#6d8c4e", 8), haze, 0.25)
    m = _Mask(c, (0, floor_y - H * 0.03, W, H))
    m.rect(0, floor_y - H * 0.03, W, H)
    _paint(c, m, _mix(floor_col, haze, 0.3), _dark(floor_col, 0.3))
    d = c.draw()
    field_cols = ["#8aa65a", "#5d7f42", "#a9a35b", "#7b9a4a", "#c2a35f", "#4e7040"]
    for _ in range(70):
        fy = floor_y + (H - floor_y) * r.uniform(0.0, 1) ** 1.8
        depth = (fy - floor_y) / (H - floor_y)
        fw = (40 + 380 * depth) * u * r.uniform(0.6, 1.4)
        fh = fw * r.uniform(0.12, 0.22)
        fx = r.uniform(-0.05, 1.05) * W
        sk = fw * r.uniform(-0.3, 0.3)
        col = _mix(r.choice(field_cols), haze, 0.3 * (1 - depth))
        d.polygon(
            [(fx, fy), (fx + fw, fy), (fx + fw + sk, fy + fh), (fx + sk, fy + fh)],
            fill=(*col, 140),
        )
    # foothills: a V-shaped ridge the river emerges from
    prof = _ridge(r, 64, 0.5)
    pts = []
    for k, v in enumerate(prof):
        x = -0.02 * W + 1.04 * W * k / (len(prof) - 1)
        dip = math.exp(-(((x - vx) / (0.13 * W)) ** 2))
        pts.append((x, floor_y - H * 0.09 * (0.3 + 0.7 * v) * (1 - dip) + H * 0.035 * dip))
    pts += [(W * 1.02, floor_y + H * 0.1), (-W * 0.02, floor_y + H * 0.1)]
    col = _mix(near, far, 0.3)
    m = _Mask(c, _bbox(pts))
    m.poly(pts)
    _shadow(c, m, 12 * u, opacity=0.22)
    _paint(c, m, _light(col, 0.04), _mix(col, floor_col, 0.5))
    _mist(c, floor_y + H * 0.05, H * 0.04, haze, 0.3)
    # river
    ph, amp_r = r.uniform(0, math.tau), W * r.uniform(0.08, 0.15)
    drift = W * r.uniform(-0.1, 0.1)

    def river(t: float) -> tuple[float, float, float]:
        y = floor_y + H * 0.03 + (H * 1.04 - floor_y - H * 0.03) * t
        x = vx + amp_r * t**1.3 * math.sin(t * 4.2 + ph) + drift * t
        return x, y, 2.5 * u + W * 0.08 * t**2.1

    ts = [i / 60 for i in range(61)]
    left = [(river(t)[0] - river(t)[2], river(t)[1]) for t in ts]
    right = [(river(t)[0] + river(t)[2], river(t)[1]) for t in ts]
    bank = [(x - 7 * u * t, y) for (x, y), t in zip(left, ts, strict=True)]
    bank += [(x + 7 * u * t, y) for (x, y), t in zip(right[::-1], ts[::-1], strict=True)]
    d.polygon(bank, fill=_mix("#c9b48a", haze, 0.3))
    m = _Mask(c, _bbox(left + right, 2))
    m.poly(left + right[::-1])
    water = _mix(haze, "#7fa6b8", 0.35)
    _paint(c, m, _light(water, 0.25), _mix(water, "#3f6f86", 0.45))
    for _ in range(14):
        t0 = r.uniform(0.1, 0.95)
        x, y, w = river(t0)
        off = r.uniform(-0.6, 0.6) * w
        ln = w * r.uniform(0.3, 0.8)
        d.line(
            [(x + off - ln / 2, y), (x + off + ln / 2, y)],
            fill=(255, 255, 255, 90),
            width=max(2, round(2 * u * (0.5 + t0))),
        )
    # side hills with tree lines
    xb_l = river(1.0)[0] - river(1.0)[2] - W * r.uniform(0.03, 0.1)
    xb_r = river(1.0)[0] + river(1.0)[2] + W * r.uniform(0.03, 0.1)
    for side in (-1, 1):
        y0 = floor_y + H * r.uniform(-0.06, 0.06)
        ex = xb_l if side < 0 else xb_r
        pts = []
        for k in range(41):
            t = k / 40
            x = (-0.03 * W) + (ex + 0.03 * W) * t if side < 0 else W * 1.03 - (W * 1.03 - ex) * t
            pts.append((x, y0 + (H * 1.02 - y0) * t**2.4))
        col = _mix(near, haze, 0.1)
        m = _Mask(c, _bbox(pts, 60 * u))
        m.poly([*pts, (pts[-1][0], H + 10), (pts[0][0], H + 10)])
        for k in range(40):
            x, y = pts[k]
            rad = r.uniform(10, 22) * u * (1 + k / 25)
            m.ellipse(x, y - rad * 0.3, rad, rad * 0.85)
        _shadow(c, m, 16 * u, opacity=0.3)
        _paint(c, m, _light(col, 0.06), _dark(col, 0.3))
        _crowns(c, pts, 18 * u, _dark(col, 0.05), H)
    # framing foliage in one bottom corner
    fx = r.choice([-0.02, 1.02]) * W
    lean = 1 if fx < 0 else -1
    leaf_col = _dark(near, 0.35)
    for _ in range(r.randint(4, 6)):
        ang = (-60 if lean > 0 else -120) + r.uniform(-30, 30)
        _leaf(
            c,
            fx,
            H * r.uniform(0.95, 1.05),
            r.uniform(280, 440) * u,
            r.uniform(80, 120) * u,
            ang,
            _vary(r, leaf_col, 6),
            bend=0.25 * lean,
            veins=5,
            shadow=10 * u,
        )
    _birds(
        c,
        sun_x + r.uniform(-300, 300) * u,
        hz - H * r.uniform(0.15, 0.3),
        r.randint(3, 5),
        _dark(far, 0.5),
    )


def _scene_cloud_forest(c: _Canvas) -> None:
    r, W, H, u = c.rng, c.W, c.H, c.u
    stops = r.choice(
        [
            [(0.0, "#6a9ac0"), (0.55, "#eadcc4"), (1.0, "#f8d29a")],
            [(0.0, "#8aa9c4"), (0.6, "#e4e4da"), (1.0, "#f3e2c0")],
            [(0.0, "#7f94b8"), (0.5, "#f0cdb0"), (1.0, "#f9c58a")],
        ],
    )
    _sky(c, stops, H * 0.75)
    haze = _light(_rgb(stops[-1][1]), 0.15)
    sx, sy = W * r.uniform(0.25, 0.75), H * r.uniform(0.08, 0.2)
    _glow(c, sx, sy, 800 * u, "#fff1c4", 0.65, 2.0)
    _glow(c, sx, sy, 120 * u, "#fffbe8", 0.7, 1.4)
    far = _mix(haze, "#5f94a0", 0.6)
    near = _vary(r, "#134a2c", 6)
    n = 5
    for i in range(n):
        t = i / (n - 1)
        base = H * (0.4 + 0.5 * t**1.2)
        crown = (22 + 62 * t) * u
        col = _mix(far, near, t**0.8)
        _canopy(c, base, crown, col, haze, shadow=0.15 + 0.2 * t)
        if i < n - 1:
            _mist(c, base + crown * 0.5, (45 + 50 * t) * u, haze, 0.8 - 0.25 * t)
    _rays(c, sx, sy, "#fff7dc", 0.3, 10)
    side = r.choice([-1, 1])
    # tree ferns on the open side
    for k in reversed(range(r.randint(1, 2))):
        _tree_fern(
            c,
            W * (0.5 - side * r.uniform(0.05, 0.38)),
            H * 1.02,
            H * r.uniform(0.45, 0.6) * (1 - 0.3 * k),
            _mix(_dark(near, 0.35), haze, 0.25 * k),
        )
    # foreground: mossy trunk with epiphytes and vines
    tx = W * (0.5 + side * 0.42) + r.uniform(-40, 40) * u
    tw = r.uniform(100, 140) * u
    center = [(tx + math.sin(k * 0.5) * 10 * u, H * 1.02 - H * 1.05 * k / 12) for k in range(13)]
    _trunk(c, center, [tw * (1.25 - 0.25 * k / 12) for k in range(13)], _mix("#4a4030", near, 0.4))
    d = c.draw()
    for _ in range(r.randint(4, 7)):
        mx, my = tx + r.uniform(-0.4, 0.4) * tw, r.uniform(0.05, 1) * H
        for _ in range(r.randint(4, 8)):
            px, py = mx + r.uniform(-20, 20) * u, my + r.uniform(-40, 40) * u
            mr = r.uniform(8, 18) * u
            d.ellipse((px - mr, py - mr * 0.7, px + mr, py + mr * 0.7), fill=(96, 128, 70, 70))
    for _ in range(r.randint(2, 3)):
        by = H * r.uniform(0.2, 0.75)
        bx = tx - side * tw * 0.45
        for j in range(11):
            ang = -170 + j * 16 + r.uniform(-5, 5)
            ln = r.uniform(45, 75) * u * (1 - 0.4 * abs(ang + 90) / 90)
            col = "#c2413c" if j % 2 else "#5f8a3a"
            lf = _leaf_shape(bx, by, ln, ln * 0.2, ang, 0.15 if ang < -90 else -0.15, n=8)
            d.polygon(lf[0] + lf[1][::-1], fill=_rgb(col))
    for _ in range(r.randint(3, 6)):
        vx = tx + r.uniform(-1, 1) * tw * 1.8
        pts = [(vx + math.sin(j * 0.6 + vx) * 8 * u, j * H * 0.05) for j in range(r.randint(6, 14))]
        d.line(pts, fill=(*_dark(near, 0.3), 230), width=round(3 * u), joint="curve")
    for _ in range(r.randint(5, 7)):
        fx = r.uniform(-0.05, 1.05) * W
        ang = -90 + r.uniform(-60, 60)
        bend = math.radians(60 if ang > -90 else -60)
        _frond(
            c,
            fx,
            H * 1.03,
            r.uniform(300, 460) * u,
            ang,
            bend,
            _dark(near, r.uniform(0.25, 0.55)),
            r.uniform(50, 70) * u,
        )
    _band(c, 0, H * 0.3, haze, 0.25, 0.0)


def _leafy_branch(
    c: _Canvas,
    x: float,
    y: float,
    angle: float,
    length: float,
    leaf: float,
    side: int,
) -> None:
    """A thin cacao branch entering the frame with a whorl of drooping leaves at its tip."""
    r, u = c.rng, c.u
    a = math.radians(angle)
    ex, ey = x + math.cos(a) * length, y + math.sin(a) * length
    mx, my = (x + ex) / 2, (y + ey) / 2 - length * 0.08
    pts = [
        (
            (1 - t) ** 2 * x + 2 * (1 - t) * t * mx + t * t * ex,
            (1 - t) ** 2 * y + 2 * (1 - t) * t * my + t * t * ey,
        )
        for t in (i / 12 for i in range(13))
    ]
    c.draw().line(pts, fill=(92, 72, 52), width=round(10 * u), joint="curve")
    for k in range(r.randint(4, 6)):
        t = 0.55 + 0.45 * k / 5
        bx, by = pts[round(t * 12)]
        young = r.random() < 0.2
        col = r.choice(["#a4573b", "#b9784b"]) if young else _vary(r, r.choice(LEAF_GREENS), 6)
        ang = 90 + side * r.uniform(-10, 55)
        _leaf(
            c,
            bx,
            by,
            leaf * r.uniform(0.8, 1.1),
            leaf * r.uniform(0.26, 0.32),
            ang,
            col,
            bend=-side * r.uniform(0.05, 0.2),
            shadow=14 * u,
            veins=7,
        )


def _scene_cacao_pod(c: _Canvas) -> None:
    r, W, H, u = c.rng, c.W, c.H, c.u
    bg = [(0.0, "#4c6a3f"), (0.5, "#27432f"), (1.0, "#172b21")]
    _bokeh_bg(c, bg, ["#7fa35a", "#3d6a3c", "#f3d98a", "#cfe08f", "#f6e7b0"], n=55)
    gx = W * r.uniform(0.2, 0.8)
    _glow(c, gx, H * 0.05, 800 * u, "#ffe3a0", 0.3, 1.8)
    open_side = r.choice([-1, 1])
    tx = W * (0.5 - open_side * r.uniform(0.12, 0.2))
    tw = r.uniform(170, 220) * u
    lean = r.uniform(-0.08, 0.08)

    def trunk_x(y: float) -> float:
        return tx + lean * (H - y)

    center = [
        (
            trunk_x(H * 1.03 - H * 1.08 * k / 12) + math.sin(k * 0.8) * 6 * u,
            H * 1.03 - H * 1.08 * k / 12,
        )
        for k in range(13)
    ]
    _leafy_branch(
        c,
        W * (0.5 - open_side * 0.6),
        H * r.uniform(0.0, 0.15),
        90 - open_side * 90 + open_side * r.uniform(0, 25) * -1,
        W * 0.35,
        520 * u,
        open_side,
    )
    _trunk(c, center, [tw] * 13, _vary(r, "#6e5a45", 10))
    d = c.draw()
    for _ in range(r.randint(3, 5)):
        ly = r.uniform(0, H)
        lx = trunk_x(ly) + r.uniform(-0.3, 0.3) * tw
        col = _rgb(r.choice(["#a9b39a", "#c9c7b0", "#8fa28a"]))
        for _ in range(r.randint(3, 7)):
            px, py = lx + r.uniform(-14, 14) * u, ly + r.uniform(-22, 22) * u
            lr = r.uniform(5, 12) * u
            d.ellipse((px - lr, py - lr * 0.7, px + lr, py + lr * 0.7), fill=(*col, 90))
    # flowers growing straight from the trunk
    for _ in range(r.randint(3, 5)):
        fy = H * r.uniform(0.05, 0.95)
        fx = trunk_x(fy) + r.uniform(-0.3, 0.3) * tw
        d.ellipse((fx - 8 * u, fy - 6 * u, fx + 8 * u, fy + 6 * u), fill=(110, 92, 70))
        for _ in range(r.randint(2, 5)):
            px, py = fx + r.uniform(-22, 22) * u, fy + r.uniform(-22, 22) * u
            d.line([(fx, fy), (px, py)], fill=(170, 140, 110), width=round(2 * u))
            for k in range(5):
                a = k * math.tau / 5 + r.uniform(0, 1)
                qx, qy = px + math.cos(a) * 6 * u, py + math.sin(a) * 6 * u
                d.ellipse(
                    (qx - 3.6 * u, qy - 3.6 * u, qx + 3.6 * u, qy + 3.6 * u),
                    fill=(250, 240, 232),
                )
            d.ellipse(
                (px - 2.6 * u, py - 2.6 * u, px + 2.6 * u, py + 2.6 * u),
                fill=(206, 110, 140),
            )
    scheme = r.choice(list(POD_COLORS))
    pods = [
        (
            open_side,
            H * r.uniform(0.06, 0.14),
            r.uniform(30, 42),
            H * r.uniform(0.52, 0.58),
            scheme,
        ),
        (
            open_side,
            H * r.uniform(0.5, 0.58),
            r.uniform(12, 22),
            H * r.uniform(0.44, 0.5),
            scheme if r.random() < 0.6 else "green",
        ),
    ]
    if r.random() < 0.7:
        pods.append(
            (
                -open_side,
                H * r.uniform(0.3, 0.45),
                r.uniform(10, 20),
                H * r.uniform(0.38, 0.44),
                r.choice([scheme, "green"]),
            ),
        )
    for side, sy, tilt, length, col in pods:
        sx = trunk_x(sy) + side * tw * 0.4
        d = c.draw()
        d.ellipse((sx - 16 * u, sy - 12 * u, sx + 16 * u, sy + 12 * u), fill=(96, 80, 58))
        _pod(
            c,
            sx,
            sy,
            length,
            length * r.uniform(0.42, 0.47),
            90 - side * tilt,
            POD_COLORS[col],
            stem=0.07,
        )


@lru_cache(maxsize=32)
def _unit_circle(n: int) -> tuple[tuple[float, float], ...]:
    return tuple((math.cos(math.tau * i / n), math.sin(math.tau * i / n)) for i in range(n))


def _ellipse_pts(
    cx: float,
    cy: float,
    rx: float,
    ry: float,
    angle: float = 0.0,
    n: int = 16,
) -> list[Point]:
    a = math.radians(angle)
    ca, sa = math.cos(a), math.sin(a)
    ax, ay, bx, by = rx * ca, rx * sa, -ry * sa, ry * ca
    return [(cx + x * ax + y * bx, cy + x * ay + y * by) for x, y in _unit_circle(n)]


def _bean(
    d: ImageDraw.ImageDraw,
    x: float,
    y: float,
    size: float,
    angle: float,
    color: Color,
    crease: bool = False,
    shade: float = 0.25,
) -> None:
    """A single cacao bean: shaded ellipse, highlight and optional crease."""
    d.polygon(
        _ellipse_pts(x + size * 0.12, y + size * 0.16, size, size * 0.62, angle, 12),
        fill=(20, 10, 6, 70),
    )
    d.polygon(_ellipse_pts(x, y, size, size * 0.62, angle, 14), fill=_dark(color, shade))
    d.polygon(
        _ellipse_pts(x - size * 0.12, y - size * 0.12, size * 0.82, size * 0.45, angle, 12),
        fill=color,
    )
    d.polygon(
        _ellipse_pts(x - size * 0.3, y - size * 0.22, size * 0.35, size * 0.16, angle, 10),
        fill=(*_light(color, 0.35), 160),
    )
    if crease:
        a = math.radians(angle)
        dx, dy = math.cos(a) * size * 0.75, math.sin(a) * size * 0.75
        d.line(
            [(x - dx, y - dy), (x + dx, y + dy)],
            fill=(*_dark(color, 0.45), 200),
            width=max(1, round(size * 0.08)),
        )


def _planks(
    c: _Canvas,
    quad: list[Point],
    n: int,
    color: str | Color,
    vertical: bool = False,
    grain: bool = True,
    nails: bool = False,
) -> None:
    """Fill a quadrilateral (tl, tr, br, bl) with n wooden planks."""
    r, u = c.rng, c.u
    color = _rgb(color)
    tl, tr, br, bl = quad
    d = c.draw()

    def lerp(p: Point, q: Point, t: float) -> Point:
        return (p[0] + (q[0] - p[0]) * t, p[1] + (q[1] - p[1]) * t)

    for i in range(n):
        t0, t1 = i / n, (i + 1) / n
        if vertical:
            poly = [lerp(tl, tr, t0), lerp(tl, tr, t1), lerp(bl, br, t1), lerp(bl, br, t0)]
        else:
            poly = [lerp(tl, bl, t0), lerp(tr, br, t0), lerp(tr, br, t1), lerp(tl, bl, t1)]
        col = _tone(r, color, 0.12)
        m = _Mask(c, _bbox(poly, 1))
        m.poly(poly)
        _paint(c, m, _light(col, 0.06), _dark(col, 0.1), angle=0 if vertical else 90)
        d = c.draw()
        if grain:
            for _ in range(3):
                f = r.uniform(0.15, 0.85)
                a0, a1 = lerp(poly[0], poly[3], f), lerp(poly[1], poly[2], f)
                if vertical:
                    a0, a1 = lerp(poly[0], poly[1], f), lerp(poly[3], poly[2], f)
                k = 10
                pts = []
                ph = r.uniform(0, 6)
                span = math.hypot(poly[3][0] - poly[0][0], poly[3][1] - poly[0][1])
                if vertical:
                    span = math.hypot(poly[1][0] - poly[0][0], poly[1][1] - poly[0][1])
                for j in range(k + 1):
                    p = lerp(a0, a1, j / k)
                    w = math.sin(j * 0.9 + ph) * span * 0.06
                    pts.append((p[0] + (w if vertical else 0), p[1] + (0 if vertical else w)))
                d.line(pts, fill=(*_dark(col, 0.3), 70), width=max(1, round(1.5 * u)))
        d.line(
            [poly[3], poly[2]] if not vertical else [poly[1], poly[2]],
            fill=(*_dark(col, 0.55), 200),
            width=max(1, round(2.5 * u)),
        )
        if nails:
            for p, q in ((poly[0], poly[3]), (poly[1], poly[2])):
                nx, ny = lerp(p, q, 0.5)
                off = -1 if p is poly[1] else 1
                nx += off * 14 * u
                rr = 3 * u
                d.ellipse((nx - rr, ny - rr, nx + rr, ny + rr), fill=(60, 52, 48))


def _banana(c: _Canvas, x: float, ground: float, height: float, color: Color) -> None:
    """Banana plant: short pseudostem with big arching paddle leaves (shade crop)."""
    r, u = c.rng, c.u
    top = ground - height * 0.45
    d = c.draw()
    stem = _mix(color, "#7a7a45", 0.35)
    d.polygon(
        [(x - 16 * u, ground), (x + 16 * u, ground), (x + 9 * u, top), (x - 9 * u, top)],
        fill=stem,
    )
    d.line(
        [(x - 4 * u, ground), (x - 2 * u, top)],
        fill=(*_light(stem, 0.2), 160),
        width=round(3 * u),
    )
    n = r.randint(5, 7)
    for k in range(n):
        ang = -90 + (k - (n - 1) / 2) * (150 / (n - 1)) + r.uniform(-8, 8)
        side = 1 if ang > -90 else -1
        ln = height * r.uniform(0.5, 0.62)
        bend = side * (0.15 + 0.45 * abs(ang + 90) / 75)
        col = _vary(r, color, 8) if r.random() < 0.85 else _mix(color, "#b59a4a", 0.6)
        _leaf(
            c,
            x,
            top + r.uniform(0, 0.04) * height,
            ln,
            ln * 0.3,
            ang,
            col,
            bend=bend,
            veins=10,
            widest=0.5,
        )


def _scene_cacao_tree(c: _Canvas) -> None:
    r, W, H, u = c.rng, c.W, c.H, c.u
    stops = SKIES[r.choice(["day", "dawn", "golden"])]
    _sky(c, stops, H * 0.6)
    haze = _rgb(stops[-1][1])
    _glow(c, W * r.uniform(0.1, 0.9), H * 0.15, 700 * u, "#fff1c8", 0.5, 2.0)
    far = _mix(haze, "#7d9aa8", 0.5)
    for i in range(2):
        prof = _ridge(r, 32, 0.5)
        base = H * (0.42 + 0.08 * i)
        pts = _across(c, [base - H * (0.08 + 0.1 * v) for v in prof])
        m = _Mask(c, _bbox([*pts, (0, H)]))
        m.poly([*pts, (W * 1.02, H), (-W * 0.02, H)])
        _paint(c, m, _mix(far, "#4f7a56", 0.35 * i))
        _mist(c, base, 50 * u, haze, 0.45)
    ground = H * r.uniform(0.82, 0.86)
    mid_col = _mix(haze, "#3f6b45", 0.6)
    _canopy(c, ground - H * 0.22, 46 * u, mid_col, haze, shadow=0.2, emergent=0.15, palms=0.1)
    _mist(c, ground - H * 0.14, 110 * u, haze, 0.35)
    tx = W * r.uniform(0.4, 0.6)
    for _ in range(r.randint(1, 2)):
        bx = r.choice([r.uniform(0.03, 0.2), r.uniform(0.8, 0.97)]) * W
        _banana(
            c,
            bx,
            ground + 10 * u,
            H * r.uniform(0.5, 0.6),
            _mix(_vary(r, "#5d8c3e", 8), haze, 0.2),
        )
    # ground with leaf litter
    m = _Mask(c, (0, ground - 20 * u, W, H))
    pts = [(W * k / 20, ground + math.sin(k * 1.3) * 8 * u) for k in range(21)]
    m.poly([(-10, ground + 10 * u), *pts, (W + 10, H), (-10, H)])
    _shadow(c, m, 14 * u, opacity=0.25)
    _paint(c, m, "#6f7f44", "#4a4a2c")
    d = c.draw()
    for _ in range(140):
        x, y = r.uniform(0, W), r.uniform(ground + 10 * u, H)
        sz = r.uniform(10, 22) * u * (0.6 + (y - ground) / (H - ground))
        col = _rgb(r.choice(["#8a6a3a", "#a67c45", "#6b5a32", "#7d8a4a", "#5a4a2e"]))
        d.polygon(_ellipse_pts(x, y, sz, sz * 0.35, r.uniform(-30, 30), 10), fill=(*col, 200))
    # the cacao tree: short trunk forking into a jorquette of 3-4 branches
    fork = ground - H * r.uniform(0.36, 0.42)
    bark = _vary(r, "#6d5842", 8)
    m = _Mask(c, (tx - 200 * u, ground - 20 * u, tx + 200 * u, ground + 30 * u))
    m.ellipse(tx, ground + 6 * u, 150 * u, 18 * u)
    _put(c, (30, 30, 10), (m.x0, m.y0), _soften(m.im, 10 * u, 0.4))
    foot = ground + 6 * u
    trunk_pts = [(tx + math.sin(k) * 4 * u, foot - (foot - fork) * k / 8) for k in range(9)]
    _trunk(c, trunk_pts, [64 * u - 10 * u * k / 8 for k in range(9)], bark)
    tips, branches = [], []
    nb = r.randint(3, 4)
    for b in range(nb):
        ang = math.radians(-90 + (b - (nb - 1) / 2) * r.uniform(30, 38))
        ln = H * r.uniform(0.22, 0.28)
        pts = [
            (tx + math.cos(ang) * ln * t * 1.2, fork + math.sin(ang) * ln * t + ln * 0.15 * t * t)
            for t in (k / 6 for k in range(7))
        ]
        _trunk(c, pts, [30 * u - 16 * u * k / 6 for k in range(7)], bark)
        tips.append(pts[-1])
        branches.append(pts)
    # crown: a dark foliage mass plus many drooping two-tone leaves
    canopy_col = _vary(r, "#2b5535", 6)
    m = _Mask(c, (0, 0, W, ground))
    for x, y in tips:
        for _ in range(5):
            m.ellipse(
                x + r.uniform(-110, 110) * u,
                y + r.uniform(-30, 70) * u,
                r.uniform(80, 120) * u,
                r.uniform(60, 90) * u,
            )
    _shadow(c, m, 20 * u, dy=12 * u, opacity=0.3)
    _paint(c, m, _light(canopy_col, 0.06), _dark(canopy_col, 0.3))
    leaves = []
    for x, y in tips:
        for _ in range(14):
            leaves.append((x + r.uniform(-190, 190) * u, y + r.uniform(-80, 110) * u))
    leaves.sort(key=lambda p: p[1])
    for x, y in leaves:
        young = r.random() < 0.1
        col = r.choice(["#a4573b", "#b9784b"]) if young else _vary(r, r.choice(LEAF_GREENS), 8)
        side = 1 if x > tx else -1
        _leaf(
            c,
            x,
            y,
            r.uniform(120, 175) * u,
            r.uniform(38, 50) * u,
            90 + side * r.uniform(-10, 70),
            col,
            bend=-side * 0.12,
            veins=4,
        )
    # pods straight on the trunk and lower branches (cauliflory)
    scheme = r.choice(list(POD_COLORS))
    spots = []
    for f, side in ((0.1, -1), (0.3, 1), (0.48, -1), (0.66, 1)):
        y = fork + (ground - fork) * f
        spots.append((tx + side * 26 * u, y, side))
    for pts in branches:
        x, y = pts[2]
        spots.append((x, y + 10 * u, 1 if x > tx else -1))
    r.shuffle(spots)
    for x, y, side in spots[: r.randint(5, 7)]:
        ln = H * r.uniform(0.12, 0.15)
        if y + ln > ground:
            continue
        col = POD_COLORS[scheme if r.random() < 0.7 else r.choice(["green", "yellow", "maroon"])]
        _pod(c, x, y, ln, ln * 0.45, 90 - side * r.uniform(8, 28), col, stem=0.08)
    if r.random() < 0.75:
        bx = tx + r.choice([-1, 1]) * W * r.uniform(0.16, 0.24)
        _basket(c, bx, ground + (H - ground) * 0.5, 120 * u, scheme)


def _basket(c: _Canvas, x: float, y: float, w: float, scheme: str) -> None:
    """Woven basket full of harvested pods, seen from the front."""
    r, u = c.rng, c.u
    for k in range(4):
        px = x + (k - 1.5) * w * 0.42 + r.uniform(-8, 8) * u
        _pod(
            c,
            px,
            y - w * 0.78,
            w * 0.9,
            w * 0.42,
            r.uniform(55, 125),
            POD_COLORS[scheme if k % 2 else r.choice(list(POD_COLORS))],
            shadow=False,
            stem=0,
        )
    body = [(x - w, y - w * 0.35), (x + w, y - w * 0.35)]
    ts = [k / 8 for k in range(1, 9)]
    body += [(x + w * (0.95 - 0.25 * t * t), y - w * 0.35 + w * 0.8 * t) for t in ts]
    body += [(x - w * (0.95 - 0.25 * t * t), y - w * 0.35 + w * 0.8 * t) for t in ts[::-1]]
    m = _Mask(c, _bbox(body, 2))
    m.poly(body)
    _shadow(c, m, 14 * u, dx=10 * u, dy=12 * u, opacity=0.4)
    _paint(c, m, "#d0a262", "#8a6232")
    d = c.draw()
    for i in range(1, 7):
        t = i / 7
        yy = y - w * 0.35 + w * 0.8 * t
        half = w * (0.95 - 0.25 * t * t)
        d.line([(x - half, yy), (x + half, yy)], fill=(110, 76, 40, 150), width=round(3 * u))
    for k in range(-9, 10):
        t = k / 9
        d.line(
            [(x + t * w * 0.97, y - w * 0.35), (x + t * w * 0.72, y + w * 0.45)],
            fill=(240, 200, 140, 80),
            width=round(4 * u),
        )
    d.rounded_rectangle(
        (x - w * 1.05, y - w * 0.42, x + w * 1.05, y - w * 0.28),
        radius=6 * u,
        fill=(160, 114, 62),
    )


def _window(c: _Canvas, wx: float, wy: float, ww: float, wh: float) -> None:
    """A bright window onto a sunny banana/cacao garden, with a wooden frame."""
    r, u = c.rng, c.u
    sub = c.sub(ww, wh)
    sub.img.paste(_vgrad(sub.img.size, [(0, "#fff6d8"), (0.7, "#ffe2a4"), (1, "#e9c98a")]))
    _banana(sub, ww * r.uniform(0.3, 0.8), wh * 1.1, wh * 1.2, _rgb("#86a857"))
    _leafy_branch(sub, -ww * 0.05, wh * 0.1, -10, ww * 0.5, wh * 0.5, 1)
    _band(sub, 0, wh, "#fff3d6", 0.45, 0.25)
    c.img.paste(sub.img, (round(wx), round(wy)))
    d = c.draw()
    fw = round(10 * u)
    frame = (70, 46, 30)
    d.rectangle((wx - fw, wy - fw, wx + ww + fw, wy + wh + fw), outline=frame, width=fw * 2)
    for k in (1, 2):
        x = wx + ww * k / 3
        d.line([(x, wy), (x, wy + wh)], fill=frame, width=fw)
    d.line([(wx, wy + wh / 2), (wx + ww, wy + wh / 2)], fill=frame, width=fw)
    d.rectangle(
        (wx - fw * 2, wy + wh + fw * 0.5, wx + ww + fw * 2, wy + wh + fw * 2.5),
        fill=_light(frame, 0.15),
    )


def _sack(c: _Canvas, x: float, y: float, w: float, bean_col: Color) -> None:
    """Burlap sack with a rolled rim, filled with beans, standing on y."""
    r, u = c.rng, c.u
    h = w * 1.1
    ry = y - h * 0.9
    ts = [k / 12 for k in range(13)]
    left = [(x - w * (0.42 + 0.12 * math.sin(2.5 * t)), ry + (y - ry) * t) for t in ts]
    body = left + [(2 * x - px, py) for px, py in left[::-1]]
    m = _Mask(c, _bbox(body, 2))
    m.poly(body)
    m.ellipse(x, y - h * 0.02, w * 0.52, h * 0.06)
    _shadow(c, m, 16 * u, dx=-16 * u, dy=6 * u, opacity=0.45)
    _paint(c, m, "#cdab7c", "#8e6d45", angle=0)
    d = c.draw()
    for k in range(-7, 8):
        f = k / 8
        d.line(
            [(x + f * w * 0.42, ry), (x + f * w * 0.52, y - h * 0.35), (x + f * w * 0.5, y)],
            fill=(120, 90, 56, 50),
            width=max(1, round(2 * u)),
            joint="curve",
        )
    for k in range(1, 12):
        yy = ry + (y - ry) * k / 12
        d.line(
            [(x - w * 0.5, yy), (x + w * 0.5, yy)],
            fill=(240, 215, 170, 28),
            width=max(1, round(2 * u)),
        )
    for fx in (-0.2, 0.15):
        d.line(
            [(x + fx * w, ry + h * 0.1), (x + fx * w * 1.3, y - h * 0.05)],
            fill=(110, 80, 48, 90),
            width=round(4 * u),
            joint="curve",
        )
    d.ellipse((x - w * 0.48, ry - h * 0.09, x + w * 0.48, ry + h * 0.09), fill=(182, 146, 100))
    d.ellipse((x - w * 0.4, ry - h * 0.055, x + w * 0.4, ry + h * 0.06), fill=_dark(bean_col, 0.4))
    for _ in range(40):
        a = r.uniform(0, math.tau)
        rr = r.random() ** 0.5
        bx, by = x + math.cos(a) * w * 0.34 * rr, ry + math.sin(a) * h * 0.04 * rr - h * 0.01
        _bean(d, bx, by, 9 * u, r.uniform(0, 180), _vary(r, bean_col, 12), crease=True)
    d.arc(
        (x - w * 0.49, ry - h * 0.1, x + w * 0.49, ry + h * 0.12),
        0,
        180,
        fill=(150, 116, 76),
        width=round(7 * u),
    )


def _scene_fermentation(c: _Canvas) -> None:
    r, W, H, u = c.rng, c.W, c.H, c.u
    wall = _vary(r, "#5e4030", 6)
    _planks(c, [(0, 0), (W, 0), (W, H), (0, H)], r.randint(9, 13), wall, vertical=True)
    _band(c, 0, H, (30, 18, 12), 0.1, 0.5)
    wx = W * r.uniform(0.5, 0.72)
    ww, wh = W * r.uniform(0.16, 0.2), H * 0.26
    wy = H * 0.07
    _window(c, wx, wy, ww, wh)
    _glow(c, wx + ww / 2, wy + wh / 2, ww * 1.4, "#ffd89a", 0.3, 2.2)
    k = 4
    small = Image.new("L", (W // k, H // k), 0)
    sd = ImageDraw.Draw(small)
    sd.polygon(
        [
            (wx / k, (wy + wh) / k),
            ((wx + ww) / k, (wy + wh) / k),
            ((wx + ww - W * 0.2) / k, H / k),
            ((wx - W * 0.4) / k, H / k),
        ],
        fill=210,
    )
    small = small.filter(ImageFilter.GaussianBlur(16 * u / k))
    _put(c, "#ffd89a", (0, 0), _scale(small, 0.22).resize((W, H), Image.BILINEAR))
    floor_y = H * 0.82
    m = _Mask(c, (0, floor_y, W, H))
    m.rect(0, floor_y, W, H)
    _paint(c, m, "#4a3224", "#2a1c14")
    # one long fermentation box divided into compartments
    x0, x1 = W * r.uniform(0.03, 0.08), W * r.uniform(0.84, 0.88)
    dx, dy = W * 0.06, H * 0.16
    y0, y1 = H * r.uniform(0.5, 0.55), H * 0.9
    wood = _vary(r, "#a86a38", 8)
    outline = [
        (x0, y0),
        (x0 + dx, y0 - dy),
        (x1 + dx, y0 - dy),
        (x1 + dx, y1 - dy),
        (x1, y1),
        (x0, y1),
    ]
    m = _Mask(c, _bbox(outline, 2))
    m.poly(outline)
    _shadow(c, m, 30 * u, dx=-24 * u, dy=12 * u, opacity=0.55)
    d = c.draw()
    d.polygon([(x0, y0), (x1, y0), (x1 + dx, y0 - dy), (x0 + dx, y0 - dy)], fill=_dark(wood, 0.5))
    bean_cols = [_rgb(v) for v in FRESH_BEANS]
    ncomp = r.randint(2, 3)
    covered = r.randrange(ncomp)
    for k in range(ncomp):
        a0 = x0 + (x1 - x0) * k / ncomp
        a1 = x0 + (x1 - x0) * (k + 1) / ncomp
        surf = [
            (a0, y0 - dy * 0.1),
            (a1, y0 - dy * 0.1),
            (a1 + dx * 0.8, y0 - dy * 0.8),
            (a0 + dx * 0.8, y0 - dy * 0.8),
        ]
        d = c.draw()
        d.polygon(surf, fill=_dark(bean_cols[3], 0.35))
        if k == covered:
            for j in range(4):
                lx = a0 + (a1 - a0) * r.uniform(-0.02, 0.08) + dx * (0.7 - 0.2 * j)
                _leaf(
                    c,
                    lx,
                    y0 - dy * (0.72 - 0.17 * j),
                    (a1 - a0) * r.uniform(0.85, 0.95),
                    dy * r.uniform(0.42, 0.5),
                    r.uniform(-3, 2),
                    _vary(r, "#77a23f", 10),
                    veins=16,
                    shadow=8 * u,
                    widest=0.5,
                    two_tone=0.12,
                )
            continue
        nb = int((a1 - a0) * dy * 0.7 / (12 * u) ** 2 * 1.4)
        for _ in range(nb):
            s_, t_ = r.random(), r.random()
            bx = a0 + 12 * u + s_ * (a1 - a0 - 18 * u) + t_ * dx * 0.8
            by = y0 - dy * 0.13 - t_ * dy * 0.65 + r.uniform(-3, 3) * u
            sz = (8 + 5 * (1 - t_)) * u * r.uniform(0.85, 1.15)
            _bean(d, bx, by, sz, r.uniform(0, 180), _vary(r, r.choice(bean_cols), 8), shade=0.2)
        if r.random() < 0.6:
            lx = a0 + (a1 - a0) * r.uniform(0.3, 0.6)
            _leaf(
                c,
                lx,
                y0 - dy * r.uniform(0.35, 0.55),
                (a1 - a0) * r.uniform(0.45, 0.6),
                dy * 0.45,
                r.uniform(-12, 6),
                _vary(r, "#6f9a3c", 10),
                veins=12,
                shadow=8 * u,
                widest=0.5,
                two_tone=0.12,
            )
    d = c.draw()
    rim = max(3, round(12 * u))
    d.line([(x0 + dx, y0 - dy), (x1 + dx, y0 - dy)], fill=_dark(wood, 0.25), width=rim)
    for k in range(ncomp + 1):
        bx = x0 + (x1 - x0) * k / ncomp
        d.line([(bx, y0), (bx + dx, y0 - dy)], fill=_light(wood, 0.08), width=rim)
    _planks(
        c,
        [(x1, y0), (x1 + dx, y0 - dy), (x1 + dx, y1 - dy), (x1, y1)],
        6,
        _dark(wood, 0.35),
        grain=False,
    )
    _planks(c, [(x0, y0), (x1, y0), (x1, y1), (x0, y1)], 6, wood, nails=True)
    d = c.draw()
    d.line([(x0, y0), (x1, y0)], fill=_light(wood, 0.2), width=rim)
    for k in range(1, ncomp):
        bx = x0 + (x1 - x0) * k / ncomp
        d.line([(bx, y0 + rim), (bx, y1)], fill=_dark(wood, 0.25), width=round(rim * 0.8))
    # paddle leaning into the box
    px0, py0 = x0 + (x1 - x0) * r.uniform(0.2, 0.8), y0 - dy * 0.45
    px1, py1 = px0 + W * r.choice([-1, 1]) * 0.1, y0 - H * 0.33
    d.line([(px0, py0), (px1, py1)], fill=(186, 140, 88), width=round(12 * u))
    ang = math.degrees(math.atan2(py1 - py0, px1 - px0))
    d.polygon(_ellipse_pts(px0, py0, 44 * u, 20 * u, ang, 18), fill=(168, 122, 74))
    _sack(c, W * r.choice([0.12, 0.9]), H * 0.98, W * 0.13, _rgb("#7a4a30"))
    # steam rising from the warm beans
    small = Image.new("L", (W // k, H // k), 0)
    sd = ImageDraw.Draw(small)
    for _ in range(r.randint(3, 5)):
        sx = r.uniform(x0, x1) / k
        sy = (y0 - dy * 0.5) / k
        pts = [(sx + math.sin(j * 0.6 + sx) * 14 * u / k, sy - j * 16 * u / k) for j in range(14)]
        sd.line(pts, fill=r.randint(120, 200), width=max(1, round(22 * u / k)), joint="curve")
    small = small.filter(ImageFilter.GaussianBlur(9 * u / k))
    _put(c, "#f6ead8", (0, 0), _scale(small, 0.45).resize((W, H), Image.BILINEAR))


def _house(c: _Canvas, x: float, ground: float, w: float, wall: str | Color) -> None:
    """Small farm house with a corrugated tin roof (adobe/wood), front view."""
    u = c.u
    h = w * 0.42
    d = c.draw()
    m = _Mask(c, (x - w * 0.6, ground - h * 2, x + w * 0.6, ground + 10 * u))
    m.rect(x - w / 2, ground - h, x + w / 2, ground)
    _shadow(c, m, 10 * u, dx=10 * u, opacity=0.3)
    _paint(c, m, _light(wall, 0.05), _dark(wall, 0.15))
    roof = [
        (x - w * 0.6, ground - h),
        (x + w * 0.6, ground - h),
        (x + w * 0.45, ground - h * 1.6),
        (x - w * 0.45, ground - h * 1.6),
    ]
    d = c.draw()
    d.polygon(roof, fill=(150, 152, 150))
    for k in range(25):
        t = k / 24
        d.line(
            [
                (x - w * 0.6 + w * 1.2 * t, ground - h),
                (x - w * 0.45 + w * 0.9 * t, ground - h * 1.6),
            ],
            fill=(110, 112, 112),
            width=max(1, round(2 * u)),
        )
    d.rectangle((x - w * 0.08, ground - h * 0.7, x + w * 0.08, ground), fill=(90, 60, 40))
    d.rectangle((x + w * 0.2, ground - h * 0.7, x + w * 0.36, ground - h * 0.35), fill=(70, 50, 36))
    d.rectangle((x - w * 0.36, ground - h * 0.7, x - w * 0.2, ground - h * 0.35), fill=(70, 50, 36))


def _scene_drying(c: _Canvas) -> None:
    r, W, H, u = c.rng, c.W, c.H, c.u
    stops = SKIES[r.choice(["day", "golden", "dawn"])]
    hz = H * 0.42
    _sky(c, stops, hz + H * 0.1)
    haze = _rgb(stops[-1][1])
    sx, sy = W * r.uniform(0.15, 0.85), H * r.uniform(0.08, 0.2)
    _glow(c, sx, sy, 600 * u, "#fff2c0", 0.6, 2.2)
    _glow(c, sx, sy, 130 * u, "#fffae6", 0.6, 1.4)
    c.draw().ellipse((sx - 40 * u, sy - 40 * u, sx + 40 * u, sy + 40 * u), fill=(255, 248, 222))
    for _ in range(r.randint(1, 3)):
        cx = (sx + W * r.uniform(0.25, 0.75)) % W
        _cloud(c, cx, r.uniform(0.12, 0.28) * H, r.uniform(160, 300) * u, _light(haze, 0.4), 0.8)
    far = _mix(haze, "#7f98b2", 0.55)
    for i in range(3):
        prof = _ridge(r, 32, 0.5)
        base = hz + H * 0.05 * i
        amp = H * (0.14 - 0.03 * i)
        pts = _across(c, [base - amp * (0.3 + 0.7 * v) for v in prof])
        m = _Mask(c, _bbox([*pts, (0, H)]))
        m.poly([*pts, (W * 1.02, H), (-W * 0.02, H)])
        _paint(c, m, _mix(far, "#4d7a4c", 0.3 * i + 0.1))
        _mist(c, base, 30 * u, haze, 0.45)
    ground = hz + H * 0.14
    _canopy(c, ground, 34 * u, _mix(haze, "#3f6b45", 0.6), haze, shadow=0.2, palms=0.15)
    m = _Mask(c, (0, ground, W, H))
    m.rect(0, ground, W, H)
    _paint(c, m, _mix("#93a05c", haze, 0.2), "#6a6a3a")
    far_bed = r.random() < 0.65
    hx = W * (0.25 if far_bed else r.choice([0.25, 0.75]))
    _house(c, hx, ground + H * 0.04, W * 0.2, _vary(r, "#d9b98c", 8))
    _banana(
        c,
        hx + W * r.choice([-0.14, 0.14]),
        ground + H * 0.05,
        H * 0.32,
        _mix(_vary(r, "#5d8c3e", 8), haze, 0.15),
    )
    d = c.draw()
    for _ in range(60):
        gx, gy = r.uniform(0, W), r.uniform(ground + H * 0.05, H)
        gs = (6 + 14 * (gy - ground) / (H - ground)) * u
        for k in range(3):
            d.line(
                [(gx, gy), (gx + (k - 1) * gs * 0.6, gy - gs * 1.6)],
                fill=(90, 110, 50, 160),
                width=max(1, round(2 * u)),
            )
    bean_cols = [_rgb(v) for v in DRY_BEANS]
    beds = []
    if far_bed:
        y_b, y_f = ground + H * 0.03, ground + H * 0.1
        beds.append((W * 0.5, W * 0.98, y_b, y_f, W * 0.03, 0.45))
    y_b, y_f = ground + H * r.uniform(0.12, 0.16), H * r.uniform(0.86, 0.92)
    inset = W * r.uniform(0.08, 0.14)
    beds.append((W * 0.04, W * 0.96, y_b, y_f, inset, 1.0))
    for x0, x1, y_b, y_f, inset, scale in beds:
        bl, br = (x0, y_f), (x1, y_f)
        tl, tr = (x0 + inset, y_b), (x1 - inset, y_b)
        rim = 16 * u * scale
        leg_h = H * 0.07 * scale
        shadow = [
            (x0 + 40 * u, y_f + leg_h),
            (x1 + 40 * u, y_f + leg_h),
            (tr[0] + 60 * u, y_b + leg_h * 0.8),
            (tl[0] + 60 * u, y_b + leg_h * 0.8),
        ]
        m = _Mask(c, _bbox(shadow, 2))
        m.poly(shadow)
        _put(c, (40, 30, 15), (m.x0, m.y0), _soften(m.im, 20 * u, 0.35))
        d = c.draw()
        for lx, ly in [tl, tr, (x0 + rim, y_f), (x1 - rim, y_f), ((x0 + x1) / 2, y_f)]:
            d.rectangle((lx - 7 * u * scale, ly, lx + 7 * u * scale, ly + leg_h), fill=(92, 64, 40))
        top = [tl, tr, br, bl]
        m = _Mask(c, _bbox(top, 2))
        m.poly(top)
        _paint(c, m, "#5a3a26", "#3a2416")
        nb = int((x1 - x0) * (y_f - y_b) / (13 * u * scale) ** 2 * 1.2)
        for _ in range(nb):
            t = r.random() ** 0.8
            s_ = r.random()
            y = y_b + (y_f - y_b) * t + 4 * u
            lx = tl[0] + (bl[0] - tl[0]) * t + rim
            rx = tr[0] + (br[0] - tr[0]) * t - rim
            x = lx + (rx - lx) * s_
            sz = (5 + 9 * t) * u * scale * r.uniform(0.85, 1.15)
            _bean(d, x, y, sz, r.uniform(-40, 40), _vary(r, r.choice(bean_cols), 8), shade=0.3)
        for k in range(1, 7):
            t = k / 7
            y = y_b + (y_f - y_b) * t**1.1
            lx = tl[0] + (bl[0] - tl[0]) * t + rim * 2
            rx = tr[0] + (br[0] - tr[0]) * t - rim * 2
            pts = [(lx + (rx - lx) * j / 20, y + math.sin(j * 0.8 + k) * 3 * u) for j in range(21)]
            d.line(pts, fill=(40, 20, 10, 90), width=max(1, round(5 * u * scale * (0.5 + t))))
        for p, q in ((tl, tr), (tl, bl), (tr, br)):
            d.line([p, q], fill=(150, 104, 62), width=round(rim))
        d.line([bl, br], fill=(172, 122, 74), width=round(rim * 1.4))
        d.line(
            [(bl[0], bl[1] + rim * 0.8), (br[0], br[1] + rim * 0.8)],
            fill=(120, 80, 46),
            width=round(rim * 0.8),
        )
    # wooden rake resting on the near bed
    x0, x1, y_b, y_f, inset, _ = beds[-1]
    hx = W * r.uniform(0.3, 0.7)
    hy = y_b + (y_f - y_b) * 0.45
    d = c.draw()
    ex, ey = hx + W * r.uniform(-0.15, 0.15), H * 1.05
    d.line(
        [(hx + 6 * u, hy + 8 * u), (ex + 6 * u, ey + 8 * u)],
        fill=(30, 15, 5, 80),
        width=round(12 * u),
    )
    d.line([(hx, hy), (ex, ey)], fill=(196, 150, 96), width=round(12 * u))
    ang = math.atan2(ey - hy, ex - hx) + math.pi / 2
    hw = 90 * u
    d.line(
        [
            (hx - math.cos(ang) * hw, hy - math.sin(ang) * hw),
            (hx + math.cos(ang) * hw, hy + math.sin(ang) * hw),
        ],
        fill=(170, 124, 76),
        width=round(18 * u),
    )


def _pod_outline(
    x: float,
    y: float,
    length: float,
    width: float,
    angle: float,
    n: int = 24,
) -> list[Point]:
    """Outline of a pod whose stem end is at (x, y), pointing along `angle` degrees."""
    a = math.radians(angle)
    ax, ay = math.cos(a), math.sin(a)
    px, py = -ay, ax
    left, right = [], []
    for i in range(n + 1):
        v = i / n
        s = v * 2 - 1
        hw = width / 2 * max(0.0, 1 - s * s) ** (0.5 + 0.55 * v)
        cx, cy = x + ax * v * length, y + ay * v * length
        left.append((cx + px * hw, cy + py * hw))
        right.append((cx - px * hw, cy - py * hw))
    return left + right[::-1]


def _open_pod(
    c: _Canvas,
    x: float,
    y: float,
    length: float,
    width: float,
    angle: float,
    colors: tuple[str, str, str],
    shadow: bool = True,
) -> None:
    """Half a cacao pod seen from above: shell, pale rind and pulp-covered beans."""
    r = c.rng
    light, mid, dark = (_rgb(v) for v in colors)
    a = math.radians(angle)
    ax, ay = math.cos(a), math.sin(a)
    sx, sy = x - ax * length / 2, y - ay * length / 2
    shell = _pod_outline(sx, sy, length, width, angle)
    m = _Mask(c, _bbox(shell, width * 0.3))
    m.poly(shell)
    if shadow:
        _shadow(c, m, width * 0.1, dx=width * 0.05, dy=width * 0.08, opacity=0.45)
    _paint(c, m, mid, dark, angle=round(angle + 90) % 360)
    d = c.draw()
    lip = _pod_outline(
        sx + ax * length * 0.03,
        sy + ay * length * 0.03,
        length * 0.94,
        width * 0.86,
        angle,
    )
    d.polygon(lip, fill=light)
    rind = _pod_outline(
        sx + ax * length * 0.05,
        sy + ay * length * 0.05,
        length * 0.9,
        width * 0.78,
        angle,
    )
    d.polygon(rind, fill=(246, 232, 200))
    cav = _pod_outline(
        sx + ax * length * 0.1,
        sy + ay * length * 0.1,
        length * 0.8,
        width * 0.56,
        angle,
    )
    d.polygon(cav, fill=(222, 204, 170))
    px, py = -ay, ax
    rows = 9
    for i in range(rows):
        v = 0.16 + 0.68 * i / (rows - 1)
        s = v * 2 - 1
        spread = max(0.0, 1 - s * s) ** 0.6
        for k in (-1, 0, 1):
            off = k * width * 0.17 * spread
            bx = sx + ax * v * length + px * off
            by = sy + ay * v * length + py * off
            bs = width * 0.1 * (0.8 + 0.3 * spread)
            d.polygon(
                _ellipse_pts(bx + bs * 0.1, by + bs * 0.15, bs, bs * 0.72, angle, 14),
                fill=(170, 150, 120),
            )
            col = _vary(r, (250, 246, 236), 5)
            d.polygon(_ellipse_pts(bx, by, bs, bs * 0.72, angle, 14), fill=col)
            d.polygon(
                _ellipse_pts(bx - bs * 0.25, by - bs * 0.25, bs * 0.4, bs * 0.22, angle, 10),
                fill=(255, 255, 255),
            )


def _bar_sprite(
    cols: int,
    rows: int,
    cell: float,
    color: Color,
    wrapper: Color | None,
    bite: int,
    rng: random.Random,
) -> Image.Image:
    """A chocolate bar with bevelled squares; optional kraft wrapper; `bite` columns broken off."""
    margin = cell * 0.16
    w, h = cols * cell + 2 * margin, rows * cell + 2 * margin
    im = Image.new("RGBA", (math.ceil(w) + 4, math.ceil(h) + 4), (0, 0, 0, 0))
    d = ImageDraw.Draw(im)
    d.rounded_rectangle((1, 1, w, h), radius=cell * 0.12, fill=(*_dark(color, 0.18), 255))
    gap = cell * 0.1
    b = (cell - gap) * 0.17
    for i in range(cols):
        for j in range(rows):
            x0 = margin + i * cell + gap / 2
            y0 = margin + j * cell + gap / 2
            x1, y1 = x0 + cell - gap, y0 + cell - gap
            d.polygon(
                [(x0, y0), (x1, y0), (x1 - b, y0 + b), (x0 + b, y0 + b)],
                fill=(*_light(color, 0.2), 255),
            )
            d.polygon(
                [(x0, y0), (x0 + b, y0 + b), (x0 + b, y1 - b), (x0, y1)],
                fill=(*_light(color, 0.1), 255),
            )
            d.polygon(
                [(x1, y0), (x1, y1), (x1 - b, y1 - b), (x1 - b, y0 + b)],
                fill=(*_dark(color, 0.22), 255),
            )
            d.polygon(
                [(x0, y1), (x1, y1), (x1 - b, y1 - b), (x0 + b, y1 - b)],
                fill=(*_dark(color, 0.32), 255),
            )
            d.rectangle((x0 + b, y0 + b, x1 - b, y1 - b), fill=(*color, 255))
            d.line(
                [(x0 + b * 1.6, y1 - b * 1.8), (x1 - b * 1.8, y0 + b * 1.6)],
                fill=(*_light(color, 0.1), 255),
                width=max(1, round(b * 0.3)),
            )
    if bite:
        edge_x = margin + (cols - bite) * cell
        jag = [(edge_x + rng.uniform(-0.25, 0.25) * cell, y) for y in (h * k / 8 for k in range(9))]
        d.polygon([*jag, (w + 4, h + 4), (w + 4, -2)], fill=(0, 0, 0, 0))
        d.polygon([(w + 4, -2), jag[0], *jag, (w + 4, h + 4)], fill=(0, 0, 0, 0))
    if wrapper is not None:
        wx = margin + cols * cell * rng.uniform(0.45, 0.6)
        d.rectangle((wx, 0, w + 2, h + 2), fill=(*_dark(wrapper, 0.15), 255))
        d.rectangle((wx - cell * 0.08, 0, wx + cell * 0.05, h + 2), fill=(214, 186, 110, 255))
        d.rectangle((wx + cell * 0.05, 0, w + 2, h + 2), fill=(*wrapper, 255))
        for k in range(1, 4):
            fx = wx + (w - wx) * k / 4
            d.line(
                [(fx, 0), (fx, h)],
                fill=(*_dark(wrapper, 0.08), 255),
                width=max(1, round(b * 0.4)),
            )
        band = rng.choice([(42, 92, 84), (150, 60, 40), (40, 58, 96), (120, 40, 60)])
        by0, by1 = h * 0.3, h * 0.7
        d.rectangle((wx + cell * 0.05, by0, w + 2, by1), fill=(*band, 255))
        cx, cy = wx + (w - wx) * 0.45, h / 2
        rr = (by1 - by0) * 0.32
        d.ellipse((cx - rr, cy - rr, cx + rr, cy + rr), fill=(245, 232, 205, 255))
        d.polygon(_ellipse_pts(cx, cy, rr * 0.75, rr * 0.34, -60, 12), fill=(*band, 255))
        for k, ln in enumerate((0.5, 0.35)):
            ly = by0 + (by1 - by0) * (0.35 + 0.3 * k)
            lx = cx + rr * 1.6
            d.line(
                [(lx, ly), (lx + (w - lx) * ln, ly)],
                fill=(245, 232, 205, 255),
                width=max(1, round(b * 0.45)),
            )
    return im


def _place(
    c: _Canvas,
    sprite: Image.Image,
    x: float,
    y: float,
    angle: float,
    lift: float = 10.0,
) -> None:
    """Rotate an RGBA sprite, cast a soft shadow and paste it centred on (x, y)."""
    u = c.u
    rot = sprite.rotate(angle, resample=Image.BILINEAR, expand=True)
    alpha = rot.getchannel("A")
    px, py = round(x - rot.width / 2), round(y - rot.height / 2)
    pad = round(lift * 3 * u)
    big = Image.new("L", (rot.width + 2 * pad, rot.height + 2 * pad), 0)
    big.paste(alpha, (pad, pad))
    _put(
        c,
        (20, 10, 6),
        (px - pad + lift * 0.6 * u, py - pad + lift * u),
        _soften(big, lift * u, 0.5),
    )
    c.img.paste(rot, (px, py), rot)


def _nib(
    d: ImageDraw.ImageDraw,
    rng: random.Random,
    x: float,
    y: float,
    s: float,
    color: Color,
) -> None:
    pts = []
    n = rng.randint(4, 6)
    for k in range(n):
        a = math.tau * k / n + rng.uniform(-0.3, 0.3)
        rr = s * rng.uniform(0.6, 1.0)
        pts.append((x + math.cos(a) * rr, y + math.sin(a) * rr))
    d.polygon([(px + s * 0.2, py + s * 0.25) for px, py in pts], fill=(15, 8, 4, 90))
    d.polygon(pts, fill=color)
    d.polygon(pts[: max(3, n // 2 + 1)], fill=_light(color, 0.12))


def _scene_chocolate(c: _Canvas) -> None:
    r, W, H, u = c.rng, c.W, c.H, c.u
    table = r.choice(["walnut", "oak", "slate", "linen"])
    if table == "slate":
        c.img.paste(_vgrad((W, H), [(0, "#4a4f52"), (1, "#2e3133")]))
        m = _noise_field(r, (W, H), (24, 16), 0.0)
        _put(c, "#5d6367", (0, 0), _scale(m, 0.35))
    elif table == "linen":
        c.img.paste(_vgrad((W, H), [(0, "#e9dcc6"), (1, "#d3c2a6")]))
        d = c.draw()
        for k in range(0, round(H), max(2, round(5 * u))):
            d.line([(0, k), (W, k)], fill=(160, 140, 110, 26), width=max(1, round(u)))
        for k in range(0, round(W), max(2, round(7 * u))):
            d.line([(k, 0), (k, H)], fill=(255, 250, 240, 22), width=max(1, round(u)))
    else:
        wood = "#8a6242" if table == "walnut" else "#c09466"
        n = r.randint(4, 6)
        _planks(c, [(0, 0), (W, 0), (W, H), (0, H)], n, _rgb(wood))
    _glow(c, W * 0.3, H * 0.2, W * 0.8, "#fff0d0", 0.18, 1.5)
    d = c.draw()
    bar_cols = [_rgb(v) for v in ("#4a2718", "#3b1f14", "#43241a", "#58301c")]
    if table in ("slate", "linen"):
        bar_cols.append(_rgb("#7a4a2c"))
    wraps = [_rgb(v) for v in ("#c9a679", "#d8c3a0", "#b98f5f")]
    # leaves and an opened pod frame the corners
    corner = r.choice([0, 1])
    lx = W * (0.02 if corner == 0 else 0.98)
    for k in range(r.randint(2, 3)):
        ang = (10 if corner == 0 else 170) + r.uniform(-35, 35) + k * 12 * (1 if corner else -1)
        _leaf(
            c,
            lx,
            H * r.uniform(0.02, 0.25),
            r.uniform(360, 480) * u,
            r.uniform(110, 140) * u,
            ang,
            _vary(r, r.choice(LEAF_GREENS), 8),
            bend=0.1,
            shadow=14 * u,
            veins=7,
        )
    scheme = r.choice(list(POD_COLORS))
    pod_y = H * r.uniform(0.72, 0.8)
    _open_pod(
        c,
        W * (0.16 if corner else 0.84),
        pod_y,
        H * 0.62,
        H * 0.28,
        r.uniform(-30, 30) + (0 if corner else 180),
        POD_COLORS[scheme],
    )
    # bowl of nibs
    bx, by = W * (0.84 if corner else 0.16), H * r.uniform(0.2, 0.28)
    br = 150 * u
    m = _Mask(c, (bx - br * 1.3, by - br * 1.3, bx + br * 1.3, by + br * 1.3))
    m.ellipse(bx, by, br, br)
    _shadow(c, m, 18 * u, dx=10 * u, dy=14 * u, opacity=0.45)
    bowl = _rgb(r.choice(["#e8e0d2", "#c46e47", "#3f5a55", "#d9c7a3"]))
    _paint(c, m, _light(bowl, 0.1), _dark(bowl, 0.2), angle=45)
    d = c.draw()
    d.ellipse(
        (bx - br * 0.84, by - br * 0.84, bx + br * 0.84, by + br * 0.84),
        fill=_dark(bowl, 0.3),
    )
    d.ellipse((bx - br * 0.8, by - br * 0.76, bx + br * 0.84, by + br * 0.86), fill=(70, 40, 26))
    for _ in range(140):
        a = r.uniform(0, math.tau)
        rr = br * 0.74 * math.sqrt(r.random())
        _nib(
            d,
            r,
            bx + math.cos(a) * rr,
            by + math.sin(a) * rr,
            r.uniform(7, 12) * u,
            _vary(r, "#5a3020", 12),
        )
    # chocolate bars, then pieces/beans/nibs in the free spaces
    taken = [(bx, by, br * 1.15), (W * (0.16 if corner else 0.84), pod_y, H * 0.3)]

    def free(x: float, y: float, rad: float) -> bool:
        return all(math.hypot(x - ox, y - oy) > rad + orad for ox, oy, orad in taken)

    def spot(rad: float, tries: int = 40) -> tuple[float, float] | None:
        for _ in range(tries):
            x, y = W * r.uniform(0.05, 0.95), H * r.uniform(0.06, 0.94)
            if free(x, y, rad):
                return x, y
        return None

    cell = 88 * u
    for i in range(2):
        col = r.choice(bar_cols)
        sprite = _bar_sprite(
            r.choice([3, 4]),
            r.choice([5, 6]) if i == 0 else 4,
            cell,
            col,
            r.choice(wraps) if i == 0 else None,
            0 if i == 0 else r.randint(1, 2),
            r,
        )
        rad = math.hypot(*sprite.size) * 0.42
        best = None
        for _ in range(60):
            x, y = W * r.uniform(0.25, 0.75), H * r.uniform(0.28, 0.72)
            gap = min(math.hypot(x - ox, y - oy) - rad - orad for ox, oy, orad in taken)
            if best is None or gap > best[0]:
                best = (gap, x, y)
        _, x, y = best
        _place(c, sprite, x, y, r.uniform(-30, 30) + 90 * r.randint(0, 1), lift=12)
        taken.append((x, y, rad))
    for _ in range(r.randint(2, 4)):
        sprite = _bar_sprite(r.randint(1, 2), r.randint(1, 2), cell, r.choice(bar_cols), None, 0, r)
        rad = max(sprite.size) * 0.7
        p = spot(rad)
        if p:
            _place(c, sprite, p[0], p[1], r.uniform(0, 360), lift=8)
            taken.append((p[0], p[1], rad))
    d = c.draw()
    for _ in range(r.randint(14, 22)):
        p = spot(30 * u, 12)
        if p:
            _bean(
                d,
                p[0],
                p[1],
                r.uniform(26, 32) * u,
                r.uniform(0, 180),
                _vary(r, "#6a3a24", 12),
                crease=True,
                shade=0.35,
            )
            taken.append((p[0], p[1], 30 * u))
    for _ in range(r.randint(40, 70)):
        p = spot(8 * u, 6)
        if p:
            _nib(d, r, p[0], p[1], r.uniform(7, 12) * u, _vary(r, "#5a3020", 12))
    _glow(c, W * 0.5, H * 0.5, W * 0.7, "#ffe4b8", 0.08, 1.2)


def _cherry(
    d: ImageDraw.ImageDraw,
    x: float,
    y: float,
    rad: float,
    col: Color,
    away: float,
) -> None:
    """A glossy coffee cherry; `away` is the direction (radians) of its navel."""
    d.ellipse(
        (x - rad + rad * 0.15, y - rad + rad * 0.25, x + rad + rad * 0.15, y + rad + rad * 0.25),
        fill=(10, 20, 8, 80),
    )
    d.ellipse((x - rad, y - rad * 0.95, x + rad, y + rad * 0.95), fill=_dark(col, 0.3))
    d.ellipse((x - rad * 0.95, y - rad * 0.92, x + rad * 0.8, y + rad * 0.75), fill=col)
    d.ellipse(
        (x - rad * 0.75, y - rad * 0.75, x + rad * 0.25, y + rad * 0.1),
        fill=(*_light(col, 0.25), 150),
    )
    d.ellipse(
        (x - rad * 0.5, y - rad * 0.6, x - rad * 0.15, y - rad * 0.3),
        fill=(255, 255, 255, 190),
    )
    nx, ny = x + math.cos(away) * rad * 0.62, y + math.sin(away) * rad * 0.62
    nr = rad * 0.2
    d.ellipse((nx - nr, ny - nr, nx + nr, ny + nr), fill=_dark(col, 0.45))
    d.ellipse(
        (nx - nr * 0.45, ny - nr * 0.45, nx + nr * 0.45, ny + nr * 0.45),
        fill=_mix(col, (60, 40, 20), 0.6),
    )


def _scene_coffee(c: _Canvas) -> None:
    r, W, H, u = c.rng, c.W, c.H, c.u
    bg = r.choice(
        [
            [(0.0, "#9fb27a"), (0.5, "#5f7d4a"), (1.0, "#2c4430")],
            [(0.0, "#c9c28a"), (0.5, "#6f8a52"), (1.0, "#2f4a33")],
            [(0.0, "#a8b9a0"), (0.6, "#4f6e4c"), (1.0, "#23382a")],
        ],
    )
    _bokeh_bg(c, bg, ["#dfe8a8", "#a7c27a", "#fff2c0", "#f3d98a"], n=50)
    _glow(c, W * r.uniform(0.6, 0.95), H * 0.1, 700 * u, "#fff0c0", 0.35, 1.8)
    ripe = [_rgb(v) for v in ("#c0262a", "#a3182a", "#d8402e", "#7a1424")]
    unripe = [_rgb(v) for v in ("#e79a2e", "#f1c94a", "#8db04a", "#a9c45a")]
    left_first = r.random() < 0.5
    layout = [
        (left_first, r.uniform(0.22, 0.36), r.uniform(0.72, 0.9), r.uniform(0.12, 0.25)),
        (not left_first, r.uniform(0.55, 0.7), r.uniform(0.7, 0.85), r.uniform(0.05, 0.18)),
    ]
    if r.random() < 0.35:
        layout.append((left_first, r.uniform(0.84, 0.92), r.uniform(0.3, 0.42), -0.05))
    for from_left, fy, reach, droop in layout:
        y0 = H * fy
        x0 = -W * 0.03 if from_left else W * 1.03
        x1 = W * reach if from_left else W * (1 - reach)
        y1 = y0 + H * droop
        mx, my = x0 + (x1 - x0) * 0.45, min(y0, y1) - H * 0.06
        n = 40
        pts = [
            (
                (1 - t) ** 2 * x0 + 2 * (1 - t) * t * mx + t * t * x1,
                (1 - t) ** 2 * y0 + 2 * (1 - t) * t * my + t * t * y1,
            )
            for t in (i / n for i in range(n + 1))
        ]
        d = c.draw()
        d.line(pts, fill=(112, 98, 74), width=round(14 * u), joint="curve")
        d.line(
            [(x + 2 * u, y - 4 * u) for x, y in pts],
            fill=(150, 134, 104),
            width=round(4 * u),
            joint="curve",
        )
        nodes = [round(n * f) for f in (0.18, 0.36, 0.54, 0.72, 0.88, 1.0)]
        clusters = []
        for j, i in enumerate(nodes):
            x, y = pts[i]
            i0, i1 = max(0, i - 1), min(n, i + 1)
            ang = math.degrees(math.atan2(pts[i1][1] - pts[i0][1], pts[i1][0] - pts[i0][0]))
            scale = 1 - 0.35 * j / len(nodes)
            for side in (-1, 1):
                la = ang + side * r.uniform(40, 62)
                ln = r.uniform(200, 260) * u * scale
                bend = side * r.uniform(0.05, 0.15) + 0.12 * (1 if -90 < la < 90 else -1)
                _leaf(
                    c,
                    x,
                    y,
                    ln,
                    ln * 0.38,
                    la,
                    _vary(r, "#2f5a34", 8),
                    bend=bend,
                    veins=7,
                    shadow=12 * u,
                    two_tone=0.16,
                )
            if j < len(nodes) - 1:
                clusters.append((x, y, j))
        d = c.draw()
        for x, y, j in clusters:
            k = r.randint(7, 12)
            cl = []
            ripeness = r.random() * (1 - 0.6 * j / len(nodes)) + 0.2
            for q in range(k):
                a = math.tau * q / k + r.uniform(-0.25, 0.25)
                rad = r.uniform(24, 32) * u
                dist = rad * r.uniform(0.8, 1.25)
                col = r.choice(ripe) if r.random() < ripeness else r.choice(unripe)
                cl.append(
                    (
                        x + math.cos(a) * dist,
                        y + math.sin(a) * dist * 0.85 + rad * 0.3,
                        rad,
                        _vary(r, col, 8),
                        a,
                    ),
                )
            for cx, cy, rad, col, a in sorted(cl, key=lambda v: v[1]):
                _cherry(d, cx, cy, rad, col, a)
    # blurred foreground leaf for depth
    k = 4
    layer = Image.new("L", (W // k, H // k), 0)
    ld = ImageDraw.Draw(layer)
    fx, fy = r.choice([0.0, 1.0]) * W / k, r.uniform(0.6, 1.0) * H / k
    left, right, _ = _leaf_shape(fx, fy, 520 * u / k, 200 * u / k, -30 if fx == 0 else -150, 0.1)
    ld.polygon(left + right[::-1], fill=230)
    layer = layer.filter(ImageFilter.GaussianBlur(12 * u / k)).resize((W, H), Image.BILINEAR)
    _put(c, "#2a4a2a", (0, 0), _scale(layer, 0.8))


def _scene_lodge(c: _Canvas) -> None:
    r, W, H, u = c.rng, c.W, c.H, c.u
    stops = SKIES["dusk"]
    _sky(c, stops, H * 0.62)
    d = c.draw()
    for _ in range(140):
        x, y = r.uniform(0, W), r.uniform(0, H * 0.35) ** 1.0
        sr = r.uniform(1, 2.6) * u
        d.ellipse((x - sr, y - sr, x + sr, y + sr), fill=(255, 250, 230, r.randint(60, 200)))
    mx, my = W * r.uniform(0.1, 0.9), H * r.uniform(0.08, 0.18)
    _glow(c, mx, my, 160 * u, "#fff1d0", 0.25, 2.0)
    m = _Mask(c, (mx - 40 * u, my - 40 * u, mx + 40 * u, my + 40 * u))
    m.ellipse(mx, my, 30 * u, 30 * u)
    m.ellipse(mx + 14 * u, my - 10 * u, 28 * u, 28 * u, fill=0)
    _paint(c, m, (255, 244, 214))
    haze = _rgb("#e58a5e")
    for i, col in enumerate(("#6a4a78", "#4a3a66", "#2f3050")):
        prof = _ridge(r, 32, 0.5)
        base = H * (0.5 + 0.06 * i)
        pts = _across(c, [base - H * (0.1 + 0.12 * v) * (1 - 0.25 * i) for v in prof])
        m = _Mask(c, _bbox([*pts, (0, H)]))
        m.poly([*pts, (W * 1.02, H), (-W * 0.02, H)])
        _paint(c, m, col, _dark(col, 0.2))
        _mist(c, base, 30 * u, haze, 0.3 - 0.08 * i)
    ground = H * 0.8
    _canopy(c, H * 0.62, 40 * u, _rgb("#34485a"), _rgb("#6a4a78"), shadow=0.3, palms=0.15)
    _mist(c, H * 0.66, 40 * u, "#7a5a80", 0.35)
    _canopy(
        c,
        H * 0.7,
        52 * u,
        _rgb("#1e3436"),
        _rgb("#4a3a66"),
        shadow=0.3,
        palms=0.2,
        emergent=0.15,
    )
    m = _Mask(c, (0, ground - 30 * u, W, H))
    m.ellipse(W * 0.5, ground + H * 0.3, W * 0.9, H * 0.36)
    m.rect(0, ground + H * 0.05, W, H)
    _paint(c, m, "#1d3230", "#0f1c1c")
    # the lodge, oblique view
    lw = W * r.uniform(0.3, 0.36)
    lx = W * r.uniform(0.3, 0.7) - lw / 2
    for side_ in (-1, 1):
        tx_ = lx + lw / 2 + side_ * (lw * 0.62 + W * r.uniform(0.03, 0.1))
        _palm(
            c,
            tx_,
            ground + 10 * u,
            H * r.uniform(0.4, 0.52),
            _rgb("#14282a"),
            lean=side_ * r.uniform(0.02, 0.12),
        )
    wall_h = H * 0.17
    floor_y = ground - H * 0.02
    top_y = floor_y - wall_h
    ddx, ddy = lw * 0.22, -H * 0.07
    stilt = H * 0.05
    floor_y -= stilt
    top_y -= stilt
    wood = _vary(r, "#8a5a38", 8)
    x0, x1 = lx, lx + lw
    d = c.draw()
    for sx_ in (x0 + 10 * u, x0 + lw * 0.5, x1 - 10 * u, x1 + ddx - 10 * u):
        d.rectangle(
            (sx_ - 7 * u, floor_y, sx_ + 7 * u, floor_y + stilt + 10 * u),
            fill=(40, 30, 28),
        )
    side = [(x1, top_y), (x1 + ddx, top_y + ddy), (x1 + ddx, floor_y + ddy), (x1, floor_y)]
    _planks(c, side, 7, _dark(wood, 0.45), grain=False)
    apex = (x1 + ddx / 2, top_y + ddy / 2 - H * 0.11)
    d = c.draw()
    d.polygon([(x1, top_y), (x1 + ddx, top_y + ddy), apex], fill=_dark(wood, 0.5))
    _planks(
        c,
        [(x0, top_y), (x1, top_y), (x1, floor_y), (x0, floor_y)],
        8,
        _dark(wood, 0.2),
        grain=True,
    )
    # roof facing us, with solar panels
    ov = lw * 0.05
    roof = [
        (x0 - ov, top_y + 8 * u),
        (x1 + ov, top_y + 8 * u),
        (apex[0] + ov, apex[1]),
        (x0 + ddx / 2 - ov, apex[1]),
    ]
    m = _Mask(c, _bbox(roof, 2))
    m.poly(roof)
    _shadow(c, m, 14 * u, dy=10 * u, opacity=0.5, color=(10, 8, 12))
    thatch = r.random() < 0.5
    roof_col = _rgb("#6e5232") if thatch else _rgb("#4a4e58")
    _paint(c, m, _dark(roof_col, 0.25), roof_col)
    d = c.draw()
    for k in range(1, 14 if thatch else 30):
        t = k / (14 if thatch else 30)
        if thatch:
            p = (
                roof[0][0] + (roof[3][0] - roof[0][0]) * t,
                roof[0][1] + (roof[3][1] - roof[0][1]) * t,
            )
            q = (
                roof[1][0] + (roof[2][0] - roof[1][0]) * t,
                roof[1][1] + (roof[2][1] - roof[1][1]) * t,
            )
        else:
            p = (roof[0][0] + (roof[1][0] - roof[0][0]) * t, roof[0][1])
            q = (roof[3][0] + (roof[2][0] - roof[3][0]) * t, roof[3][1])
        d.line([p, q], fill=(*_dark(roof_col, 0.35), 160), width=max(1, round(2.5 * u)))
    npan = r.randint(2, 4)
    for k in range(npan):
        f0 = 0.12 + 0.78 * k / npan
        f1 = f0 + 0.78 / npan - 0.03

        def rp(fx: float, fy: float) -> Point:
            bx = roof[0][0] + (roof[1][0] - roof[0][0]) * fx
            tx = roof[3][0] + (roof[2][0] - roof[3][0]) * fx
            return (bx + (tx - bx) * fy, roof[0][1] + (roof[3][1] - roof[0][1]) * fy)

        pan = [rp(f0, 0.2), rp(f1, 0.2), rp(f1, 0.85), rp(f0, 0.85)]
        m = _Mask(c, _bbox(pan, 2))
        m.poly(pan)
        _paint(c, m, "#3a5680", "#16233d")
        d = c.draw()
        for g in range(1, 4):
            fy = 0.2 + 0.65 * g / 4
            d.line(
                [rp(f0, fy), rp(f1, fy)],
                fill=(120, 150, 190, 150),
                width=max(1, round(1.5 * u)),
            )
        for g in range(1, 3):
            fx = f0 + (f1 - f0) * g / 3
            d.line(
                [rp(fx, 0.2), rp(fx, 0.85)],
                fill=(120, 150, 190, 150),
                width=max(1, round(1.5 * u)),
            )
        d.line([pan[3], pan[2]], fill=(240, 170, 140, 160), width=max(1, round(2 * u)))
    # glowing windows and door
    d = c.draw()
    warm = _rgb("#ffd27a")
    nwin = r.randint(2, 3)
    for k in range(nwin):
        wx0 = x0 + lw * (0.1 + 0.8 * k / nwin)
        wx1 = wx0 + lw * 0.8 / nwin * 0.55
        wy0, wy1 = top_y + wall_h * 0.25, top_y + wall_h * 0.65
        if k == nwin - 1:
            wy1 = floor_y - 4 * u
        _glow(c, (wx0 + wx1) / 2, (wy0 + wy1) / 2, lw * 0.2, "#ffb85a", 0.35, 1.8)
        d = c.draw()
        d.rectangle((wx0 - 5 * u, wy0 - 5 * u, wx1 + 5 * u, wy1 + 5 * u), fill=(50, 30, 20))
        m = _Mask(c, (wx0, wy0, wx1, wy1))
        m.rect(wx0, wy0, wx1, wy1)
        _paint(c, m, "#fff0b8", warm)
        d = c.draw()
        d.line(
            [((wx0 + wx1) / 2, wy0), ((wx0 + wx1) / 2, wy1)],
            fill=(60, 36, 24),
            width=round(4 * u),
        )
        if k != nwin - 1:
            d.line(
                [(wx0, (wy0 + wy1) / 2), (wx1, (wy0 + wy1) / 2)],
                fill=(60, 36, 24),
                width=round(4 * u),
            )
    # deck with railing and steps
    d = c.draw()
    deck_y = floor_y
    d.rectangle((x0 - lw * 0.06, deck_y, x1 + lw * 0.02, deck_y + 14 * u), fill=_dark(wood, 0.3))
    for k in range(12):
        px = x0 - lw * 0.06 + (lw * 1.08) * k / 11
        d.line(
            [(px, deck_y), (px, deck_y - wall_h * 0.28)],
            fill=_dark(wood, 0.4),
            width=round(5 * u),
        )
    d.line(
        [(x0 - lw * 0.06, deck_y - wall_h * 0.28), (x1 + lw * 0.02, deck_y - wall_h * 0.28)],
        fill=_dark(wood, 0.25),
        width=round(7 * u),
    )
    sx_ = x0 + lw * r.uniform(0.3, 0.6)
    for k in range(4):
        d.rectangle(
            (
                sx_ - 40 * u - k * 4 * u,
                deck_y + 14 * u + k * stilt / 4,
                sx_ + 40 * u + k * 4 * u,
                deck_y + 14 * u + (k + 1) * stilt / 4 - 2 * u,
            ),
            fill=_dark(wood, 0.35 + 0.05 * k),
        )
    _glow(c, (x0 + x1) / 2, ground + H * 0.04, lw * 0.6, "#ffb060", 0.22, 1.6, ry=H * 0.05)
    # string lights to a post
    post_x = x1 + ddx + W * r.uniform(0.08, 0.14)
    if post_x > W * 0.97:
        post_x = x0 - W * r.uniform(0.08, 0.14)
    d = c.draw()
    d.line(
        [(post_x, ground + 10 * u), (post_x, top_y - 10 * u)],
        fill=(40, 30, 28),
        width=round(7 * u),
    )
    ax_, ay_ = (x1 if post_x > x1 else x0), top_y + 6 * u
    bulbs = []
    for k in range(15):
        t = k / 14
        bx = ax_ + (post_x - ax_) * t
        by = ay_ + (top_y - 10 * u - ay_) * t + math.sin(math.pi * t) * H * 0.05
        bulbs.append((bx, by))
    d.line(bulbs, fill=(30, 24, 24), width=max(1, round(2 * u)))
    for bx, by in bulbs[1:-1]:
        _glow(c, bx, by, 22 * u, "#ffd890", 0.5, 2.0)
    d = c.draw()
    for bx, by in bulbs[1:-1]:
        d.ellipse((bx - 5 * u, by - 3 * u, bx + 5 * u, by + 7 * u), fill=(255, 236, 170))
    # foreground jungle silhouettes and fireflies
    for side_ in (-1, 1):
        fx = W * (0.5 + side_ * 0.52)
        for _ in range(r.randint(3, 5)):
            _leaf(
                c,
                fx,
                H * r.uniform(0.75, 1.05),
                r.uniform(300, 460) * u,
                r.uniform(90, 130) * u,
                -90 - side_ * r.uniform(20, 70),
                _rgb("#0e1d1c"),
                bend=-side_ * 0.25,
                veins=0,
                two_tone=0.05,
            )
    for _ in range(r.randint(12, 22)):
        fx, fy = W * r.uniform(0.05, 0.95), H * r.uniform(0.6, 0.95)
        _glow(c, fx, fy, 14 * u, "#e8ff9a", 0.6, 2.0)


def _palm(
    c: _Canvas,
    x: float,
    ground: float,
    height: float,
    color: Color,
    lean: float = 0.0,
) -> None:
    """Palm silhouette: curved trunk with drooping feathery fronds."""
    r, u = c.rng, c.u
    top = (x + lean * height, ground - height)
    pts = []
    for k in range(13):
        t = k / 12
        pts.append((x + lean * height * t * t, ground - height * t))
    c.draw().line(pts, fill=color, width=round(12 * u), joint="curve")
    for k in range(9):
        ang = -180 + k * 22.5 + r.uniform(-8, 8)
        bend = math.radians(100 if ang > -90 else -100) * (0.3 + 0.7 * abs(ang + 90) / 90)
        _frond(c, top[0], top[1], height * r.uniform(0.32, 0.42), ang, bend, color, 22 * u)


def _canoe(c: _Canvas, x: float, y: float, length: float, wood: Color) -> None:
    """Wooden dugout canoe with a paddler and maybe a passenger; (x, y) = hull centre."""
    r, u = c.rng, c.u
    h = length * 0.07

    def hull(k: float = 1.0) -> list[Point]:
        ts = [i / 24 for i in range(25)]
        top = [(x - length / 2 + length * t, y - h * 0.5 * abs(2 * t - 1) ** 3) for t in ts]
        bot = [
            (x - length / 2 + length * (0.05 + 0.9 * t), y + h * k * math.sin(math.pi * t) ** 0.6)
            for t in (i / 24 for i in range(24, -1, -1))
        ]
        return top + bot

    d = c.draw()
    water_y = y + h * 0.55
    ref = [(px, 2 * water_y - py) for px, py in hull()]
    d.polygon(ref, fill=(*_dark(wood, 0.55), 90))
    figures = [(x - length * 0.2 + r.uniform(-0.03, 0.03) * length, "paddler")]
    if r.random() < 0.7:
        figures.append((x + length * 0.14 + r.uniform(-0.03, 0.03) * length, "guest"))
    paddles = []
    for px, kind in figures:
        shirt = _rgb(r.choice(["#c8553d", "#e0a030", "#3f7a8c", "#f1e4c8", "#6b8f4a", "#b8405a"]))
        skin = _rgb(r.choice(["#8d5a3b", "#a0694a", "#6e4430", "#c08a66"]))
        bw = length * 0.05
        top = y - h * 2.7
        d.rounded_rectangle((px - bw, top, px + bw, y + h * 0.2), radius=bw * 0.7, fill=shirt)
        d.rounded_rectangle(
            (px - bw * 0.95, top + h * 0.4, px - bw * 0.35, y),
            radius=bw * 0.3,
            fill=_dark(shirt, 0.15),
        )
        hr = bw * 0.58
        hy = top - hr * 0.75
        d.ellipse((px - hr, hy - hr, px + hr, hy + hr), fill=skin)
        if kind == "paddler":
            hat = _rgb("#e8d29a")
            d.ellipse((px - hr * 2.1, hy - hr * 0.8, px + hr * 2.1, hy - hr * 0.2), fill=hat)
            d.pieslice(
                (px - hr * 1.05, hy - hr * 1.75, px + hr * 1.05, hy + hr * 0.1),
                180,
                360,
                fill=hat,
            )
            d.line(
                [(px - hr * 1.05, hy - hr * 0.55), (px + hr * 1.05, hy - hr * 0.55)],
                fill=(150, 60, 40),
                width=round(4 * u),
            )
            paddles.append((px, top, skin, shirt))
        else:
            cap = _rgb(r.choice(["#3a4a5a", "#c9b27a", "#f1e4c8"]))
            d.pieslice(
                (px - hr * 1.05, hy - hr * 1.15, px + hr * 1.05, hy + hr * 0.9),
                180,
                360,
                fill=cap,
            )
            d.ellipse((px, hy - hr * 0.3, px + hr * 1.9, hy + hr * 0.05), fill=cap)
            d.rounded_rectangle(
                (px - bw * 1.5, top + h * 0.3, px - bw * 0.7, top + h * 2.0),
                radius=bw * 0.3,
                fill=_rgb("#5a6a3a"),
            )
    m = _Mask(c, _bbox(hull(), 4))
    m.poly(hull())
    _paint(c, m, _light(wood, 0.12), _dark(wood, 0.35))
    d = c.draw()
    d.line(hull()[:25], fill=_light(wood, 0.35), width=round(4 * u))
    for px, top, skin, shirt in paddles:
        grip = (px + length * 0.04, top - h * 0.6)
        blade = (px - length * 0.1, y + h * 2.4)
        d.line(
            [(px + length * 0.02, top + h * 0.8), grip],
            fill=_dark(shirt, 0.1),
            width=round(11 * u),
        )
        d.line(
            [(px - length * 0.03, top + h * 1.6), (px - length * 0.05, y + h * 0.2)],
            fill=_dark(shirt, 0.1),
            width=round(11 * u),
        )
        d.line([grip, blade], fill=(128, 90, 54), width=round(6 * u))
        d.polygon(_ellipse_pts(blade[0], blade[1], h * 1.0, h * 0.38, 115, 14), fill=(120, 84, 50))
        d.ellipse((grip[0] - 7 * u, grip[1] - 7 * u, grip[0] + 7 * u, grip[1] + 7 * u), fill=skin)
    for k in range(4):
        rw = length * (0.56 + 0.1 * k)
        ry = water_y + h * (0.5 + 0.55 * k)
        d.arc(
            (x - rw, ry - h * 0.35, x + rw, ry + h * 0.35),
            15,
            165,
            fill=(255, 255, 255, 80 - 15 * k),
            width=max(1, round(2.5 * u)),
        )


def _scene_river(c: _Canvas) -> None:
    r, W, H, u = c.rng, c.W, c.H, c.u
    stops = SKIES[r.choice(["golden", "day", "dawn", "mist"])]
    wl = H * r.uniform(0.5, 0.56)
    _sky(c, stops, wl)
    haze = _rgb(stops[-1][1])
    sx, sy = W * r.uniform(0.2, 0.8), wl - H * r.uniform(0.12, 0.28)
    _glow(c, sx, sy, 600 * u, "#fff0c4", 0.55, 2.2)
    c.draw().ellipse((sx - 38 * u, sy - 38 * u, sx + 38 * u, sy + 38 * u), fill=(255, 246, 220))
    for _ in range(r.randint(1, 3)):
        cx = (sx + W * r.uniform(0.25, 0.75)) % W
        _cloud(c, cx, r.uniform(0.1, 0.25) * H, r.uniform(160, 300) * u, _light(haze, 0.4), 0.75)
    far = _mix(haze, "#7f9ab0", 0.5)
    prof = _ridge(r, 32, 0.5)
    pts = _across(c, [wl - H * (0.1 + 0.1 * v) for v in prof])
    m = _Mask(c, _bbox([*pts, (0, wl)]))
    m.poly([*pts, (W * 1.02, wl), (-W * 0.02, wl)])
    _paint(c, m, far)
    _mist(c, wl - H * 0.08, 40 * u, haze, 0.5)
    for i, (crown, col) in enumerate(
        ((26, _mix(haze, "#4f7a5a", 0.55)), (38, _mix(haze, "#2f5a3c", 0.7))),
    ):
        base = wl - H * (0.05 - 0.03 * i)
        _canopy(c, base, crown * u, col, haze, shadow=0.2, emergent=0.12, palms=0.12)
        _mist(c, base + crown * u * 0.3, 30 * u, haze, 0.35)
    d = c.draw()
    xs = [W * k / 40 for k in range(41)]
    bank = [(x, wl - 6 * u + math.sin(x / (90 * u)) * 3 * u) for x in xs]
    d.polygon([*bank, (W, wl + 4 * u), (0, wl + 4 * u)], fill=_mix("#c7a879", haze, 0.3))
    # water: mirrored banks, tinted, softened and streaked
    rh = round(min(wl, H - wl))
    src = c.img.crop((0, round(wl) - rh, W, round(wl))).transpose(Image.Transpose.FLIP_TOP_BOTTOM)
    small = src.reduce(4).filter(ImageFilter.GaussianBlur(2))
    src = small.resize(src.size, Image.BILINEAR)
    water = _mix(haze, "#5f8a9a", 0.55)
    src = Image.blend(src, Image.new("RGB", src.size, water), 0.35)
    c.img.paste(src, (0, round(wl)))
    _band(c, wl, H, _dark(water, 0.35), 0.0, 0.55)
    d = c.draw()
    for _ in range(70):
        y = wl + (H - wl) * r.random() ** 1.5
        depth = (y - wl) / (H - wl)
        x = r.uniform(0, W)
        ln = (30 + 220 * depth) * u * r.uniform(0.5, 1.2)
        d.line(
            [(x - ln / 2, y), (x + ln / 2, y)],
            fill=(255, 255, 255, r.randint(40, 90)),
            width=max(1, round((1 + 2.5 * depth) * u)),
        )
    _glow(c, sx, wl + (wl - sy) * 0.6, 220 * u, "#fff0c4", 0.3, 1.5, ry=H * 0.12)
    _canoe(
        c,
        W * r.uniform(0.35, 0.6),
        wl + (H - wl) * r.uniform(0.35, 0.48),
        W * 0.3,
        _vary(r, "#6b4226", 8),
    )
    # near bank vegetation in one corner
    side = r.choice([-1, 1])
    fx = W * (0.5 + side * 0.5)
    _palm(c, fx - side * W * 0.05, H * 1.02, H * 0.75, _rgb("#1c3326"), lean=-side * 0.12)
    for _ in range(r.randint(4, 6)):
        _leaf(
            c,
            fx,
            H * r.uniform(0.9, 1.05),
            r.uniform(280, 420) * u,
            r.uniform(80, 120) * u,
            -90 - side * r.uniform(20, 70),
            _vary(r, "#1f3d2a", 6),
            bend=-side * 0.25,
            shadow=10 * u,
            veins=5,
        )
    _birds(c, W * r.uniform(0.3, 0.7), H * r.uniform(0.12, 0.25), r.randint(2, 4), _dark(far, 0.5))


def _textile(c: _Canvas, box: tuple[float, float, float, float], vertical: bool = False) -> None:
    """Andean woven cloth (aguayo/manta): bright stripes with small zig-zag motifs."""
    r, u = c.rng, c.u
    x0, y0, x1, y1 = box
    palette = [
        _rgb(v)
        for v in (
            "#c8283c",
            "#e8612c",
            "#f2b632",
            "#e0457b",
            "#2a7a6a",
            "#2c4a8a",
            "#7a2a5a",
            "#f4ead8",
        )
    ]
    d = c.draw()
    span = (x1 - x0) if vertical else (y1 - y0)
    pos = 0.0
    while pos < span:
        bw = r.choice([6, 10, 16, 28, 40]) * u
        col = r.choice(palette)
        if vertical:
            d.rectangle((x0 + pos, y0, min(x1, x0 + pos + bw), y1), fill=col)
        else:
            d.rectangle((x0, y0 + pos, x1, min(y1, y0 + pos + bw)), fill=col)
        if bw >= 28 * u:
            zig = r.choice([p for p in palette if p != col])
            step = bw * 0.5
            pts = []
            n = int(((y1 - y0) if vertical else (x1 - x0)) / step) + 1
            for k in range(n + 1):
                a = pos + bw * (0.3 if k % 2 else 0.7)
                b = k * step
                pts.append((x0 + a, y0 + b) if vertical else (x0 + b, y0 + a))
            d.line(pts, fill=zig, width=max(1, round(4 * u)))
        pos += bw


def _figure(c: _Canvas, x: float, base: float, scale: float) -> None:
    """Andean market vendor seen from the waist up behind a stall."""
    r, u = c.rng, c.u
    s = scale * u
    skin = _rgb(r.choice(["#8d5a3b", "#a0694a", "#7a4a32"]))
    shawl = _rgb(r.choice(["#c8283c", "#e0457b", "#e8612c", "#2a7a6a", "#7a2a5a"]))
    blouse = _rgb(r.choice(["#f4ead8", "#f2b632", "#6b8fb0"]))
    d = c.draw()
    d.rounded_rectangle(
        (x - 70 * s, base - 170 * s, x + 70 * s, base + 10 * s),
        radius=50 * s,
        fill=blouse,
    )
    d.polygon(
        [
            (x - 80 * s, base - 120 * s),
            (x + 80 * s, base - 120 * s),
            (x + 40 * s, base - 20 * s),
            (x - 40 * s, base - 20 * s),
        ],
        fill=shawl,
    )
    d.rounded_rectangle(
        (x - 82 * s, base - 168 * s, x + 82 * s, base - 110 * s),
        radius=28 * s,
        fill=shawl,
    )
    hr = 38 * s
    hy = base - 205 * s
    for side in (-1, 1):
        d.line(
            [(x + side * 30 * s, hy), (x + side * 40 * s, base - 90 * s)],
            fill=(30, 22, 20),
            width=round(12 * s),
        )
    d.ellipse((x - hr, hy - hr * 1.1, x + hr, hy + hr * 1.1), fill=skin)
    hat = _rgb(r.choice(["#3a2a24", "#f4ead8", "#6b4a3a", "#2f3f3a"]))
    if r.random() < 0.5:
        d.ellipse((x - hr * 1.25, hy - hr * 0.95, x + hr * 1.25, hy - hr * 0.55), fill=hat)
        d.rounded_rectangle(
            (x - hr * 0.8, hy - hr * 2.0, x + hr * 0.8, hy - hr * 0.7),
            radius=hr * 0.6,
            fill=hat,
        )
    else:
        d.ellipse((x - hr * 2.1, hy - hr * 1.0, x + hr * 2.1, hy - hr * 0.5), fill=hat)
        d.rounded_rectangle(
            (x - hr * 0.9, hy - hr * 1.9, x + hr * 0.9, hy - hr * 0.7),
            radius=hr * 0.3,
            fill=hat,
        )
        d.rectangle(
            (x - hr * 0.9, hy - hr * 1.0, x + hr * 0.9, hy - hr * 0.8),
            fill=r.choice([(200, 40, 60), (240, 180, 50)]),
        )


def _goods(c: _Canvas, x0: float, x1: float, y: float) -> None:
    """Fill a stall's table top with piles of produce, pods, chocolate and baskets."""
    r, u = c.rng, c.u
    kinds = ["fruit", "pods", "bars", "beans", "bananas", "fruit", "bags"]
    r.shuffle(kinds)
    n = 3
    for k in range(n):
        cx = x0 + (x1 - x0) * (k + 0.5) / n
        wd = (x1 - x0) / n * 0.42
        kind = kinds[k]
        d = c.draw()
        if kind == "fruit":
            col = _rgb(r.choice(["#f08a24", "#f2c230", "#8fbf3a", "#d8402e", "#e86a5a"]))
            rad = 24 * u
            rows = 3
            for row in range(rows):
                cnt = int(wd * 2 / (rad * 2)) - row
                for i in range(cnt):
                    fx = cx - (cnt - 1) * rad + i * rad * 2
                    fy = y - rad - row * rad * 1.6
                    cc = _vary(r, col, 10)
                    d.ellipse((fx - rad, fy - rad, fx + rad, fy + rad), fill=_dark(cc, 0.2))
                    d.ellipse(
                        (fx - rad * 0.95, fy - rad * 0.95, fx + rad * 0.75, fy + rad * 0.75),
                        fill=cc,
                    )
                    d.ellipse(
                        (fx - rad * 0.6, fy - rad * 0.6, fx - rad * 0.1, fy - rad * 0.2),
                        fill=(*_light(cc, 0.4), 170),
                    )
        elif kind == "pods":
            scheme = r.choice(list(POD_COLORS))
            ln = wd * 1.05
            for i in range(3):
                px = cx - wd * 1.0 + (i % 2) * wd * 0.95 + (i // 2) * wd * 0.45
                py = y - ln * 0.24 - (i // 2) * ln * 0.32
                colors = POD_COLORS[scheme if i != 1 else r.choice(list(POD_COLORS))]
                _pod(c, px, py, ln, ln * 0.46, r.uniform(-8, 8), colors, shadow=False, stem=0)
        elif kind == "bars":
            for i in range(5):
                for j in range(3 - i // 2):
                    bx = cx - wd + i * wd * 0.42
                    by = y - 24 * u * (j + 1)
                    col = _rgb(r.choice(["#c9a679", "#2a7a6a", "#c8283c", "#f4ead8", "#2c4a8a"]))
                    d.rectangle((bx, by, bx + wd * 0.38, by + 22 * u), fill=col)
                    d.rectangle(
                        (bx + wd * 0.12, by, bx + wd * 0.22, by + 22 * u),
                        fill=_light(col, 0.4),
                    )
        elif kind == "beans":
            m = _Mask(c, (cx - wd * 1.2, y - 90 * u, cx + wd * 1.2, y + 5 * u))
            m.ellipse(cx, y - 40 * u, wd, 40 * u)
            m.rect(cx - wd, y - 40 * u, cx + wd, y)
            _paint(c, m, "#c99a5a", "#8a6232")
            d = c.draw()
            d.ellipse((cx - wd * 0.92, y - 88 * u, cx + wd * 0.92, y - 52 * u), fill=(58, 30, 20))
            for _ in range(40):
                a = r.uniform(0, math.tau)
                rr = r.random() ** 0.5
                _bean(
                    d,
                    cx + math.cos(a) * wd * 0.8 * rr,
                    y - 70 * u + math.sin(a) * 14 * u * rr,
                    11 * u,
                    r.uniform(0, 180),
                    _vary(r, "#7a4028", 12),
                    crease=True,
                )
            for k2 in range(1, 4):
                d.line(
                    [(cx - wd, y - 40 * u + k2 * 10 * u), (cx + wd, y - 40 * u + k2 * 10 * u)],
                    fill=(110, 76, 40, 120),
                    width=round(3 * u),
                )
        elif kind == "bananas":
            ts = [j / 8 for j in range(9)]
            for i in range(6):
                bx = cx - wd * 0.8 + i * wd * 0.3
                pts = [(bx + math.sin(t * 1.6) * 40 * u, y - 10 * u - t * 90 * u) for t in ts]
                d.line(pts, fill=(210, 170, 40), width=round(26 * u), joint="curve")
                d.line(
                    [(px - 5 * u, py) for px, py in pts],
                    fill=(250, 214, 80),
                    width=round(12 * u),
                    joint="curve",
                )
        else:
            for i in range(3):
                bx = cx - wd + i * wd * 0.7
                d.rectangle((bx, y - 100 * u, bx + wd * 0.6, y), fill=(196, 160, 112))
                d.polygon(
                    [
                        (bx, y - 100 * u),
                        (bx + wd * 0.6, y - 100 * u),
                        (bx + wd * 0.5, y - 116 * u),
                        (bx + wd * 0.1, y - 116 * u),
                    ],
                    fill=(176, 140, 96),
                )
                d.rectangle(
                    (bx + wd * 0.08, y - 70 * u, bx + wd * 0.52, y - 36 * u),
                    fill=_rgb(r.choice(["#2a7a6a", "#c8283c", "#2c4a8a", "#3a2a24"])),
                )


def _scene_market(c: _Canvas) -> None:
    r, W, H, u = c.rng, c.W, c.H, c.u
    stops = SKIES[r.choice(["day", "golden", "dawn"])]
    _sky(c, stops, H * 0.5)
    haze = _rgb(stops[-1][1])
    far = _mix(haze, "#7f98b2", 0.5)
    for i in range(2):
        prof = _ridge(r, 32, 0.5)
        base = H * (0.3 + 0.05 * i)
        pts = _across(c, [base - H * (0.12 + 0.12 * v) for v in prof])
        m = _Mask(c, _bbox([*pts, (0, H)]))
        m.poly([*pts, (W * 1.02, H), (-W * 0.02, H)])
        _paint(c, m, _mix(far, "#5a8060", 0.4 * i))
        _mist(c, base, 40 * u, haze, 0.4)
    # colonial facades with tile roofs and balconies
    walls = ["#e9c27a", "#efe6d6", "#d98a5e", "#8fb0c8", "#a9c08e", "#e7b0a0"]
    x = -r.uniform(0, 120) * u
    street = H * 0.6
    while x < W:
        bw = r.uniform(300, 460) * u
        top = street - H * r.uniform(0.22, 0.3)
        wall = _rgb(r.choice(walls))
        m = _Mask(c, (x, top - 40 * u, x + bw, street))
        m.rect(x, top, x + bw, street)
        _shadow(c, m, 10 * u, dx=8 * u, opacity=0.25)
        _paint(c, m, _light(wall, 0.06), _dark(wall, 0.12))
        d = c.draw()
        d.rectangle((x - 10 * u, top - 26 * u, x + bw + 10 * u, top + 4 * u), fill=(176, 84, 52))
        for k in range(int(bw / (22 * u)) + 2):
            tx = x - 10 * u + k * 22 * u
            d.arc(
                (tx - 11 * u, top - 10 * u, tx + 11 * u, top + 12 * u),
                0,
                180,
                fill=(130, 58, 36),
                width=round(3 * u),
            )
        nwin = max(1, int(bw / (160 * u)))
        for k in range(nwin):
            wx = x + bw * (k + 0.5) / nwin
            wy = top + (street - top) * 0.3
            d.rectangle((wx - 34 * u, wy - 50 * u, wx + 34 * u, wy + 30 * u), fill=(70, 46, 32))
            d.rectangle((wx - 50 * u, wy + 30 * u, wx + 50 * u, wy + 40 * u), fill=(110, 70, 42))
            for q in range(6):
                bx = wx - 46 * u + q * 18.4 * u
                d.line(
                    [(bx, wy + 30 * u), (bx, wy + 8 * u)],
                    fill=(110, 70, 42),
                    width=round(4 * u),
                )
            d.line(
                [(wx - 50 * u, wy + 8 * u), (wx + 50 * u, wy + 8 * u)],
                fill=(110, 70, 42),
                width=round(5 * u),
            )
        x += bw + r.uniform(0, 20) * u
    _band(c, H * 0.2, street, haze, 0.0, 0.25)
    # ground
    m = _Mask(c, (0, street, W, H))
    m.rect(0, street, W, H)
    _paint(c, m, "#b9a58a", "#8a7660")
    d = c.draw()
    for _ in range(260):
        gy = street + (H - street) * r.random() ** 1.2
        depth = (gy - street) / (H - street)
        gx = r.uniform(0, W)
        gr = (10 + 30 * depth) * u
        d.ellipse(
            (gx - gr, gy - gr * 0.45, gx + gr, gy + gr * 0.45),
            fill=(*_vary(r, "#a8937a", 18), 90),
        )
    # bunting
    for k in range(2):
        y0 = H * (0.08 + 0.1 * k)
        sag = H * 0.07
        flags = []
        for i in range(25):
            t = i / 24
            flags.append(
                (W * t, y0 + sag * math.sin(math.pi * t) + (t - 0.5) * H * 0.04 * (k * 2 - 1)),
            )
        d.line(flags, fill=(70, 50, 40), width=round(2 * u))
        for i in range(24):
            (ax, ay), (bx, by) = flags[i], flags[i + 1]
            col = _rgb(
                ["#c8283c", "#f2b632", "#2a7a6a", "#e0457b", "#2c4a8a", "#e8612c"][(i + k) % 6],
            )
            mx = (ax + bx) / 2
            d.polygon([(ax + 4 * u, ay), (bx - 4 * u, by), (mx, (ay + by) / 2 + 46 * u)], fill=col)
    # stalls
    ns = 3
    sw = W / ns
    order = list(range(ns))
    for i in order:
        sx0 = i * sw + sw * 0.06
        sx1 = (i + 1) * sw - sw * 0.06
        aw_top, aw_bot = H * 0.27, H * 0.35
        table_y = H * 0.7
        foot = H * 0.93
        # back cloth / textiles
        _textile(c, (sx0 + 10 * u, aw_bot, sx1 - 10 * u, table_y), vertical=r.random() < 0.5)
        m = _Mask(c, (sx0, aw_bot, sx1, table_y))
        m.rect(sx0, aw_bot, sx1, table_y)
        _paint(c, m, (20, 12, 10), alpha=0.35)
        _figure(c, (sx0 + sx1) / 2 + r.uniform(-0.2, 0.2) * sw, table_y, r.uniform(0.95, 1.05))
        d = c.draw()
        for px in (sx0 + 6 * u, sx1 - 6 * u):
            d.rectangle((px - 8 * u, aw_top, px + 8 * u, foot), fill=(110, 78, 50))
        # awning with scalloped edge
        stripes = r.choice(
            [
                ("#c8283c", "#f4ead8"),
                ("#2a7a6a", "#f4ead8"),
                ("#e8612c", "#f2b632"),
                ("#2c4a8a", "#f4ead8"),
                ("#7a2a5a", "#f2b632"),
            ],
        )
        aw = [
            (sx0 - 20 * u, aw_top),
            (sx1 + 20 * u, aw_top),
            (sx1 + 30 * u, aw_bot),
            (sx0 - 30 * u, aw_bot),
        ]
        m = _Mask(c, _bbox(aw, 40 * u))
        m.poly(aw)
        nsc = 8
        for k in range(nsc):
            scx = sx0 - 30 * u + (sx1 - sx0 + 60 * u) * (k + 0.5) / nsc
            rad = (sx1 - sx0 + 60 * u) / nsc / 2
            m.ellipse(scx, aw_bot, rad, rad * 0.7)
        _shadow(c, m, 14 * u, dy=12 * u, opacity=0.4)
        stripe_img = Image.new("RGB", m.im.size, _rgb(stripes[0]))
        sd = ImageDraw.Draw(stripe_img)
        sw_px = m.im.size[0] / (nsc * 2)
        for k in range(0, nsc * 2, 2):
            sd.rectangle(
                (k * sw_px + sw_px, 0, k * sw_px + 2 * sw_px, m.im.size[1]),
                fill=_rgb(stripes[1]),
            )
        shade = _gradient(m.im.size, (255, 255, 255), (200, 200, 200), 90)
        stripe_img = ImageChops.multiply(stripe_img, shade)
        c.img.paste(stripe_img, (m.x0, m.y0), m.im)
        # table with a woven cloth
        m = _Mask(c, (sx0 - 20 * u, table_y - 20 * u, sx1 + 20 * u, foot + 20 * u))
        m.rect(sx0, table_y, sx1, foot - H * 0.05)
        _shadow(c, m, 16 * u, dx=10 * u, dy=20 * u, opacity=0.45)
        _textile(c, (sx0, table_y, sx1, foot - H * 0.05))
        m2 = _Mask(c, (sx0, table_y, sx1, foot - H * 0.05))
        m2.rect(sx0, table_y, sx1, foot - H * 0.05)
        _put(
            c,
            (30, 15, 10),
            (m2.x0, m2.y0),
            _scale(_gradient(m2.im.size, (0, 0, 0), (255, 255, 255), 90).convert("L"), 0.35),
        )
        d = c.draw()
        d.rectangle(
            (sx0 - 6 * u, table_y - 8 * u, sx1 + 6 * u, table_y + 6 * u),
            fill=(140, 100, 64),
        )
        _goods(c, sx0 + 20 * u, sx1 - 20 * u, table_y - 8 * u)


def _capsule(d: ImageDraw.ImageDraw, p0: Point, p1: Point, w: float, fill: Color) -> None:
    d.line([p0, p1], fill=fill, width=max(1, round(w)))
    for x, y in (p0, p1):
        d.ellipse((x - w / 2, y - w / 2, x + w / 2, y + w / 2), fill=fill)


def _hand(
    c: _Canvas,
    side: int,
    px: float,
    py: float,
    edge: Callable[[float], float],
    end: Point,
    skin: Color,
    sleeve: Color,
    over: bool,
) -> None:
    """One stylised hand holding the pod from below (side -1 = left hand).

    (px, py) is the palm centre, `edge(x)` the y of the pod's near (lower) rim and `end`
    the tip of the pod on this hand's side. With over=False draws forearm and palm (behind
    the pod), otherwise the fingers and thumb that wrap around in front of it.
    """
    u, H = c.u, c.H
    shade = _dark(skin, 0.22)
    lite = _light(skin, 0.12)
    if not over:
        ex, ey = px + side * 330 * u, H * 1.08
        arm = [
            (px - 95 * u, py + 40 * u),
            (px + 95 * u, py + 40 * u),
            (ex + 140 * u, ey),
            (ex - 140 * u, ey),
        ]
        m = _Mask(c, _bbox([*arm, (px, py - 130 * u)], 150 * u))
        m.poly(arm)
        m.ellipse(px, py, 135 * u, 120 * u)
        _shadow(c, m, 26 * u, dx=side * 12 * u, dy=14 * u, opacity=0.4)
        _paint(c, m, lite, shade, angle=0 if side > 0 else 180)
        d = c.draw()
        cx, cy = px + side * 230 * u, py + 300 * u
        cuff = [
            (cx - 170 * u, cy - 20 * u),
            (cx + 170 * u, cy + 20 * u * side),
            (ex + 260 * u, H * 1.1),
            (ex - 260 * u, H * 1.1),
        ]
        if side < 0:
            cuff = [
                (cx - 170 * u, cy + 20 * u),
                (cx + 170 * u, cy - 20 * u),
                (ex + 260 * u, H * 1.1),
                (ex - 260 * u, H * 1.1),
            ]
        d.polygon(cuff, fill=sleeve)
        for k, col in enumerate(("#f2b632", "#f4ead8", "#c8283c")):
            off = 18 * u + k * 24 * u
            d.line(
                [(cuff[0][0], cuff[0][1] + off), (cuff[1][0], cuff[1][1] + off)],
                fill=_rgb(col),
                width=round(9 * u),
            )
        return
    d = c.draw()
    fingers = []
    for k in range(4):
        bx = px - side * (60 - k * 40) * u
        rim = edge(bx)
        ln = (118 - abs(k - 1.3) * 18) * u
        ang = math.radians(-90 - side * (18 + k * 6))
        base = (bx, rim + 70 * u)
        tip = (base[0] + math.cos(ang) * ln, base[1] + math.sin(ang) * ln)
        fingers.append((base, tip))
    m = _Mask(c, (px - 300 * u, py - 320 * u, px + 300 * u, py + 160 * u))
    for base, tip in fingers:
        m.line([base, tip], 50 * u)
        m.ellipse(tip[0], tip[1], 25 * u, 25 * u)
    _shadow(c, m, 12 * u, dx=side * 5 * u, dy=10 * u, opacity=0.45)
    d = c.draw()
    order = fingers if side < 0 else fingers[::-1]
    for base, tip in order:
        _capsule(d, base, tip, 50 * u, shade)
        _capsule(
            d,
            (base[0] + side * 3 * u, base[1]),
            (tip[0] + side * 3 * u, tip[1] + 3 * u),
            40 * u,
            skin,
        )
        _capsule(
            d,
            (base[0] + side * 9 * u, base[1] - 10 * u),
            (tip[0] + side * 8 * u, tip[1] + 12 * u),
            9 * u,
            lite,
        )
        nx, ny = tip[0] + (base[0] - tip[0]) * 0.1, tip[1] + (base[1] - tip[1]) * 0.1
        ang = math.degrees(math.atan2(base[1] - tip[1], base[0] - tip[0]))
        d.polygon(_ellipse_pts(nx, ny, 14 * u, 11 * u, ang, 12), fill=_light(skin, 0.32))
    # thumb along the pod's end, tip resting on the rim
    t0 = (px + side * 110 * u, py + 10 * u)
    t1 = (end[0] - side * 100 * u, end[1] + 5 * u)
    _capsule(d, t0, t1, 58 * u, shade)
    _capsule(d, (t0[0] - side * 4 * u, t0[1]), (t1[0] - side * 4 * u, t1[1] + 3 * u), 47 * u, skin)
    ang = math.degrees(math.atan2(t0[1] - t1[1], t0[0] - t1[0]))
    d.polygon(
        _ellipse_pts(
            t1[0] + (t0[0] - t1[0]) * 0.1,
            t1[1] + (t0[1] - t1[1]) * 0.1,
            16 * u,
            12 * u,
            ang,
            12,
        ),
        fill=_light(skin, 0.32),
    )


def _scene_hands(c: _Canvas) -> None:
    r, W, H, u = c.rng, c.W, c.H, c.u
    bg = r.choice(
        [
            [(0.0, "#6f8a4a"), (0.5, "#3c5a36"), (1.0, "#22342a")],
            [(0.0, "#a08a5a"), (0.5, "#5a6a3a"), (1.0, "#2a3424")],
            [(0.0, "#7a9a6a"), (0.6, "#466a4a"), (1.0, "#1f3328")],
        ],
    )
    _bokeh_bg(c, bg, ["#dfe8a8", "#a7c27a", "#fff2c0", "#f3d98a"], n=45)
    _glow(c, W * r.uniform(0.2, 0.8), H * 0.05, 800 * u, "#ffe9b8", 0.3, 1.8)
    skin = _rgb(r.choice(["#8d5a3b", "#9a6446", "#7a4a32", "#b07a56"]))
    sleeve = _rgb(r.choice(["#c8283c", "#2a7a6a", "#e8612c", "#2c4a8a", "#7a2a5a"]))
    scheme = r.choice(["yellow", "orange", "maroon", "red"])
    cx, cy = W * 0.5 + r.uniform(-0.03, 0.03) * W, H * r.uniform(0.42, 0.46)
    length = min(u * r.uniform(720, 800), W * 0.8)
    width = length * r.uniform(0.42, 0.46)
    flip = r.random() < 0.5
    angle = 180.0 if flip else 0.0
    outline = _pod_outline(cx - length / 2 * (-1 if flip else 1), cy, length, width, angle)
    lower = [p for p in outline if p[1] >= cy]

    def edge(x: float) -> float:
        best = min(lower, key=lambda p: abs(p[0] - x))
        return best[1]

    hands = []
    for side in (-1, 1):
        px = cx + side * length * 0.27
        py = edge(px) + 40 * u
        end = (cx + side * length * 0.5, cy)
        hands.append((side, px, py, end))
    for side, px, py, end in hands:
        _hand(c, side, px, py, edge, end, skin, sleeve, over=False)
    _open_pod(c, cx, cy, length, width, angle, POD_COLORS[scheme])
    for side, px, py, end in hands:
        _hand(c, side, px, py, edge, end, skin, sleeve, over=True)


# --------------------------------------------------------------------------- public API

_SCENES: dict[str, Callable[[_Canvas], None]] = {
    "valley": _scene_valley,
    "cloud_forest": _scene_cloud_forest,
    "cacao_pod": _scene_cacao_pod,
    "cacao_tree": _scene_cacao_tree,
    "fermentation": _scene_fermentation,
    "drying": _scene_drying,
    "chocolate": _scene_chocolate,
    "coffee": _scene_coffee,
    "lodge": _scene_lodge,
    "river": _scene_river,
    "market": _scene_market,
    "hands": _scene_hands,
}


def generate(kind: str, seed: int = 0, width: int = 1600, height: int = 1000) -> bytes:
    """Return JPEG bytes (quality 85) of a generated illustration of `kind`."""
    if kind not in KINDS:
        raise ValueError(f"unknown demo image kind {kind!r}; expected one of {', '.join(KINDS)}")
    if width < 16 or height < 16:
        raise ValueError("width and height must be at least 16 pixels")
    rng = random.Random(f"{kind}:{seed}")  # noqa: S311 - artwork, not cryptography
    c = _Canvas(int(width), int(height), rng)
    _SCENES[kind](c)
    return _finish(c, int(width), int(height))
