"""Spec files arrive in composed or decomposed Unicode; labels must come out composed (NFC),
or a label in a dropdown and the same label typed by a school would compare unequal."""
from __future__ import annotations

import unicodedata

from workbook_templates.catalog import load_catalog
from workbook_templates.choices import load_choices


def _texts(catalog):
    for fw in catalog.frameworks:
        for std in fw.standards:
            yield std.label
            for c in std.criteria:
                yield c.label
        for item in fw.top_items:
            yield item.label


def test_builtin_catalog_labels_are_nfc():
    # the shared catalog file itself has decomposed names (e.g. TT18 3.1 "Khuôn viên...")
    labels = list(_texts(load_catalog()))
    assert labels and all(unicodedata.is_normalized("NFC", t) for t in labels)


def test_a_decomposed_catalog_file_gives_composed_labels(tmp_path):
    text = """circulars:
  - id: x
    school_levels: [thcs]
    assessment_levels: [1, 2]
    standards:
      - code: '1'
        name: Tổ chức và quản lý nhà trường
        criteria:
          - {code: '1.1', name: Phương hướng phát triển}
"""
    path = tmp_path / "nfd.yaml"
    path.write_text(unicodedata.normalize("NFD", text), encoding="utf-8")
    fw = load_catalog(path).frameworks[0]
    assert fw.standards[0].label == "Tiêu chuẩn 1 - Tổ chức và quản lý nhà trường"
    assert fw.criteria[0].label == "1.1 - Phương hướng phát triển"


def test_a_decomposed_choices_file_gives_composed_labels(tmp_path):
    from importlib import resources

    raw = (resources.files("workbook_templates") / "data" / "choices.yaml").read_text(encoding="utf-8")
    path = tmp_path / "choices.yaml"
    path.write_text(unicodedata.normalize("NFD", raw), encoding="utf-8")
    choices = load_choices(path)
    assert "Hiệu trưởng" in choices.owners
    assert choices.funding[2].label == "Xã hội hóa"


def test_libyaml_reads_every_spec_file_as_the_python_loader_does():
    """Spec files are read with libyaml's loader (ten times faster at every start): it must
    give the very data PyYAML's own safe loader gives, for every file shipped."""
    from importlib import resources

    import yaml

    from workbook_templates.spec_io import load_yaml

    shipped = [*(resources.files("workbook_templates") / "data").iterdir(), *(resources.files("kcl_xlsx") / "data").iterdir()]
    texts = [p.read_text(encoding="utf-8") for p in shipped if p.name.endswith(".yaml")]
    assert len(texts) >= 8
    for text in texts:
        assert load_yaml(text) == yaml.load(text, Loader=yaml.SafeLoader)
