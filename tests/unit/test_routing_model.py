"""The routing model on the built-in invented examples: it trains, predicts sensible labels on
new invented messages, gives confidences in 0–1, and its fast scorer is the pipeline's maths."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from services.analytics.routing import service, train
from services.analytics.routing.fallback import EXAMPLES
from services.analytics.routing.labels import LABELS
from services.analytics.routing.model import RouterModel, latest, load

# Invented for this test, none of them in the built-in examples.
NEW = {
    "城乡建设": "物业公司擅自提高物业费，小区电梯坏了也不维修，业委会不作为。",
    "劳动和社会保障": "老板拖欠我们工地工人半年工资，劳动监察大队一直没有处理。",
    "教育文体": "孩子上小学被划到很远的学校，学区划分不合理，请教育局解释。",
    "商贸旅游": "旅行社强制游客购物，导游态度恶劣，景区门票也乱涨价。",
    "环境保护": "化工厂晚上偷偷排放废气，气味刺鼻，附近河水也被污染了。",
    "卫生计生": "医院乱收费，医生态度差，诊所无证行医也没人查处。",
    "交通运输": "公交车经常甩站，出租车拒载绕路，希望运管部门整治。",
}


@pytest.fixture(scope="module")
def model() -> RouterModel:
    return train.fit(train.fallback_dataset())


def test_fallback_covers_every_label_with_enough_examples() -> None:
    assert set(EXAMPLES) == set(LABELS)
    assert all(len(texts) >= 10 for texts in EXAMPLES.values())


def test_fallback_predicts_sensible_labels(model: RouterModel) -> None:
    got = model.predict(list(NEW.values()))
    right = sum(label == want for (label, _), want in zip(got, NEW, strict=True))
    assert right >= 6, got
    assert model.info.classes == sorted(LABELS)
    assert model.info.data_source == train.FALLBACK_SOURCE


def test_confidence_is_a_probability(model: RouterModel) -> None:
    texts = [*NEW.values(), "？？？", "abc", "12345"]
    for label, confidence in model.predict(texts):
        assert label in LABELS
        assert 0.0 <= confidence <= 1.0
    proba = model.predict_proba(texts)
    assert np.allclose(proba.sum(axis=1), 1.0)


def test_blank_text_gets_no_guess(model: RouterModel) -> None:
    assert model.predict(["", "   ", "公交车甩站"])[:2] == [("", 0.0), ("", 0.0)]


def test_fast_scorer_is_the_pipeline(model: RouterModel) -> None:
    texts = [
        *NEW.values(),
        *EXAMPLES["交通运输"][:3],
        "Ｆｕｌｌ－ｗｉｄｔｈ １３８****８０００ 尊敬的领导：您好！",
    ]
    fast = model.fast()
    assert fast is not None
    ours = np.vstack([fast.proba(t) for t in texts])
    theirs = model.pipeline.predict_proba(texts)
    assert np.allclose(ours, theirs, atol=1e-6)


def test_save_load_and_latest(model: RouterModel, tmp_path: Path) -> None:
    assert latest(tmp_path) is None
    path = model.save(tmp_path)
    assert path.name == f"router-{model.info.version}.joblib"
    sidecar = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    assert {"version", "trained_at", "data_sha256", "classes", "cv"} <= set(sidecar)
    older = tmp_path / "router-19990101T000000Z-00000000.joblib"
    model.save_as(older)
    assert latest(tmp_path) == path
    again = load(path)
    assert again.predict(list(NEW.values())) == model.predict(list(NEW.values()))


def test_suggest_returns_label_code_and_confidence(model: RouterModel) -> None:
    service.use_model(model)
    try:
        s = service.suggest(NEW["环境保护"])
        assert (s.label, s.category_code) == ("环境保护", "C05")
        assert 0.0 < s.confidence <= 1.0
        blank = service.suggest("")
        assert (blank.label, blank.category_code, blank.confidence) == ("", None, 0.0)
    finally:
        service.use_model(None)


def test_without_a_saved_model_it_trains_from_the_fallback(tmp_path: Path) -> None:
    from shared.settings import Settings

    service.use_model(None)
    try:
        m = service.get_model(Settings(data_dir=tmp_path))
        assert m.info.data_source == train.FALLBACK_SOURCE
        assert not list(tmp_path.glob("models/*"))  # never saved behind the operator's back
    finally:
        service.use_model(None)
