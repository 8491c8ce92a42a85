"""Registers the issue codes of ``workbook_templates/data/issues.yaml`` (imported by the
package itself, so a worker process has them too).  The plan rules' codes are registered
from form.yaml by :mod:`plan_spec`."""
from __future__ import annotations

from macros_free_validation.report import define_code
from workbook_templates.issues import load_issue_codes

for _text in load_issue_codes():
    define_code(_text.code, _text.severity, _text.message, _text.hint)
