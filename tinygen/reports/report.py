"""The memory report: the plan as data (for `tinygen plan --json`) and as pictures.

Pictures are plain SVG inside one HTML file, readable in any browser with no script:
- the memory timeline: one rectangle per buffer, layers along x, arena offset along y,
  the peak layer and the arena size marked;
- the flash map: one bar split into weights per layer, code and the framework reserve.
"""

from __future__ import annotations

import html
from pathlib import Path

from markupsafe import Markup

from ..boards import Board
from ..compiler.fit import FitReport, estimate_fit, layer_flash_bytes
from ..compiler.memory import MemoryPlan
from ..compiler.pipeline import CompiledModel
from ..resources import render

TIMELINE_WIDTH, TIMELINE_HEIGHT, MARGIN = 900, 420, 50
FLASH_WIDTH, FLASH_HEIGHT = 900, 66
PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f")


def plan_summary(compiled: CompiledModel, board: Board) -> dict:
    plan, layers = compiled.plan, compiled.lowered.layers
    fit = estimate_fit(compiled, board)
    return {
        "board": board.id,
        "arena_bytes": plan.arena_bytes,
        "lower_bound_bytes": plan.lower_bound_bytes,
        "gap_to_lower_bound": (plan.arena_bytes / plan.lower_bound_bytes - 1) if plan.lower_bound_bytes else 0.0,
        "strategy": plan.strategy,
        "in_place_layers": [i for i, layer in enumerate(layers) if layer.in_place],
        **fit.as_json(),
        "layers": [
            {
                "index": i,
                "op": layer.op.kind,
                "kernel": layer.kernel or "(alias)",
                "live_bytes": plan.live_bytes(i),
                "output_bytes": compiled.model.graph.tensor(layer.op.outputs[0]).nbytes,
            }
            for i, layer in enumerate(layers)
        ],
    }


def write_report(directory: Path, compiled: CompiledModel, board: Board) -> Path:
    """Write report.html (plan, fit, timeline and flash map) into directory."""
    summary = plan_summary(compiled, board)
    page = render(
        "report.html.j2",
        model=Path(compiled.model.source).name,
        summary=summary,
        timeline=Markup(timeline_svg(compiled)),  # SVG we wrote, with its text escaped
        flash=Markup(flash_svg(estimate_fit(compiled, board), compiled)),
    )
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "report.html"
    path.write_text(page, encoding="utf-8")
    return path


def timeline_svg(compiled: CompiledModel) -> str:
    plan: MemoryPlan = compiled.plan
    layers = max(len(compiled.lowered.layers), 1)
    top = max(plan.arena_bytes, plan.lower_bound_bytes, 1)  # the bound may lie above an in-place arena
    width, height = TIMELINE_WIDTH - 2 * MARGIN, TIMELINE_HEIGHT - 2 * MARGIN
    x = lambda layer: MARGIN + layer * width / layers
    y = lambda offset: TIMELINE_HEIGHT - MARGIN - offset * height / top
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{TIMELINE_WIDTH}" height="{TIMELINE_HEIGHT}" '
        f'font-family="sans-serif" font-size="11">'
    ]
    for n, buf in enumerate(sorted(plan.buffers.values(), key=lambda b: (b.first, b.name))):
        offset = plan.offsets[buf.name]
        label = f"{buf.name}: {buf.size:,} bytes at {offset:,}, layers {buf.first}-{buf.last}"
        parts.append(
            f'<rect x="{x(buf.first):.1f}" y="{y(offset + buf.size):.1f}" '
            f'width="{x(buf.last + 1) - x(buf.first):.1f}" height="{max(buf.size * height / top, 1):.1f}" '
            f'fill="{PALETTE[n % len(PALETTE)]}" fill-opacity="0.8" stroke="white">'
            f"<title>{html.escape(label)}</title></rect>"
        )
    parts += _axes(layers, top, x, y, width)
    parts += _level(f"arena {plan.arena_bytes:,} bytes", y(plan.arena_bytes), width, "#c00", "end")
    parts += _level(f"lower bound {plan.lower_bound_bytes:,} bytes", y(plan.lower_bound_bytes), width, "#555", "start")
    if compiled.lowered.layers:
        peak = max(range(layers), key=plan.live_bytes)
        parts.append(
            f'<rect x="{x(peak):.1f}" y="{MARGIN}" width="{width / layers:.1f}" height="{height}" '
            f'fill="none" stroke="#c00" stroke-width="2"/><text x="{x(peak) + width / layers / 2:.1f}" '
            f'y="{MARGIN - 18}" text-anchor="middle" fill="#c00">peak: layer {peak}, '
            f"{plan.live_bytes(peak):,} bytes live</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _axes(layers: int, top: int, x, y, width: float) -> list[str]:
    step = max(1, layers // 30)
    parts = [
        f'<text x="{x(i) + width / layers / 2:.1f}" y="{y(0) + 14:.1f}" text-anchor="middle">{i}</text>'
        for i in range(0, layers, step)
    ]
    for fraction in (0, 0.25, 0.5, 0.75, 1):
        parts.append(
            f'<text x="{MARGIN - 4}" y="{y(top * fraction) + 4:.1f}" text-anchor="end">'
            f"{int(top * fraction / 1024)}K</text>"
        )
    parts.append(
        f'<text x="{MARGIN + width / 2}" y="{TIMELINE_HEIGHT - 8}" text-anchor="middle">layer '
        f'(execution order)</text><text x="12" y="{TIMELINE_HEIGHT / 2}" text-anchor="middle" '
        f'transform="rotate(-90 12 {TIMELINE_HEIGHT / 2})">arena offset (bytes)</text>'
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


def flash_svg(fit: FitReport, compiled: CompiledModel) -> str:
    segments = [
        (f"layer {i} {layer.op.kind}", size)
        for i, (layer, size) in enumerate(zip(compiled.lowered.layers, layer_flash_bytes(compiled)))
        if size
    ]
    segments += [
        ("code (estimate)", fit.code_estimate_bytes),
        ("framework reserve", fit.flash.needed_bytes - fit.weights_bytes - fit.code_estimate_bytes),
    ]
    used = max(fit.flash.needed_bytes, 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{FLASH_WIDTH}" height="{FLASH_HEIGHT}" '
        f'font-family="sans-serif" font-size="11">'
    ]
    cursor = 0.0
    for n, (label, size) in enumerate(segments):  # the used flash, part by part
        w = size * FLASH_WIDTH / used
        parts.append(
            f'<rect x="{cursor:.2f}" y="0" width="{max(w, 0.5):.2f}" height="30" '
            f'fill="{PALETTE[n % len(PALETTE)]}" stroke="white" stroke-width="0.5">'
            f"<title>{html.escape(label)}: {size:,} bytes</title></rect>"
        )
        if w > 90:
            parts.append(f'<text x="{cursor + 3:.1f}" y="19" fill="white">{html.escape(label)}</text>')
        cursor += w
    share = min(fit.flash.needed_bytes / max(fit.flash.available_bytes, 1), 1.0)
    color = "#59a14f" if fit.flash.fits else "#e15759"
    parts.append(
        f'<rect x="0" y="38" width="{FLASH_WIDTH}" height="8" fill="#eee"/><rect x="0" y="38" '
        f'width="{max(share * FLASH_WIDTH, 1):.1f}" height="8" fill="{color}"/>'
    )
    parts.append(
        f'<text x="0" y="60">used {fit.flash.needed_bytes:,} of {fit.flash.available_bytes:,} bytes '
        f"({share:.1%}); the bar above splits the used part</text></svg>"
    )
    return "".join(parts)
