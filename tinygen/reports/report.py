"""The memory report: the plan as data (for `tinygen plan --json`) and as pictures.

Pictures are plain SVG inside one HTML file, readable in any browser with no script:
- the memory timeline: one rectangle per buffer, layers along x, arena offset along y,
  the peak layer and the arena size marked;
- the flash map: one bar split into weights per layer, code and the framework reserve.
"""

from __future__ import annotations

from pathlib import Path

from markupsafe import Markup

from ..boards import Board
from ..compiler.fit import estimate_fit
from ..compiler.pipeline import CompiledModel
from ..resources import render
from .pictures import flash_svg, ram_svg, timeline_svg


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
        "optimization": compiled.choice.as_json(),  # --optimize, the arena budget, the estimated total
        **fit.as_json(),
        "state": plan.state.as_json(),  # the slots of the persistent region (state_bytes in all)
        "layers": [
            {
                "index": i,
                "op": layer.op.kind,
                "kernel": layer.kernel or "(alias)",
                "choice": choice.reason,  # why this kernel: the only one, the fastest, or a smaller arena
                "estimated_instructions": choice.estimated,
                "variants": [{"kernel": k, "estimated_instructions": n} for k, n in choice.alternatives],
                "live_bytes": plan.live_bytes(i),
                "output_bytes": sum(compiled.lowered.graph.tensor(t).nbytes for t in layer.op.outputs[:1]),
            }
            for i, (layer, choice) in enumerate(zip(layers, compiled.choice.layers))
        ],
    }


def write_report(directory: Path, compiled: CompiledModel, board: Board) -> Path:
    """Write report.html (plan, fit, memory timeline, RAM and flash maps) into directory."""
    summary = plan_summary(compiled, board)
    fit = estimate_fit(compiled, board)
    page = render(
        "report.html.j2",
        model=Path(compiled.model.source).name,
        summary=summary,
        # SVG tinygen drew, every label from a file escaped in it
        timeline=Markup(timeline_svg(compiled)),
        flash=Markup(flash_svg(fit, compiled)),
        ram=Markup(ram_svg(fit, board)),
    )
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "report.html"
    path.write_text(page, encoding="utf-8")
    return path
