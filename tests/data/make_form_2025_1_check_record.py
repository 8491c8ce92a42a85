"""Record what the checker of form 2025.1 says of a batch of rows: the input rows, and the
issues and rows it gave (tests/data/form-2025.1-check-record.json, replayed by
tests/test_form_versions.py).  It was run with the code of before form 2026.1:

    git archive eba0da8 | tar -x -C /tmp/old
    cd /tmp/old && PYTHONPATH=/tmp/old python3 tests/data/make_form_2025_1_check_record.py \
        tests/data/form-2025.1-check-record.json /tmp/old-run

Not a test (pytest collects test_*.py only)."""
import json, sys, datetime as dt
from pathlib import Path
from kcl_xlsx.spec.plan_spec import Sources
from kcl_xlsx.issue.issuing import TemplateFactory
from kcl_xlsx.spec.roster import School
from kcl_xlsx.spec.sample_plans import plan_rows
from kcl_xlsx.demo import fill_plan
from kcl_xlsx.check.checker import check_path, CheckOptions
import tests.test_check_rules as T

out = Path(sys.argv[1]); tmp = Path(sys.argv[2]); tmp.mkdir(parents=True, exist_ok=True)
sources = Sources.load()
rows = []
for case in T.ROW_CASES:
    r = dict(case.rows[0])
    if r.get("target") == T.EX["target"]:
        r["target"] = f"{T.EX['target']} [{case.id}]"
    rows.append(r)
spec = sources.spec("thcs", T.YEAR)
sample = plan_rows(spec, 30, seed=2)
sample[0].update(budget="khoảng 15 triệu", funding=None)
sample[1].update(criterion=None, end=spec.periods[0].label, start=spec.periods[5].label)
sample[2].update(standard=None)
sample[3].update(standard=spec.lists["standards"][-1])
rows += sample
rows = [{k: v for k, v in r.items()} for r in rows]
school = School("79000123", "Trường THCS Nguyễn Trãi", "thcs", "Phòng GD&ĐT Quận 1")
data, _ = TemplateFactory(sources, T.YEAR, key=T.KEY, issue_date=dt.date(2025, 9, 5)).make("thcs", school)
(tmp / "t.xlsx").write_bytes(data)
info = dict(T.PREPARER); staff = list(T.STAFF)
fill_plan(tmp / "t.xlsx", tmp / "f.xlsx", rows, info=info, staff=staff)
sub = check_path(tmp / "f.xlsx", CheckOptions(key=T.KEY, year=T.YEAR))
def jv(v):
    return json.loads(json.dumps(v, ensure_ascii=False, default=str))
record = {
    "form_version": spec.form.version, "level": "thcs", "year": T.YEAR,
    "school": [school.code, school.name, school.level, school.unit],
    "key": T.KEY.decode(), "info": info, "staff": staff, "rows": jv(rows),
    "status": str(sub.status.value),
    "issues": [[i.severity.value, i.code, i.sheet, i.cell, i.row, i.column, i.value, i.message, i.hint] for i in sub.issues],
    "checked_rows": [[r.row, jv(r.values), jv(r.derived), r.errors] for r in sub.rows],
}
out.write_text(json.dumps(record, ensure_ascii=False, indent=1), encoding="utf-8")
print(len(rows), "rows", len(sub.issues), "issues", sub.status)
