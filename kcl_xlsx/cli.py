"""The ``kcl-xlsx`` command: a thin typed layer; library functions do the work.

Exit codes: 0 done (no file with errors), 1 some file has errors, 2 usage or input error
(one line on stderr naming the problem, never a traceback).
"""
from __future__ import annotations

import datetime as dt
import functools
import os
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Callable, Optional

import typer
from rich.console import Console

from workbook_templates.errors import SpecError

from workbook_templates.choices import parse_school_year

from kcl_xlsx.spec import catalog_view
from kcl_xlsx.check import render as report_render
from kcl_xlsx import app as commands  # the library side of each command (cli.app is the typer app)
from kcl_xlsx.base.text import name_list
from kcl_xlsx.intake import entries
from kcl_xlsx.check.checker import CheckOptions
from kcl_xlsx.spec.identity import KEY_ENV, office_key
from kcl_xlsx.base.output import OutputError, check_writable_dir
from kcl_xlsx.spec.plan_spec import Sources
from kcl_xlsx.spec.roster import School, load_roster

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="kcl-xlsx: phát hành, thu thập, kiểm tra và tổng hợp kế hoạch cải tiến chất lượng "
                       "giáo dục của các trường (Excel). Issue, collect, check and summarise school "
                       "quality-improvement plans.")
err = Console(stderr=True, highlight=False, soft_wrap=True)
out = Console(highlight=False, soft_wrap=True)

LEVELS_HELP = "Cấp học / school level: mam-non, tieu-hoc, thcs, thpt, nhieu-cap."
CatalogOpt = Annotated[Optional[Path], typer.Option("--catalog", help="Tệp danh mục tiêu chí riêng (YAML) / own criteria catalog file.")]
ChoicesOpt = Annotated[Optional[Path], typer.Option("--choices", help="Tệp danh sách lựa chọn riêng (YAML) / own choice lists file.")]
FrameworkOpt = Annotated[Optional[str], typer.Option("--framework", help="Mã khung tiêu chí (xem `kcl-xlsx catalog`); mặc định: khung đã kiểm chứng của cấp học.")]
SignKeyOpt = Annotated[Optional[str], typer.Option("--key", help=f"Khóa ký định danh (HMAC); mặc định biến môi trường {KEY_ENV}.")]
CheckKeyOpt = Annotated[Optional[str], typer.Option("--key", help=f"Khóa kiểm tra chữ ký; mặc định biến môi trường {KEY_ENV}.")]
ShowInfoOpt = Annotated[bool, typer.Option("--show-info", help="Hiện cả các thông tin tự chuẩn hóa (mức info) trên trang Lỗi và tệp phản hồi; tệp xuất dữ liệu luôn có.")]
PdfOpt = Annotated[bool, typer.Option("--pdf", help="In thêm bảng tổng hợp ra PDF (cần LibreOffice) / also print the summary to PDF.")]
DocumentTextOpt = Annotated[Optional[Path], typer.Option("--document-text", help="Tệp lời văn chuẩn của văn bản kế hoạch (YAML, như workbook_templates/data/document.yaml) / own standard text of the document.")]
IssueDateOpt = Annotated[Optional[str], typer.Option("--issue-date", help="Ngày phát hành YYYY-MM-DD (mặc định hôm nay).")]


class UsageError(Exception):
    """A bad option value: printed as one line, exit 2."""


def friendly(func: Callable) -> Callable:
    """Turn every expected failure into one line on stderr and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except (SpecError, OutputError, UsageError) as exc:
            err.print(f"kcl-xlsx: {exc}", markup=False)
            raise typer.Exit(2) from None
        except (typer.Exit, typer.Abort):
            raise
        except KeyboardInterrupt:
            err.print("kcl-xlsx: đã dừng theo yêu cầu / interrupted", markup=False)
            raise typer.Exit(130) from None
        except Exception as exc:  # a bug: still one line, the traceback on request
            if os.environ.get("KCL_XLSX_DEBUG") == "1":
                raise
            err.print(f"kcl-xlsx: lỗi không mong đợi / unexpected error: {type(exc).__name__}: {exc} "
                      f"(KCL_XLSX_DEBUG=1 để xem chi tiết)", markup=False)
            raise typer.Exit(3) from None

    return wrapper


def _date(text: Optional[str], option: str) -> dt.date:
    if not text:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{option}: '{text}' không phải ngày dạng YYYY-MM-DD / not a date (YYYY-MM-DD)") from None


@app.command()
@friendly
def template(
    year: Annotated[str, typer.Option("--year", help="Năm học, ví dụ 2025-2026 / school year.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Tệp .xlsx (một trường) hoặc thư mục (với --roster).")],
    level: Annotated[Optional[str], typer.Option("--level", help=LEVELS_HELP)] = None,
    roster: Annotated[Optional[str], typer.Option("--roster", help="Danh sách trường (.csv/.xlsx), hoặc 'sample' cho danh sách mẫu.")] = None,
    school_code: Annotated[str, typer.Option("--school-code", help="Mã trường (một trường).")] = "",
    school_name: Annotated[str, typer.Option("--school-name", help="Tên trường (một trường).")] = "",
    unit: Annotated[str, typer.Option("--unit", help="Đơn vị quản lý / managing office.")] = "",
    catalog: CatalogOpt = None,
    choices: ChoicesOpt = None,
    framework: FrameworkOpt = None,
    key: SignKeyOpt = None,
    issue_date: IssueDateOpt = None,
) -> None:
    """Tạo mẫu kế hoạch khóa sẵn cho một trường hoặc cho cả danh sách trường.
    Write the locked plan template for one school, or one per school of a roster."""
    from kcl_xlsx.issue.issuing import MANIFEST, TemplateFactory, issue_one, issue_roster  # the issue stage

    sources = Sources.load(catalog=catalog, choices=choices)
    factory = TemplateFactory(sources, year, framework, office_key(key), _date(issue_date, "--issue-date"))
    if roster:
        if level or school_code or school_name:
            raise UsageError("--roster dùng riêng, không kèm --level/--school-code/--school-name "
                             "/ --roster excludes the single-school options")
        if output.suffix.lower() in (".xlsx", ".xlsm", ".xls"):
            raise UsageError(f"-o {output}: với --roster cần một thư mục (mỗi trường một tệp), không phải tên tệp "
                             f"/ with --roster, -o is a folder (one file per school), not a file name")
        schools = load_roster(roster, sources.form)
        for lvl in sorted({s.level for s in schools.schools}):
            factory.spec(lvl)  # validates --year/--framework for every level before any file
        records = issue_roster(factory, schools, output)
        out.print(f"Đã tạo {len(records)} mẫu và {MANIFEST} trong {output} "
                  f"/ wrote {len(records)} templates", markup=False)
        return
    if not level:
        raise UsageError("cần --level (hoặc --roster) / --level or --roster is required")
    if output.suffix.lower() != ".xlsx":
        raise UsageError(f"{output}: tên tệp cần đuôi .xlsx / output must end in .xlsx")
    school = School(school_code, school_name, level, unit) if (school_code or school_name or unit) else None
    factory.spec(level)
    rec = issue_one(factory, level, output, school)
    out.print(f"Đã tạo {output} (mã mẫu {rec.template_id}) / wrote {output}", markup=False)


@app.command("catalog")
@friendly
def catalog_cmd(
    level: Annotated[Optional[str], typer.Option("--level", help=LEVELS_HELP + " Không có: liệt kê các khung.")] = None,
    year: Annotated[str, typer.Option("--year", help="Năm học (cho danh sách tháng).")] = "2025-2026",
    catalog: CatalogOpt = None,
    choices: ChoicesOpt = None,
    framework: FrameworkOpt = None,
) -> None:
    """In danh mục tiêu chí và các danh sách lựa chọn. Print criteria catalogs and choice lists."""
    sources = Sources.load(catalog=catalog, choices=choices)
    if level is None and framework is None:
        catalog_view.print_frameworks(out, sources)
        return
    if level is None:
        level = next(lv.key for lv in sources.form.levels
                     if lv.catalog in sources.catalog.get(framework).school_levels)
    catalog_view.print_spec(out, sources.spec(level, year, framework))


class Format(str, Enum):
    text = "text"
    json = "json"
    csv = "csv"


def _check_options(catalog: Optional[Path], choices: Optional[Path], key: Optional[str], year: Optional[str],
                   level: Optional[str] = None) -> CheckOptions:
    """The check's options from a command's --catalog, --choices, --key, --year, --level."""
    return CheckOptions(catalog=str(catalog) if catalog else None, choices=str(choices) if choices else None,
                        key=office_key(key), year=year, level=level)


@app.command()
@friendly
def check(
    paths: Annotated[list[Path], typer.Argument(help="Tệp hoặc thư mục cần kiểm tra / files or folders.")],
    fmt: Annotated[Format, typer.Option("--format", help="text (bảng), json hoặc csv (mỗi vấn đề một dòng).")] = Format.text,
    feedback: Annotated[Optional[Path], typer.Option("--feedback", help="Thư mục ghi bản phản hồi cho từng trường (ô lỗi tô đỏ, có ghi chú).")] = None,
    roster: Annotated[Optional[str], typer.Option("--roster", help="Danh sách trường: đối chiếu trường và cấp học.")] = None,
    year: Annotated[Optional[str], typer.Option("--year", help="Năm học mong đợi, ví dụ 2025-2026.")] = None,
    level: Annotated[Optional[str], typer.Option("--level", help="Cấp học dùng cho tệp không có định danh. " + LEVELS_HELP)] = None,
    key: CheckKeyOpt = None,
    catalog: CatalogOpt = None,
    choices: ChoicesOpt = None,
    show_info: ShowInfoOpt = False,
    jobs: Annotated[Optional[int], typer.Option("--jobs", help="Số tiến trình song song (mặc định: số lõi).")] = None,
) -> None:
    """Kiểm tra tệp kế hoạch trường gửi về. Check returned plans; exit 1 if any file has errors."""
    sources = Sources.load(catalog=catalog, choices=choices)
    if year:
        parse_school_year(year)
    if level:
        sources.form.level(level)
    schools = load_roster(roster, sources.form) if roster else None
    missing = [p for p in paths if not p.exists()]
    if missing:
        raise UsageError(f"{missing[0]}: không có tệp hoặc thư mục này / no such file or folder")
    _jobs(jobs)
    options = _check_options(catalog, choices, key, year, level)
    run = commands.check(paths, options, roster=schools, feedback=feedback, jobs=jobs, show_info=show_info)
    for e in run.listed:
        if e.kind == entries.SKIPPED:
            err.print(f"{e.name}: bỏ qua, {e.note}", markup=False)
        else:
            err.print(f"{e.name}: tệp nén, {e.note} / an archive, its workbooks are checked", markup=False)
    if feedback:
        err.print(f"Đã ghi {len(run.feedback)} tệp phản hồi vào {feedback} / wrote {len(run.feedback)} feedback files",
                  markup=False)
    subs = run.submissions
    if fmt == Format.json:
        _write_utf8(report_render.to_json(subs) + "\n")
    elif fmt == Format.csv:
        _write_utf8(report_render.to_csv(subs))
    else:
        report_render.print_text(out, subs, show_info)
    raise typer.Exit(1 if run.errors else 0)


@app.command()
@friendly
def collect(
    inbox: Annotated[Path, typer.Argument(help="Thư mục các tệp trường gửi về (đọc cả thư mục con và tệp .zip); không bao giờ bị sửa.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Tệp tổng hợp .xlsx; bản cũ được giữ lại với tên có thời điểm.")] = Path("tong-hop.xlsx"),
    roster: Annotated[Optional[str], typer.Option("--roster", help="Danh sách trường (.csv/.xlsx) hoặc 'sample': ai đã nộp, ai chưa.")] = None,
    year: Annotated[Optional[str], typer.Option("--year", help="Năm học, ví dụ 2025-2026: tệp của năm khác là lỗi.")] = None,
    deadline: Annotated[Optional[str], typer.Option("--deadline", help="Hạn nộp YYYY-MM-DD: nộp sau hạn là 'Nộp muộn'.")] = None,
    feedback: Annotated[Optional[Path], typer.Option("--feedback", help="Thư mục ghi tệp phản hồi cho mỗi tệp có lỗi.")] = None,
    export: Annotated[Optional[Path], typer.Option("--export", help="Thư mục xuất CSV (UTF-8 BOM) và Parquet.")] = None,
    ledger: Annotated[Optional[Path], typer.Option("--ledger", help="Sổ theo dõi SQLite (mặc định: kcl-ledger.sqlite cạnh tệp tổng hợp).")] = None,
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Ngày xét tiến độ YYYY-MM-DD (mặc định hôm nay): công việc quá tháng hoàn thành mà chưa xong là trễ hạn.")] = None,
    key: CheckKeyOpt = None,
    catalog: CatalogOpt = None,
    choices: ChoicesOpt = None,
    jobs: Annotated[Optional[int], typer.Option("--jobs", help="Số tiến trình song song (mặc định: số lõi).")] = None,
    show_info: ShowInfoOpt = False,
    pdf: PdfOpt = False,
    render: Annotated[Optional[Path], typer.Option("--render", help="Thư mục ghi văn bản kế hoạch (.docx) của mỗi kế hoạch được nhận (hợp lệ, mới nhất của trường); với --pdf cả bản PDF.")] = None,
    document_text: DocumentTextOpt = None,
) -> None:
    """Thu thập cả hộp thư thành bảng tổng hợp. Collect an inbox into the summary workbook."""
    from kcl_xlsx.collect.view import print_result, progress_bar

    if not inbox.is_dir():
        raise UsageError(f"{inbox}: không phải thư mục / not a folder")
    for option, path in (("-o", output), ("--feedback", feedback), ("--export", export), ("--ledger", ledger),
                         ("--render", render)):
        if path is not None and _inside(path, inbox):
            raise UsageError(f"{option} {path}: nằm trong hộp thư {inbox}; hộp thư không bao giờ bị ghi vào "
                             f"/ is inside the inbox, which is never written to")
    _jobs(jobs)
    _summary_outputs(output, feedback, export, ledger.parent if ledger else None, render)
    sources = Sources.load(catalog=catalog, choices=choices)
    if year:
        parse_school_year(year)
    due = _date(deadline, "--deadline") if deadline else None
    schools = load_roster(roster, sources.form) if roster else None
    options = _check_options(catalog, choices, key, year)
    with progress_bar(err) as progress:
        res = commands.collect(inbox, output, roster=schools, year=year, deadline=due, ledger_path=ledger, jobs=jobs,
                          options=options, progress=progress, feedback=feedback, export=export,
                          as_of=_date(as_of, "--as-of") if as_of else None, show_info=show_info, pdf=pdf,
                          on_wait=lambda lock: err.print(
                              f"Một lần chạy khác đang dùng sổ theo dõi ({lock}); đang chờ nó xong... "
                              f"/ another collect holds this ledger; waiting", markup=False),
                          render=render, document_text=document_text)
    print_result(out, res)
    if render is not None:
        rendered = getattr(res, "rendered", None)
        if rendered is None:  # an unchanged inbox: the documents of the last run stand
            out.print(f"Văn bản kế hoạch: hộp thư không đổi, giữ các văn bản đã tạo trong {render}", markup=False)
        else:
            pdfs = sum(1 for w in rendered if w.pdf)
            same = sum(1 for w in rendered if w.unchanged)
            out.print(f"Văn bản kế hoạch: {len(rendered)} tệp .docx" + (f" và {pdfs} tệp PDF" if pdfs else "")
                      + f" trong {render} (kế hoạch được nhận của mỗi trường"
                      + (f"; {same} không đổi, giữ nguyên" if same else "") + ")", markup=False)
    if res.advice:  # most files fail the same template check: the option is likely wrong
        raise typer.Exit(1)


@app.command("render")
@friendly
def render_cmd(
    plan: Annotated[Path, typer.Argument(help="Tệp kế hoạch đã điền (mẫu .xlsx) / a filled plan.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Tệp văn bản .docx; bản cũ được giữ lại với tên có thời điểm.")],
    pdf: Annotated[bool, typer.Option("--pdf", help="In thêm ra PDF cạnh tệp .docx (cần LibreOffice) / also a PDF.")] = False,
    document_text: DocumentTextOpt = None,
    year: Annotated[Optional[str], typer.Option("--year", help="Năm học mong đợi, ví dụ 2025-2026.")] = None,
    key: CheckKeyOpt = None,
    catalog: CatalogOpt = None,
    choices: ChoicesOpt = None,
) -> None:
    """Tạo văn bản Kế hoạch cải tiến chất lượng giáo dục (Word, A4, để in, ký) từ mẫu đã điền.
    Write the official plan document (.docx, optionally PDF) from a filled template.
    Exit 1 when the plan has errors (the document is still written), 2 when the file is not a readable plan."""
    if not plan.is_file():
        raise UsageError(f"{plan}: không có tệp này / no such file")
    if output.suffix.lower() != ".docx":
        raise UsageError(f"{output}: tên tệp cần đuôi .docx / output must end in .docx")
    if year:
        parse_school_year(year)
    check_writable_dir(output.parent)
    options = _check_options(catalog, choices, key, year)
    res = commands.render(plan, output, pdf=pdf, options=options, document_text=document_text)
    w = res.written
    made = f"{w.docx}" + (f" và {w.pdf}" if w.pdf else "")
    kept = f" (bản trước: {', '.join(b.name for b in w.backups)})" if w.backups else ""
    out.print(f"Đã tạo {made}{kept} / wrote the document", markup=False)
    if res.errors:
        err.print(f"{plan}: kế hoạch còn {res.errors} lỗi; văn bản vẫn được tạo, cần sửa trước khi ký "
                  f"(xem `kcl-xlsx check {plan}`) / the plan has errors: fix them before signing", markup=False)
        raise typer.Exit(1)


@app.command("import")
@friendly
def import_cmd(
    plan: Annotated[Path, typer.Argument(help="Kế hoạch viết bằng Word (.docx, .doc, .odt) / a plan written in Word.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Mẫu .xlsx của trường, điền sẵn từ văn bản (không ghi đè tệp có sẵn).")],
    roster: Annotated[Optional[str], typer.Option("--roster", help="Danh sách trường: mã trường, tên và cấp học theo danh sách.")] = None,
    year: Annotated[Optional[str], typer.Option("--year", help="Năm học, khi văn bản không ghi (ví dụ 2025-2026).")] = None,
    level: Annotated[Optional[str], typer.Option("--level", help="Cấp học, khi văn bản không cho biết. " + LEVELS_HELP)] = None,
    key: CheckKeyOpt = None,
    catalog: CatalogOpt = None,
    choices: ChoicesOpt = None,
) -> None:
    """Chuyển kế hoạch viết bằng Word thành mẫu Excel của trường (điền sẵn, đánh dấu chỗ cần sửa).
    Carry a Word plan into the school's template, pre-filled, its problems marked.
    Exit 1 when the template still has errors to fix (it is written), 2 when the file cannot be imported."""
    if not plan.is_file():
        raise UsageError(f"{plan}: không có tệp này / no such file")
    sources = Sources.load(catalog=catalog, choices=choices)
    if year:
        parse_school_year(year)
    if level:
        sources.form.level(level)
    check_writable_dir(output.parent)
    schools = load_roster(roster, sources.form) if roster else None
    options = _check_options(catalog, choices, key, year, level)
    res = commands.import_plan(plan, output, options=options, roster=schools)
    school = f"{res.school.code} {res.school.name}".strip()
    level_label = sources.form.level(res.template.level).label if res.template.level else "?"
    out.print(f"Đã tạo {res.out}: mẫu của {school or 'trường'} ({level_label}, năm học {res.template.year}), "
              f"{res.rows} dòng từ {plan.name} / wrote the pre-filled template", markup=False)
    if res.left_out:
        err.print(f"{plan}: {res.left_out} dòng cuối không vừa mẫu ({res.rows} dòng), chưa được chép: gộp bớt công việc rồi nhập tiếp / "
                  f"{res.left_out} rows did not fit the template", markup=False)
    if res.template.errors or res.left_out:
        err.print(f"{res.out}: còn {res.template.errors} lỗi cần trường sửa (ô tô đỏ, trang Kết quả kiểm tra) / "
                  f"{res.template.errors} errors for the school to fix", markup=False)
        raise typer.Exit(1)


@app.command()
@friendly
def demo(
    folder: Annotated[Path, typer.Argument(help="Thư mục trống để ghi ví dụ / an empty folder.")],
    jobs: Annotated[Optional[int], typer.Option("--jobs", help="Số tiến trình song song.")] = None,
) -> None:
    """Chạy thử toàn bộ quy trình trên dữ liệu mẫu. Run the whole flow on the built-in sample:
    templates, filled plans, collect, summary, feedback, exports."""
    from kcl_xlsx.collect.view import print_result
    from kcl_xlsx.demo import run_demo

    res = run_demo(folder, jobs)
    print_result(out, res)
    out.print(f"Xem: {folder}/1-mau-gui-truong (mẫu), {folder}/2-hop-thu (tệp trường gửi), "
              f"{folder}/tong-hop.xlsx (tổng hợp), {folder}/3-phan-hoi (phản hồi), "
              f"{folder}/4-xuat-du-lieu (CSV/Parquet), {folder}/5-van-ban (văn bản kế hoạch .docx)", markup=False)


@app.command()
@friendly
def reissue(
    source: Annotated[Path, typer.Argument(help="Sổ theo dõi (kcl-ledger.sqlite) hoặc thư mục hộp thư năm trước.")],
    year: Annotated[str, typer.Option("--year", help="Năm học mới, ví dụ 2026-2027.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Thư mục ghi các mẫu mới.")],
    roster: Annotated[Optional[str], typer.Option("--roster", help="Danh sách trường năm mới (mặc định: các trường năm trước).")] = None,
    mapping: Annotated[Optional[Path], typer.Option("--mapping", help="CSV mã tiêu chí cũ,mã mới khi đổi khung tiêu chí.")] = None,
    catalog: CatalogOpt = None,
    choices: ChoicesOpt = None,
    framework: FrameworkOpt = None,
    key: SignKeyOpt = None,
    issue_date: IssueDateOpt = None,
) -> None:
    """Phát hành mẫu năm học mới, chuyển tiếp các công việc chưa hoàn thành.
    Next year's templates with each school's unfinished actions carried over."""
    from kcl_xlsx.issue.issuing import TemplateFactory
    from kcl_xlsx.issue.reissue import load_mapping, reissue as run_reissue

    sources = Sources.load(catalog=catalog, choices=choices)
    parse_school_year(year)
    factory = TemplateFactory(sources, year, framework, office_key(key), _date(issue_date, "--issue-date"))
    schools = load_roster(roster, sources.form) if roster else None
    res = run_reissue(source, year, output, factory, schools, load_mapping(mapping),
                      CheckOptions(key=office_key(key)))
    carried = sum(len(s.carried) for s in res.schools)
    out.print(f"Đã tạo {len(res.issued)} mẫu năm học {year} trong {output}; chuyển tiếp {carried} công việc "
              f"chưa hoàn thành. Báo cáo: {res.report}", markup=False)
    unmapped = sorted({c for s in res.schools for c in s.unmapped})
    if unmapped:
        out.print(f"Tiêu chí không còn trong khung mới (cần ánh xạ --mapping): {', '.join(unmapped)}", markup=False)
    if res.left:
        out.print("Trường có kế hoạch năm trước nhưng không còn trong danh sách: "
                  + ", ".join(f"{s.school.code} {s.school.name}" for s in res.left), markup=False)
    # every school is accounted for: a template with nothing carried, or none at all, says why
    by_note: dict[str, list[str]] = {}
    for s in res.blank + res.not_issued:
        by_note.setdefault(s.note, []).append(f"{s.school.code} {s.school.name}".strip())
    for note, names in by_note.items():
        out.print(f"{note[:1].upper()}{note[1:]} ({len(names)}): {name_list(names)}", markup=False)


@app.command()
@friendly
def rollup(
    inputs: Annotated[list[Path], typer.Argument(help="Các bảng tổng hợp .xlsx của các phòng, hoặc thư mục xuất dữ liệu (--export) của họ; chỉ được đọc.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Tệp tổng hợp chung .xlsx; bản cũ được giữ lại với tên có thời điểm.")] = Path("tong-hop-chung.xlsx"),
    export: Annotated[Optional[Path], typer.Option("--export", help="Thư mục xuất CSV (UTF-8 BOM) và Parquet của bảng chung.")] = None,
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Ngày xét tiến độ YYYY-MM-DD (mặc định hôm nay).")] = None,
    choices: ChoicesOpt = None,
    show_info: ShowInfoOpt = False,
    pdf: PdfOpt = False,
) -> None:
    """Tổng hợp nhiều đơn vị (ví dụ Sở tổng hợp các Phòng), nhóm theo đơn vị.
    Roll several offices' summaries (or exports) up into one summary, grouped by unit."""
    from kcl_xlsx.summary.rollup import rollup as run_rollup

    _summary_outputs(output, export)
    for given in inputs:
        if given.exists() and given.resolve() in (output.resolve(), (export or output).resolve()):
            raise UsageError(f"{given}: vừa là đầu vào vừa là đầu ra / is both an input and the output")
        if export is not None and given.is_dir() and _inside(export, given):
            raise UsageError(f"--export {export}: nằm trong đầu vào {given}, không bao giờ bị ghi vào "
                             f"/ is inside an input, which is never written to")
    if choices:
        Sources.load(choices=choices)  # a bad file stops here, in one line
    res = run_rollup(list(inputs), output, export=export, as_of=_date(as_of, "--as-of") if as_of else None,
                     choices=str(choices) if choices else None, show_info=show_info, pdf=pdf)
    t = res.tables
    out.print(f"Đã tổng hợp {len(res.offices)} đơn vị: {len(t.schools)} trường, {len(t.rows)} công việc.", markup=False)
    out.print(f"Bảng tổng hợp chung: {output}" + (f" (bản trước: {res.backup.name})" if res.backup else ""),
              markup=False)
    duplicates = int((t.issues["code"] == "rollup.duplicate_school").sum())
    if duplicates:
        out.print(f"Trường có mặt ở nhiều đơn vị (chỉ tính một lần, xem trang Lỗi): {duplicates}", markup=False)
    if res.exported:
        out.print(f"Xuất dữ liệu: {len(res.exported)} tệp trong {res.exported[0].parent}", markup=False)
    if res.pdf:
        out.print(f"Bản PDF: {res.pdf}", markup=False)


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


def _summary_outputs(workbook: Path, *folders: Path | None) -> None:
    """Refuse before any work (not after minutes of checking) a summary name that cannot be
    one, and output folders that cannot be written: a file standing where a folder is
    needed, no permission."""
    if workbook.suffix.lower() != ".xlsx":
        raise UsageError(f"{workbook}: tệp tổng hợp cần đuôi .xlsx / output must end in .xlsx")
    if workbook.is_dir():
        raise UsageError(f"{workbook}: là một thư mục, cần tên tệp .xlsx / is a folder, not a file name")
    for folder in (workbook.parent, *folders):
        if folder is not None:
            check_writable_dir(folder)


def _jobs(jobs: Optional[int]) -> None:
    if jobs is not None and jobs < 1:
        raise UsageError(f"--jobs {jobs}: cần ít nhất 1 / must be at least 1")


def _write_utf8(text: str) -> None:
    """Machine-readable output is UTF-8 whatever the console's code page (a Windows
    console redirected to a file would otherwise fail on the first Vietnamese letter)."""
    stream = getattr(sys.stdout, "buffer", None)
    if stream is None:  # a text-only stdout (e.g. a test runner's capture)
        sys.stdout.write(text)
        return
    sys.stdout.flush()
    stream.write(text.encode("utf-8"))
    stream.flush()


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
