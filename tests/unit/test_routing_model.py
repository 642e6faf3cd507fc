"""The routing model on the built-in invented examples: it trains, predicts sensible labels on
new invented messages, gives confidences in 0–1, and its fast scorer is the pipeline's maths."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from services.analytics.routing import features, service, train
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


def test_scores_are_one_linear_model(model: RouterModel) -> None:
    """The SVM + NBSVM sum is a single linear scorer: what the fast scorer relies on."""
    texts = list(NEW.values())
    feats = model.pipeline.named_steps["features"].transform(texts)
    clf = model.pipeline.named_steps["clf"].calibrated_classifiers_[0].estimator
    expected = feats @ clf.coef_.T + clf.intercept_
    assert np.allclose(clf.decision_function(feats), expected)
    assert list(clf.predict(feats)) == list(clf.classes_[np.asarray(expected).argmax(axis=1)])


def test_long_messages_are_read_through_a_bounded_window() -> None:
    long_text = "小区物业乱收费。" * 2000 + "请交通局整治公交车甩站。"
    norm = features.normalize(long_text)
    assert len(norm) <= sum(features.RAW_WINDOW) + 1
    assert norm.endswith("请交通局整治公交车甩站。")  # the tail is read, not only the head
    words = features.words_of_normalized(norm)
    assert sum(len(w) for w in words) <= sum(features.WORD_WINDOW)
    grams = features.char_ngrams_of_normalized(norm)
    assert len(grams) <= 3 * (sum(features.CHAR_WINDOW) + 1)
    assert features.window("公交车经常甩站", 3, 2) == "公交车 甩站"
    assert features.window("公交车甩站", 10, 5) == "公交车甩站"


def test_near_duplicates_are_grouped_and_folds_keep_groups_whole() -> None:
    texts = [t for label in LABELS for t in EXAMPLES[label][:10]]
    labels = [label for label in LABELS for _ in range(10)]
    # Lightly edited copies of three messages: another salutation, one phrase changed.
    texts += [
        "尊敬的领导：您好！" + EXAMPLES["交通运输"][0],
        EXAMPLES["城乡建设"][1].replace("请城管部门", "恳请城管部门"),
        EXAMPLES["环境保护"][2] + "谢谢！",
    ]
    labels += ["交通运输", "城乡建设", "环境保护"]
    groups = train.near_duplicate_groups(texts)
    first = {t: i for i, t in enumerate(texts)}
    for copy, original in (
        (len(texts) - 3, first[EXAMPLES["交通运输"][0]]),
        (len(texts) - 2, first[EXAMPLES["城乡建设"][1]]),
        (len(texts) - 1, first[EXAMPLES["环境保护"][2]]),
    ):
        assert groups[copy] == groups[original]
    assert train.grouped_count(groups) == (6, 3)  # the invented messages differ from each other
    for tr, te in train.fold_indices(labels, folds=5, groups=groups):
        assert not set(groups[tr]) & set(groups[te])


def test_a_model_saved_before_the_windows_is_served_by_the_pipeline() -> None:
    """A model of the previous design (scikit-learn's own char analyzer) keeps routing, through
    scikit-learn's path: the fast scorer's tokens would not be its tokens."""
    from services.analytics.routing.model import ModelInfo, pipeline

    pipe = pipeline(min_df=1)
    pipe.named_steps["features"].transformer_list[1][1].set_params(
        analyzer="char", ngram_range=(1, 3), preprocessor=features.normalize
    )
    data = train.fallback_dataset()
    pipe.fit(np.asarray(data.texts, dtype=object), np.asarray(data.labels))
    info = ModelInfo("old", "", data.source, data.sha256, len(data.texts), list(pipe.classes_))
    old = RouterModel(pipeline=pipe, info=info)
    assert old.fast() is None
    label, confidence = old.predict([NEW["交通运输"]])[0]
    assert label in LABELS and 0.0 < confidence <= 1.0


def test_two_labels_train_and_route() -> None:
    """A training file with only two labels still trains (one score, scikit-learn's binary
    convention) and routes through scikit-learn's path."""
    rows = [(t, label) for label in ("交通运输", "环境保护") for t in EXAMPLES[label]]
    data = train.Dataset([t for t, _ in rows], [lab for _, lab in rows], "two", "-")
    two = train.fit(data)
    assert two.fast() is None
    got = two.predict([NEW["交通运输"], NEW["环境保护"]])
    assert [label for label, _ in got] == ["交通运输", "环境保护"]
    assert all(0.5 <= confidence <= 1.0 for _, confidence in got)
