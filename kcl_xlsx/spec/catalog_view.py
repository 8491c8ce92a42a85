"""Printing catalogs and choice lists for `kcl-xlsx catalog`."""
from __future__ import annotations

from rich.console import Console
from rich.table import Table

from kcl_xlsx.spec.plan_spec import PlanSpec, Sources


def print_frameworks(console: Console, sources: Sources) -> None:
    table = Table(title=f"Khung tiêu chí trong {sources.catalog.source}")
    for col in ("Mã khung", "Văn bản", "Cấp học", "Mức", "Tiêu chuẩn", "Tiêu chí", "Mức 4", "Kiểm chứng"):
        table.add_column(col)
    for fw in sources.catalog.frameworks:
        table.add_row(fw.id, fw.number, ", ".join(fw.school_levels), ",".join(map(str, fw.levels)),
                      str(len(fw.standards)), str(len(fw.criteria)), str(len(fw.top_items)),
                      "có" if fw.verified else "CHƯA")
    console.print(table)
    console.print("Xem chi tiết: kcl-xlsx catalog --level thcs  (hoặc --framework MÃ)", markup=False)


def print_spec(console: Console, spec: PlanSpec) -> None:
    fw = spec.framework
    console.print(f"{fw.number} ({fw.id}) - cấp {spec.level.label}"
                  + ("" if fw.verified else "  [chưa kiểm chứng với văn bản chính thức]"), markup=False)
    table = Table(show_lines=False)
    table.add_column("Mã")
    table.add_column("Tên")
    table.add_column("Mức")
    for std in fw.standards:
        table.add_row(f"TC {std.code}", std.name, "", style="bold")
        for c in std.criteria:
            table.add_row(c.code, c.name, ",".join(map(str, c.levels)))
    if fw.top_items:
        table.add_row("", spec.top_label or "", "", style="bold")
        for c in fw.top_items:
            table.add_row(c.code, c.name, str(fw.top_level))
    console.print(table)
    ch = spec.choices
    for title, values in (("Chủ trì (vai trò)", ch.owners), ("Nguồn kinh phí", [o.label for o in ch.funding]),
                          ("Trạng thái", [o.label for o in ch.statuses]),
                          ("Thời gian", [p.label for p in spec.periods])):
        console.print(f"{title}: " + "; ".join(values), markup=False)
