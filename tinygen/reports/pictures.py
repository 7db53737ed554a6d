"""The memory report's pictures, as plain SVG (readable in any browser, no script):

- the memory timeline: one rectangle per buffer, layers along x, arena offset along y, the arena
  and the lower bound as lines, the peak layer's live bytes boxed, and a legend;
- the flash map and the RAM map: one bar each, split into what uses the memory, against the board.
Every label from a model or board file is escaped (html.escape).
"""

from __future__ import annotations

import html
import math

from ..boards import Board
from ..compiler.fit import FitReport, layer_flash_bytes
from ..compiler.pipeline import CompiledModel

TIMELINE_WIDTH, TIMELINE_HEIGHT, MARGIN = 900, 440, 60
BAR_WIDTH, BAR_HEIGHT = 900, 84
PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f")
SCRATCH = "#bab0ac"  # kernels' scratch areas
ARENA_LINE, BOUND_LINE, PEAK = "#c00", "#555", "#c00"


def bytes_text(n: float) -> str:
    """A byte count for an axis or a label: 512 B, 1.5 KiB, 96 KiB, 1.2 MiB."""
    for unit, size in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            value = n / size
            return f"{value:.1f} {unit}".replace(".0 ", " ") if value < 10 else f"{value:.0f} {unit}"
    return f"{n:.0f} B"


def nice_step(top: float, ticks: int = 5) -> float:
    """A round tick step (1, 2 or 5 times a power of two or ten) giving about `ticks` ticks up to top."""
    raw = max(top / ticks, 1)
    base = 2 ** math.floor(math.log2(raw)) if raw >= 1024 else 10 ** math.floor(math.log10(raw))
    return next(base * m for m in (1, 2, 5, 10) if base * m >= raw)


def _svg(width: int, height: int, parts: list[str]) -> str:
    head = f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
    return head + 'font-size="11">' + "".join(parts) + "</svg>"


def timeline_svg(compiled: CompiledModel) -> str:
    plan = compiled.plan
    layers = max(len(compiled.lowered.layers), 1)
    top = max(plan.arena_bytes, plan.lower_bound_bytes, 1) * 1.08  # room for the lines' labels
    width, height = TIMELINE_WIDTH - 2 * MARGIN, TIMELINE_HEIGHT - 2 * MARGIN - 30
    x = lambda layer: MARGIN + layer * width / layers
    y = lambda offset: MARGIN + height - offset * height / top
    parts = []
    tensors = sorted((b for b in plan.buffers.values() if b.tensors), key=lambda b: (b.first, b.name))
    scratch = [b for b in plan.buffers.values() if not b.tensors]
    for n, buf in enumerate([*tensors, *scratch]):
        offset = plan.offsets[buf.name]
        color = PALETTE[n % len(PALETTE)] if buf.tensors else SCRATCH
        label = f"{buf.name}: {buf.size:,} bytes at offset {offset:,}, alive in layers {buf.first}-{buf.last}"
        parts.append(
            f'<rect x="{x(buf.first):.1f}" y="{y(offset + buf.size):.1f}" width="{x(buf.last + 1) - x(buf.first):.1f}" '
            f'height="{max(buf.size * height / top, 1):.1f}" fill="{color}" fill-opacity="0.85" stroke="white">'
            f"<title>{html.escape(label)}</title></rect>"
        )
    parts += _axes(layers, top, x, y, width, height)
    parts += _level(f"arena: {plan.arena_bytes:,} bytes", y(plan.arena_bytes), width, ARENA_LINE, "end")
    parts += _level(
        f"lower bound: {plan.lower_bound_bytes:,} bytes", y(plan.lower_bound_bytes), width, BOUND_LINE, "start"
    )
    if compiled.lowered.layers:
        peak = max(range(layers), key=plan.live_bytes)
        live = plan.live_bytes(peak)
        parts.append(
            f'<rect x="{x(peak):.1f}" y="{y(live):.1f}" width="{width / layers:.1f}" '
            f'height="{live * height / top:.1f}" '
            f'fill="none" stroke="{PEAK}" stroke-width="2"><title>peak: {live:,} bytes alive during layer {peak}'
            f'</title></rect><text x="{x(peak) + width / layers / 2:.1f}" y="{MARGIN - 22}" text-anchor="middle" '
            f'fill="{PEAK}">peak: layer {peak}, {live:,} bytes alive</text>'
        )
    parts += _legend(MARGIN, TIMELINE_HEIGHT - 18)
    return _svg(TIMELINE_WIDTH, TIMELINE_HEIGHT, parts)


def _axes(layers: int, top: float, x, y, width: float, height: float) -> list[str]:
    step = max(1, math.ceil(layers / 30))
    parts = [
        f'<text x="{x(i) + width / layers / 2:.1f}" y="{y(0) + 14:.1f}" text-anchor="middle">{i}</text>'
        for i in range(0, layers, step)
    ]
    tick = nice_step(top)
    value = 0.0
    while value <= top:
        parts.append(
            f'<line x1="{MARGIN - 4}" x2="{MARGIN}" y1="{y(value):.1f}" y2="{y(value):.1f}" stroke="#999"/>'
            f'<text x="{MARGIN - 6}" y="{y(value) + 4:.1f}" text-anchor="end">{bytes_text(value)}</text>'
        )
        value += tick
    parts.append(
        f'<line x1="{MARGIN}" x2="{MARGIN}" y1="{y(0):.1f}" y2="{MARGIN}" stroke="#999"/>'
        f'<text x="{MARGIN + width / 2}" y="{y(0) + 30:.1f}" text-anchor="middle">layer (execution order)</text>'
        f'<text x="14" y="{MARGIN + height / 2}" text-anchor="middle" '
        f'transform="rotate(-90 14 {MARGIN + height / 2})">offset in the arena</text>'
    )
    return parts


def _level(label: str, at: float, width: float, color: str, anchor: str) -> list[str]:
    """A dashed horizontal line across the plot, labelled above."""
    text_x = MARGIN + width if anchor == "end" else MARGIN + 4
    return [
        f'<line x1="{MARGIN}" x2="{MARGIN + width}" y1="{at:.1f}" y2="{at:.1f}" stroke="{color}" '
        f'stroke-dasharray="4 3"/><text x="{text_x:.1f}" y="{at - 4:.1f}" text-anchor="{anchor}" '
        f'fill="{color}">{html.escape(label)}</text>'
    ]


def _legend(left: float, baseline: float) -> list[str]:
    items = [
        ("rect", PALETTE[0], "a tensor's buffer (one colour each)"),
        ("rect", SCRATCH, "a kernel's scratch"),
        ("line", ARENA_LINE, "arena size"),
        ("line", BOUND_LINE, "lower bound"),
        ("box", PEAK, "peak layer's live bytes"),
    ]
    parts, cursor = [], left
    for kind, color, text in items:
        if kind == "rect":
            parts.append(f'<rect x="{cursor}" y="{baseline - 9}" width="12" height="10" fill="{color}"/>')
        elif kind == "line":
            parts.append(
                f'<line x1="{cursor}" x2="{cursor + 12}" y1="{baseline - 4}" y2="{baseline - 4}" stroke="{color}" '
                'stroke-dasharray="4 3"/>'
            )
        else:
            parts.append(
                f'<rect x="{cursor}" y="{baseline - 9}" width="12" height="10" fill="none" stroke="{color}" '
                'stroke-width="2"/>'
            )
        parts.append(f'<text x="{cursor + 16}" y="{baseline}">{text}</text>')
        cursor += 22 + 6 * len(text)
    return parts


def _bar(segments: list[tuple[str, int, str]], available: int, caption: str, key: str) -> str:
    """A bar the width of `available` bytes, split into labelled segments (hover for each); what is left
    is free. `key` is the line of totals under the caption."""
    parts, cursor = [], 0.0
    scale = BAR_WIDTH / max(available, sum(size for _, size, _ in segments), 1)
    for label, size, color in segments:
        w = size * scale
        parts.append(
            f'<rect x="{cursor:.2f}" y="0" width="{max(w, 0.5):.2f}" height="30" fill="{color}" stroke="white" '
            f'stroke-width="0.5"><title>{html.escape(label)}: {size:,} bytes</title></rect>'
        )
        if w > 8 * len(label):
            parts.append(f'<text x="{cursor + 3:.1f}" y="19" fill="white">{html.escape(label)}</text>')
        cursor += w
    if cursor < BAR_WIDTH:
        free = max(available - sum(size for _, size, _ in segments), 0)
        parts.append(
            f'<rect x="{cursor:.2f}" y="0" width="{BAR_WIDTH - cursor:.2f}" height="30" fill="#eee">'
            f"<title>free: {free:,} bytes</title></rect>"
        )
    parts.append(f'<text x="0" y="48">{html.escape(caption)}</text>')
    parts.append(f'<text x="0" y="66" fill="#555">{html.escape(key)}</text>')
    return _svg(BAR_WIDTH, BAR_HEIGHT, parts)


def flash_svg(fit: FitReport, compiled: CompiledModel) -> str:
    weights = [
        (f"layer {i} {layer.op.kind}", size, PALETTE[i % len(PALETTE)])
        for i, (layer, size) in enumerate(zip(compiled.lowered.layers, layer_flash_bytes(compiled)))
        if size
    ]
    reserve = fit.flash.needed_bytes - fit.weights_bytes - fit.code_estimate_bytes
    segments = [*weights, ("code (estimate)", fit.code_estimate_bytes, "#555"), ("framework", reserve, "#999")]
    caption = f"flash: {fit.flash.needed_bytes:,} of {fit.flash.available_bytes:,} bytes used"
    key = (
        f"weights {fit.weights_bytes:,} in {len(weights)} layers (hover for each) · "
        f"code about {fit.code_estimate_bytes:,} · framework {reserve:,}"
    )
    return _bar(segments, fit.flash.available_bytes, caption, key)


def ram_svg(fit: FitReport, board: Board) -> str:
    segments = [
        ("arena", fit.arena_bytes, PALETTE[0]),
        ("state", fit.state_bytes, PALETTE[6]),
        ("stack", board.stack_bytes, PALETTE[1]),
        ("heap", board.heap_bytes, PALETTE[4]),
        ("framework", board.reserved.ram_bytes, "#999"),
    ]
    used = [s for s in segments if s[1]]
    caption = f"RAM: {fit.ram.needed_bytes:,} of {fit.ram.available_bytes:,} bytes used"
    key = " · ".join(f"{label} {size:,}" for label, size, _ in used)
    return _bar(used, fit.ram.available_bytes, caption, key)
