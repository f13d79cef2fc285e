"""The readability measure: known sentences give known Flesch-Kincaid grades, offline."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.language import readability


@pytest.mark.fast
def test_short_plain_sentence_has_its_textbook_grade() -> None:
    """6 words, 6 syllables, 1 sentence: 0.39*6 + 11.8*1 - 15.59 = -1.45."""
    figures = readability.measure(["The cat sat on the mat."])
    assert (figures.words, figures.syllables, figures.sentences) == (6, 6, 1)
    assert figures.grade == pytest.approx(-1.45)
    assert figures.sentence_words == 6.0


@pytest.mark.fast
def test_long_sentence_scores_at_high_school_level() -> None:
    """13 words, 24 CMU syllables: 0.39*13 + 11.8*24/13 - 15.59 = 11.26 (pyphen alone said 9.4)."""
    figures = readability.measure(
        ["The Australian platypus is seemingly a hybrid of a mammal and reptilian creature."]
    )
    assert (figures.words, figures.syllables, figures.sentences) == (13, 24, 1)
    assert figures.grade == pytest.approx(0.39 * 13 + 11.8 * 24 / 13 - 15.59)
    assert round(figures.grade, 2) == 11.26


@pytest.mark.fast
@pytest.mark.parametrize(
    ("word", "count"),
    [("area", 3), ("metastasis", 4), ("recurrence", 3), ("radiation", 4), ("therapy", 3),
     ("x-ray", 2), ("non-invasive", 4), ("don’t", 1), ("cat", 1), ("lymph", 1)],
)
def test_syllables_come_from_the_pronouncing_dictionary(word: str, count: int) -> None:
    """Medical words are counted as spoken, where hyphenation alone under-counts them."""
    assert readability.syllables(word) == count


@pytest.mark.fast
def test_unknown_words_fall_back_to_hyphenation() -> None:
    """A word CMU lacks still gets a plausible count instead of failing."""
    assert readability.syllables("antiperspirantish") >= 4


@pytest.mark.fast
def test_sentences_split_at_stops_but_not_after_abbreviations() -> None:
    """"Local." is its own sentence; "Dr." and "e.g." do not end one."""
    assert readability.sentences("Local. This means it is in the breast where it started.") == [
        "Local.", "This means it is in the breast where it started."
    ]
    assert readability.sentences("Dr. Smith saw me, e.g. on Monday. Then I went home!") == [
        "Dr. Smith saw me, e.g. on Monday.", "Then I went home!"
    ]


@pytest.mark.fast
def test_each_list_item_counts_as_a_sentence() -> None:
    """List items without a full stop are still separate sentences, not one run-on."""
    figures = readability.measure(["It can come back in:", "your bones", "your liver", "your brain"])
    assert figures.sentences == 4
    assert figures.words == 11
    assert figures.sentence_words == pytest.approx(11 / 4)


@pytest.mark.fast
def test_empty_text_measures_zero() -> None:
    """No words, no division by zero."""
    assert readability.measure(["", "   "]) == readability.Readability(0.0, 0.0, 0, 0, 0)


@pytest.mark.fast
def test_median_of_grades() -> None:
    """The median the page gate uses."""
    figures = [readability.measure([t]) for t in ("The cat sat.", "A dog ran far away.", "Go now.")]
    assert readability.median_grade(figures) == pytest.approx(sorted(f.grade for f in figures)[1])


@pytest.mark.fast
def test_plain_renditions_read_far_easier_than_the_originals(faq_doc) -> None:
    """The measure tells the FAQ's original wording (grade 10+) from its plain rendition (≤ 8)."""
    full = [readability.measure(s.full_text.split("\n\n")) for s in faq_doc.sections]
    plain = [readability.measure(s.plain_text.split("\n\n")) for s in faq_doc.sections]
    assert readability.median_grade(full) > 9
    assert readability.median_grade(plain) <= 6
    assert all(p.grade < f.grade for p, f in zip(plain, full))


@pytest.mark.fast
def test_sentences_split_in_every_script() -> None:
    """A capital outside Latin-1 ("Điều"), a caseless script and full-width stops all end a sentence;
    a lower-case word after a stop does not."""
    assert readability.sentences("Da có thể đỏ. Điều này sẽ hết.") == ["Da có thể đỏ.", "Điều này sẽ hết."]
    assert readability.sentences("皮肤可能会发红。治疗结束后会好转。") == ["皮肤可能会发红。", "治疗结束后会好转。"]
    assert readability.sentences("اتصل بالعيادة. لا تنتظر.") == ["اتصل بالعيادة.", "لا تنتظر."]
    assert readability.sentences("Позвоните врачу. Не ждите.") == ["Позвоните врачу.", "Не ждите."]
    assert readability.sentences("Take it e.g. with food.") == ["Take it e.g. with food."]


@pytest.mark.fast
def test_chinese_and_vietnamese_are_counted_in_syllables_and_said_so() -> None:
    """Chinese is counted a character at a time and Vietnamese between spaces: both are syllables,
    and the figures say so; English counts words ("thường" is one syllable, not split at "ờ")."""
    zh = readability.measure(["皮肤可能会发红。治疗结束后会好转。"], "zh-CN")
    assert (zh.unit, zh.words, zh.sentences) == ("syllable", 15, 2)
    vi = readability.measure(["Da có thể đỏ. Điều này thường hết sau khi điều trị xong."], "vi")
    assert (vi.unit, vi.words, vi.sentences) == ("syllable", 13, 2)
    en = readability.measure(["Call the clinic today."], "en")
    assert (en.unit, en.words) == ("word", 4)


def test_a_vietnamese_handout_passes_and_a_long_sentence_fails_in_syllables(tmp_path) -> None:
    """The Vietnamese handout's plain sentences (8 and 12 syllables) pass sentence length, measured in
    syllables (it failed at "22 words per sentence": its letters outside Latin-1 split words and its
    sentences did not split at "Điều"); its speaking rate is given in syllables a minute. Negative
    control: a plain answer of one 27-syllable sentence fails the readability rule, in syllables."""
    from pipeline import checks
    from pipeline.engine.build import BuildOptions, build
    from pipeline.checks import html as html_check
    from pipeline.source.reader import parse

    source = Path(__file__).parent / "fixtures" / "cham-soc-da.md"
    doc = parse(source)
    folder = build(source, BuildOptions(out_root=tmp_path / "out", quiet=True))
    reports = {r.format: r for r in checks.run(doc, folder)}
    assert checks.failures(doc, list(reports.values())) == []
    assert "syllables per sentence (max 25)" in _rule(reports["html"], "readability da").detail
    assert "syllables a minute" in reports["audio"].sections["da"].detail
    long = "Da có thể đỏ khô ngứa rát và bong tróc ở vùng được chiếu xạ trong suốt những tuần điều trị cho đến khi kết thúc hẳn."
    changed = tmp_path / "long.md"
    changed.write_text(source.read_text(encoding="utf-8").replace("Da có thể đỏ, khô hoặc ngứa. Điều này thường hết sau khi điều trị xong.", long), encoding="utf-8")
    doc = parse(changed)
    folder = build(changed, BuildOptions(out_root=tmp_path / "out2", quiet=True, formats=("html",)))
    rule = _rule(html_check.check(doc, folder), "readability da")
    assert not rule.ok and "syllables per sentence (max 25)" in rule.detail


def _rule(report, name: str):  # noqa: ANN001, ANN202  (a FormatReport and its Rule)
    """One rule of a format's report, by name."""
    return next(rule for rule in report.rules if rule.name == name)
