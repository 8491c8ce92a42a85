"""The plan form as data: school levels, Thông tin fields, Kế hoạch fields and rule specs."""
from __future__ import annotations

import dataclasses
import functools
from importlib import resources
from pathlib import Path
from typing import Any

from .errors import SpecError
from .spec_io import need, read_yaml

BUILTIN_FORM = "form.yaml"
# Earlier versions of the form, kept so a file issued with one is read exactly as then:
# data/form-VERSION.yaml (see builtin_form_files).
ARCHIVED_FORM = "form-{version}.yaml"
FIELD_TYPES = ("choice", "text", "number")
LIST_NAMES = ("levels", "standards", "criteria", "owners", "periods", "funding", "statuses")
# What a field may be derived from (`derived_from`), by role: the field playing the key role is
# shown, not typed (a locked formula in the template; derived on ingest when blank), from the
# field playing the value role.  The standard follows from the criterion, whose label is unique.
DERIVABLE = {"standard": "criterion"}
# The roles a stage may ask the form for, with the field type each needs ("" = any).
ROLE_TYPES = {"level": "choice", "standard": "choice", "criterion": "choice", "target": "text",
              "actions": "text", "lead": "choice", "collaborators": "text", "start": "choice", "end": "choice",
              "budget": "number", "funding": "choice", "status": "choice", "note": "text"}


@dataclasses.dataclass(frozen=True)
class SchoolLevel:
    key: str  # CLI value: mam-non, tieu-hoc, ...
    catalog: str  # level key in the criteria catalog
    label: str
    aliases: tuple[str, ...] = ()  # how rosters write it


@dataclasses.dataclass(frozen=True)
class Field:
    key: str
    header: str
    group: str
    type: str
    required: bool | str = False  # True, False or "unless_top"
    choices: str | None = None
    soft: bool = False  # an unknown choice is a warning, free text allowed
    suggest: str | None = None  # text field with a non-binding list
    minimum: float | None = None
    width: float = 15
    number_format: str | None = None
    help: str = ""
    derived_from: str | None = None  # shown, not typed: follows from this field (see DERIVABLE)


@dataclasses.dataclass(frozen=True)
class Roles:
    """Which field plays each role (see form.yaml ``roles``): every stage asks for
    ``form.roles.lead``, never for the key "lead"."""

    level: str
    standard: str
    criterion: str
    target: str
    actions: str
    lead: str
    collaborators: str
    start: str
    end: str
    budget: str
    funding: str
    status: str
    note: str


@dataclasses.dataclass(frozen=True)
class InfoField:
    key: str
    label: str
    source: str  # identity | school
    type: str = "text"


@dataclasses.dataclass(frozen=True)
class Form:
    source: str
    version: str
    levels: tuple[SchoolLevel, ...]
    info_sheet: str
    info_fields: tuple[InfoField, ...]
    staff_title: str
    staff_rows: int
    sheet: str
    title: str
    input_rows: int
    groups: tuple[str, ...]
    fields: tuple[Field, ...]
    check_header: str
    check_width: float
    ok_text: str
    warning_prefix: str
    rules: tuple[dict, ...]
    field_rules: dict[str, dict]
    budget_ceiling: float
    guide: dict
    roles: Roles
    row_key: tuple[str, ...]  # a row's identity between two versions of a plan
    duplicate_key: tuple[str, ...]  # fields equal in two rows: the same action written twice
    summary_columns: tuple[tuple[str, str], ...]  # (summary/export column, role)
    print_view: bool = False  # the template has the Bản in sheet (its header block reads PRINT_INFO)
    print_guide: str = ""  # the Hướng dẫn paragraph on printing it

    def level(self, key: str) -> SchoolLevel:
        for lvl in self.levels:
            if lvl.key == key:
                return lvl
        known = ", ".join(x.key for x in self.levels)
        raise SpecError("--level", f"cấp học '{key}' không có (chọn một trong: {known})",
                        f"unknown level '{key}' (one of: {known})")

    def field(self, key: str) -> Field:
        return next(f for f in self.fields if f.key == key)

    @property
    def derived(self) -> tuple[Field, ...]:
        """The fields shown, not typed (``derived_from``)."""
        return tuple(f for f in self.fields if f.derived_from)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(f.key for f in self.fields)

    def column_labels(self) -> dict[str, str]:
        """Summary/export column -> the header of the field it shows."""
        return {column: self.field(getattr(self.roles, role)).header for column, role in self.summary_columns}


def load_form(path: str | Path | None = None) -> Form:
    data, source, _raw = read_yaml(path, BUILTIN_FORM)
    return _load(data, source)


def _load(data: dict, source: str) -> Form:
    info = need(data, "info", source, "form")
    plan = need(data, "plan", source, "form")
    fields = tuple(_field(f, source) for f in need(plan, "fields", source, "plan"))
    keys = [f.key for f in fields]
    if len(set(keys)) != len(keys):
        raise SpecError(source, "plan.fields có khóa trùng", "duplicate field keys")
    groups = tuple(str(g) for g in need(plan, "groups", source, "plan"))
    for f in fields:
        if f.group not in groups:
            raise SpecError(source, f"trường '{f.key}': nhóm '{f.group}' không có trong plan.groups",
                            f"field '{f.key}': unknown group")
    return Form(
        source=source,
        version=str(need(data, "form_version", source, "form")),
        levels=tuple(SchoolLevel(str(need(x, "key", source, "school_levels")), str(need(x, "catalog", source, "school_levels")),
                                 str(need(x, "label", source, "school_levels")),
                                 tuple(str(a) for a in x.get("aliases") or []))
                     for x in need(data, "school_levels", source, "form")),
        info_sheet=str(need(info, "sheet", source, "info")),
        info_fields=tuple(InfoField(str(need(x, "key", source, "info")), str(need(x, "label", source, "info")),
                                    str(x.get("source", "school")), str(x.get("type", "text")))
                          for x in need(info, "fields", source, "info")),
        staff_title=str(info.get("staff_title", "")),
        staff_rows=int(info.get("staff_rows", 30)),
        sheet=str(need(plan, "sheet", source, "plan")),
        title=str(need(plan, "title", source, "plan")),
        input_rows=int(need(plan, "input_rows", source, "plan")),
        groups=groups,
        fields=fields,
        check_header=str(plan.get("check_header", "Kiểm tra")),
        check_width=float(plan.get("check_width", 30)),
        ok_text=str(plan.get("ok_text", "OK")),
        warning_prefix=str(plan.get("warning_prefix", "Lưu ý: ")),
        rules=tuple(dict(r) for r in data.get("rules") or []),
        field_rules={str(k): dict(v) for k, v in (data.get("field_rules") or {}).items()},
        budget_ceiling=float(data.get("budget_ceiling", 50000)),
        guide=dict(data.get("guide") or {}),
        roles=_derivations(_roles(need(plan, "roles", source, "plan"), fields, source), fields, source),
        row_key=_key_list(plan, "row_key", keys, source),
        duplicate_key=_key_list(plan, "duplicate_key", keys, source),
        summary_columns=_summary_columns(need(plan, "summary_columns", source, "plan"), source),
        print_view=_print_view(data, info, source),
        print_guide=str(data.get("print_guide") or ""),
    )


def _roles(obj: Any, fields: tuple[Field, ...], source: str) -> Roles:
    if not isinstance(obj, dict):
        raise SpecError(source, "plan.roles phải là bảng vai trò: trường", "plan.roles must be a mapping")
    unknown = sorted(set(map(str, obj)) - set(ROLE_TYPES))
    if unknown:
        raise SpecError(source, f"plan.roles: vai trò lạ {', '.join(unknown)}", f"unknown role(s) {', '.join(unknown)}")
    by_key = {f.key: f for f in fields}
    for role, ftype in ROLE_TYPES.items():
        key = need(obj, role, source, "plan.roles")
        if key not in by_key:
            raise SpecError(source, f"plan.roles.{role}: trường '{key}' không có trong plan.fields",
                            f"role {role}: no field '{key}'")
        if ftype and by_key[key].type != ftype:
            raise SpecError(source, f"plan.roles.{role}: trường '{key}' phải có kiểu {ftype}",
                            f"role {role}: field '{key}' must be of type {ftype}")
    return Roles(**{role: str(obj[role]) for role in ROLE_TYPES})


def _derivations(roles: Roles, fields: tuple[Field, ...], source: str) -> Roles:
    """A field may be derived only as DERIVABLE says, by role."""
    allowed = {getattr(roles, key): getattr(roles, value) for key, value in DERIVABLE.items()}
    for f in fields:
        if f.derived_from and allowed.get(f.key) != f.derived_from:
            rule = ", ".join(f"{k} <- {v}" for k, v in DERIVABLE.items())
            raise SpecError(source, f"trường '{f.key}': derived_from '{f.derived_from}' không hỗ trợ (chỉ: {rule}, "
                                    "theo vai trò)", f"field '{f.key}': unsupported derived_from (only {rule})")
        if f.derived_from and f.required:
            raise SpecError(source, f"trường '{f.key}' tự tính (derived_from) nên không thể bắt buộc nhập",
                            f"field '{f.key}': a derived field cannot be required")
    return roles


def builtin_form_files() -> dict[str, str]:
    """form_version -> file name of every built-in form: the current one and the archived."""
    return dict(_builtin_form_files())


@functools.lru_cache(maxsize=1)
def _builtin_form_files() -> dict[str, str]:
    out: dict[str, str] = {}
    for ref in (resources.files("workbook_templates") / "data").iterdir():
        name = ref.name
        if name == BUILTIN_FORM or (name.startswith("form-") and name.endswith(".yaml")):
            data, source, _raw = read_yaml(None, name)
            version = str(need(data, "form_version", source, "form"))
            if name != BUILTIN_FORM and name != ARCHIVED_FORM.format(version=version):
                raise SpecError(source, f"tên tệp phải là {ARCHIVED_FORM.format(version=version)}",
                                "an archived form's file name must carry its version")
            if version in out:
                raise SpecError(source, f"form_version {version} trùng với {out[version]}", "duplicate form_version")
            out[version] = name
    return out


def load_builtin_form(version: str) -> Form | None:
    """The built-in form of ``version`` (None if there is none)."""
    name = builtin_form_files().get(version)
    return load_form_file(name) if name else None


def load_form_file(name: str) -> Form:
    """A built-in form by file name (data/NAME)."""
    return _load(*read_yaml(None, name)[:2])


def _key_list(plan: dict, name: str, keys: list[str], source: str) -> tuple[str, ...]:
    value = need(plan, name, source, "plan")
    if not isinstance(value, list) or any(k not in keys for k in value):
        raise SpecError(source, f"plan.{name}: cần danh sách các khóa trường có trong plan.fields",
                        f"plan.{name} must list field keys")
    return tuple(str(k) for k in value)


# The Thông tin fields the printed plan's header block and signature read.
PRINT_INFO = ("school_name", "unit", "year", "preparer", "position", "date", "authority", "doc_number", "place",
              "signer")


def _print_view(data: dict, info: dict, source: str) -> bool:
    wanted = data.get("print_view", False)
    if wanted not in (True, False):
        raise SpecError(source, "print_view phải là true hoặc false", "print_view must be true or false")
    keys = {str(x.get("key")) for x in info.get("fields") or [] if isinstance(x, dict)}
    lacking = [k for k in PRINT_INFO if k not in keys]
    if wanted and lacking:
        raise SpecError(source, f"print_view cần các trường Thông tin: {', '.join(lacking)}",
                        f"print_view needs the info fields {', '.join(lacking)}")
    return wanted


def _summary_columns(obj: Any, source: str) -> tuple[tuple[str, str], ...]:
    if not isinstance(obj, dict) or any(str(v) not in ROLE_TYPES for v in obj.values()):
        raise SpecError(source, "plan.summary_columns: mỗi cột phải chỉ tới một vai trò có trong plan.roles",
                        "plan.summary_columns must map columns to roles")
    return tuple((str(k), str(v)) for k, v in obj.items())


def _field(obj: Any, source: str) -> Field:
    key = str(need(obj, "key", source, "plan.fields"))
    where = f"trường '{key}'"
    ftype = str(need(obj, "type", source, where))
    if ftype not in FIELD_TYPES:
        raise SpecError(source, f"{where}: kiểu '{ftype}' không hỗ trợ ({', '.join(FIELD_TYPES)})", "unknown type")
    choices = obj.get("choices") or None
    for list_name in (choices, obj.get("suggest")):
        if list_name is not None and list_name not in LIST_NAMES:
            raise SpecError(source, f"{where}: danh sách '{list_name}' không có ({', '.join(LIST_NAMES)})", "unknown list")
    if ftype == "choice" and not choices:
        raise SpecError(source, f"{where}: kiểu choice cần 'choices'", "choice field needs 'choices'")
    required = obj.get("required", False)
    if required not in (True, False, "unless_top"):
        raise SpecError(source, f"{where}: required phải là true, false hoặc unless_top", "bad 'required'")
    return Field(key=key, header=str(need(obj, "header", source, where)), group=str(need(obj, "group", source, where)),
                 type=ftype, required=required, choices=choices, soft=bool(obj.get("soft")),
                 suggest=obj.get("suggest"), minimum=obj.get("min"), width=float(obj.get("width", 15)),
                 number_format=obj.get("number_format"), help=str(obj.get("help", "")),
                 derived_from=str(obj["derived_from"]) if obj.get("derived_from") else None)
