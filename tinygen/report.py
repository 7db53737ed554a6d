"""The memory report: the plan as data (for `tinygen plan --json`) and as pictures.

Pictures are plain SVG inside one HTML file, readable in any browser with no script:
- the memory timeline: one rectangle per buffer, layers along x, arena offset along y,
  the peak layer and the arena size marked;
- the flash map: one bar split into weights per layer, code and the framework reserve.
"""
from __future__ import annotations

import html
from pathlib import Path

import jinja2

from .boards import Board
from .fit import FitReport, estimate_fit
from .memory import MemoryPlan
from .pipeline import CompiledModel
from .resources import resource_dir

TIMELINE_WIDTH, TIMELINE_HEIGHT, MARGIN = 900, 420, 50
FLASH_WIDTH, FLASH_HEIGHT = 900, 60
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
        "in_place_layers": [i for i, layer in enumerate(layers) if layer.kernel and layer.shares_storage_with is not None],
        **fit.as_json(),
        "layers": [
            {"index": i, "op": layer.op.kind, "kernel": layer.kernel or "(alias)", "live_bytes": plan.live_bytes(i),
             "output_bytes": compiled.model.graph.tensor(layer.op.outputs[0]).nbytes}
            for i, layer in enumerate(layers)
        ],
    }


def write_report(directory: Path, compiled: CompiledModel, board: Board) -> Path:
    """Write report.html (plan, fit, timeline and flash map) into directory."""
    summary = plan_summary(compiled, board)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(resource_dir("templates")), autoescape=True,
                             undefined=jinja2.StrictUndefined)
    page = env.get_template("report.html.j2").render(
        model=Path(compiled.model.source).name, summary=summary,
        timeline=jinja2.utils.markupsafe.Markup(timeline_svg(compiled)),
        flash=jinja2.utils.markupsafe.Markup(flash_svg(estimate_fit(compiled, board), compiled)),
    )
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "report.html"
    path.write_text(page)
    return path


def timeline_svg(compiled: CompiledModel) -> str:
    plan: MemoryPlan = compiled.plan
    layers = max(len(compiled.lowered.layers), 1)
    top = max(plan.arena_bytes, 1)
    width, height = TIMELINE_WIDTH - 2 * MARGIN, TIMELINE_HEIGHT - 2 * MARGIN
    x = lambda layer: MARGIN + layer * width / layers  # noqa: E731 - coordinate maps
    y = lambda offset: TIMELINE_HEIGHT - MARGIN - offset * height / top  # noqa: E731
    peak_layer = max(range(layers), key=plan.live_bytes) if compiled.lowered.layers else 0
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{TIMELINE_WIDTH}" height="{TIMELINE_HEIGHT}" '
             f'font-family="sans-serif" font-size="11">']
    parts.append(f'<rect x="{x(peak_layer):.1f}" y="{MARGIN}" width="{width / layers:.1f}" height="{height}" '
                 f'fill="#fde8e8"><title>peak: layer {peak_layer}, {plan.live_bytes(peak_layer):,} bytes live'
                 f'</title></rect>')
    for n, buf in enumerate(sorted(plan.buffers.values(), key=lambda b: (b.first, b.name))):
        offset = plan.offsets[buf.name]
        label = f"{buf.name}: {buf.size:,} bytes at {offset:,}, layers {buf.first}-{buf.last}"
        parts.append(f'<rect x="{x(buf.first):.1f}" y="{y(offset + buf.size):.1f}" '
                     f'width="{x(buf.last + 1) - x(buf.first):.1f}" height="{max(buf.size * height / top, 1):.1f}" '
                     f'fill="{PALETTE[n % len(PALETTE)]}" fill-opacity="0.8" stroke="white">'
                     f'<title>{html.escape(label)}</title></rect>')
    parts.append(f'<line x1="{MARGIN}" x2="{MARGIN + width}" y1="{y(top):.1f}" y2="{y(top):.1f}" stroke="#c00" '
                 f'stroke-dasharray="4 3"/><text x="{MARGIN + width}" y="{y(top) - 4:.1f}" text-anchor="end" '
                 f'fill="#c00">arena {plan.arena_bytes:,} bytes</text>')
    if plan.lower_bound_bytes <= top:
        lb = y(plan.lower_bound_bytes)
        parts.append(f'<line x1="{MARGIN}" x2="{MARGIN + width}" y1="{lb:.1f}" y2="{lb:.1f}" stroke="#555" '
                     f'stroke-dasharray="2 4"/><text x="{MARGIN + 4}" y="{lb - 4:.1f}" fill="#555">lower bound '
                     f'{plan.lower_bound_bytes:,} bytes</text>')
    parts.append(f'<text x="{MARGIN + width / 2}" y="{TIMELINE_HEIGHT - 12}" text-anchor="middle">layer '
                 f'(execution order)</text><text x="14" y="{MARGIN + height / 2}" text-anchor="middle" '
                 f'transform="rotate(-90 14 {MARGIN + height / 2})">arena offset (bytes)</text>')
    parts.append("</svg>")
    return "".join(parts)


def flash_svg(fit: FitReport, compiled: CompiledModel) -> str:
    graph = compiled.model.graph
    segments = []
    for i, layer in enumerate(compiled.lowered.layers):
        size = sum(graph.tensor(t).nbytes for t in layer.op.inputs if t >= 0 and graph.tensor(t).is_constant)
        size += sum(v.nbytes for v in layer.consts.values())
        if size:
            segments.append((f"layer {i} {layer.op.kind}", size))
    segments += [("code (estimate)", fit.code_estimate_bytes), ("framework reserve",
                                                               fit.flash.needed_bytes - fit.weights_bytes -
                                                               fit.code_estimate_bytes)]
    total = max(fit.flash.available_bytes, fit.flash.needed_bytes, 1)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{FLASH_WIDTH}" height="{FLASH_HEIGHT}" '
             f'font-family="sans-serif" font-size="11"><rect x="0" y="10" width="{FLASH_WIDTH}" height="30" '
             f'fill="#eee"><title>flash: {fit.flash.available_bytes:,} bytes</title></rect>']
    cursor = 0.0
    for n, (label, size) in enumerate(segments):
        w = size * FLASH_WIDTH / total
        parts.append(f'<rect x="{cursor:.2f}" y="10" width="{max(w, 0.5):.2f}" height="30" '
                     f'fill="{PALETTE[n % len(PALETTE)]}"><title>{html.escape(label)}: {size:,} bytes</title></rect>')
        cursor += w
    parts.append(f'<text x="0" y="55">used {fit.flash.needed_bytes:,} of {fit.flash.available_bytes:,} bytes</text>')
    parts.append("</svg>")
    return "".join(parts)
