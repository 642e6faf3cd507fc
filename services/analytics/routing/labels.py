"""The routing labels and where each sits in the reference category tree.

The classifier predicts the seven top-level labels of the 问政 board it was trained on. Each is
written out here against its code in `shared.reference.categories` (checked at import), so a
finer model (second or third level) can later return deeper codes through the same mapping
without the callers changing.
"""

from __future__ import annotations

from shared.reference import categories

# Label as the training data spells it → our category code. Written out, not matched by
# name at run time: a renamed node must fail loudly here rather than route silently elsewhere.
LABEL_TO_CATEGORY: dict[str, str] = {
    "城乡建设": "C01",
    "劳动和社会保障": "C02",
    "教育文体": "C03",
    "商贸旅游": "C04",
    "环境保护": "C05",
    "卫生计生": "C06",
    "交通运输": "C07",
}

LABELS: tuple[str, ...] = tuple(LABEL_TO_CATEGORY)


def category_code(label: str) -> str | None:
    """The category code for a predicted label: a known top-level label, else any label the
    reference tree recognises (a deeper model's "城乡建设/物业管理"), else None."""
    if label in LABEL_TO_CATEGORY:
        return LABEL_TO_CATEGORY[label]
    node = categories.match_label(label) if label else None
    return node.code if node is not None else None


def _check() -> None:
    for label, code in LABEL_TO_CATEGORY.items():
        node = categories.get(code)
        if node is None:
            raise ValueError(f"routing label {label!r}: unknown category code {code}")


_check()
