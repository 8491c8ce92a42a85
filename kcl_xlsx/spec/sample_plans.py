"""Varied, realistic plan rows for a spec: used by `kcl-xlsx demo`, the tests and benchmarks.

Rows are valid under every rule unless ``errors`` asks for some broken ones; values are
drawn deterministically from ``seed`` so a test can recompute every total itself.
"""
from __future__ import annotations

import random
from typing import Any

from kcl_xlsx.spec.plan_spec import PlanSpec

TARGETS = ("Hoàn thiện hồ sơ, minh chứng của tiêu chí theo quy định",
           "Nâng tỷ lệ giáo viên đạt chuẩn nghề nghiệp mức khá trở lên",
           "Bổ sung thiết bị dạy học tối thiểu còn thiếu",
           "Cải tạo khu vệ sinh, hệ thống cấp thoát nước",
           "Tổ chức hiệu quả các hoạt động trải nghiệm, hướng nghiệp")
ACTIONS = ("Rà soát hiện trạng; lập kế hoạch chi tiết; phân công thực hiện",
           "Tổ chức bồi dưỡng chuyên môn, dự giờ, thao giảng",
           "Tham mưu cấp trên, vận động xã hội hóa để mua sắm",
           "Kiểm tra, đánh giá định kỳ và báo cáo kết quả")


def plan_rows(spec: PlanSpec, n: int, seed: int = 0) -> list[dict[str, Any]]:
    rnd = random.Random(seed)
    fw, ch = spec.framework, spec.choices
    months = ch.months(spec.year)[:12]
    funding = [o.label for o in ch.funding if not o.none]
    roles = spec.form.roles
    rows = []
    for i in range(n):
        if fw.top_items and i % 7 == 6:
            crit = rnd.choice(fw.top_items)
            muc, std = spec.top_label, None
        else:
            s = rnd.choice(fw.standards)
            crit = rnd.choice(s.criteria)
            muc, std = ch.level_label(rnd.choice(crit.levels)), s.label
        a = rnd.randrange(0, 9)
        b = rnd.randrange(a, 12)
        budget = rnd.choice([0, 2, 5, 10, 12.5, 30, 150])
        by_role = {
            "level": muc, "standard": std, "criterion": crit.label,
            "target": rnd.choice(TARGETS), "actions": f"{rnd.choice(ACTIONS)} ({i + 1})",
            "lead": rnd.choice(ch.owners[:8]), "collaborators": "Giáo viên, Nhân viên",
            "start": months[a].label, "end": months[b].label,
            "budget": budget or None,
            "funding": rnd.choice(funding) if budget else (ch.no_funding.label if ch.no_funding else None),
            "status": rnd.choice(ch.statuses[:3]).label,
        }
        row = dict.fromkeys(spec.form.keys)
        row.update({getattr(roles, role): value for role, value in by_role.items()})
        rows.append(row)
    return rows
