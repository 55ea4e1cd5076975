"""EDA (Wei & Zou 2019) and CDA (Lu et al. 2018): counts and invariants of the authors' control flow, the word
lists checked against the world's lexicon, hand-worked swaps, and CDA on the real (small) corpus."""

from __future__ import annotations

import random
import re
from collections import Counter
from pathlib import Path

import pytest

from genlab.core.paths import data_dir
from genlab.data.augment import (
    STOP_WORDS,
    WordPair,
    cda_augment,
    counterfactual,
    counterfactual_document,
    eda,
    eda_augment,
    get_only_chars,
    load_cda_pairs,
    load_synonym_groups,
    load_synonyms,
    name_intervention,
    random_deletion,
    random_insertion,
    random_swap,
    starts_noun_phrase,
    synonym_replacement,
)
from genlab.worlds.text_grammar import MOTION_VERBS, PRONOUNS
from genlab.worlds.text_spec import load_lexicon

WORDS = "alpha bravo charlie delta echo foxtrot golf hotel india juliet".split()  # no stop words
SYN = {"alpha": ["zulu"], "echo": ["yankee", "xray"]}
SYN_ALL = {w: [w + "x"] for w in WORDS}  # every word has a synonym, so no insertion gives up


def is_subsequence(short: list, long: list) -> bool:
    it = iter(long)
    return all(x in it for x in short)


# ------------------------------------------------------------------------------------------------
# EDA: the four operations
# ------------------------------------------------------------------------------------------------


def test_get_only_chars_matches_the_authors_cleaner():
    # Hand-worked from code/eda.py: apostrophes dropped, hyphens and other characters to spaces, lowercased.
    assert get_only_chars("The hill-folk's  cart, at 9!") == "the hill folks cart at"
    assert get_only_chars("  Dear Bradan,\n\tYours\u2019") == "dear bradan yours"
    assert get_only_chars("1, 2, 3!") == ""


@pytest.mark.parametrize("seed", range(20))
def test_synonym_replacement_replaces_up_to_n_word_types_everywhere(seed):
    words = ["echo", "alpha", "the", "echo", "golf", "alpha"]
    out = synonym_replacement(words, 1, random.Random(seed), SYN)
    assert len(out) == len(words)
    changed = {w for w, o in zip(words, out, strict=True) if w != o}
    assert len(changed) == 1  # n = 1 and two candidates have synonyms: exactly one type replaced
    (word,) = changed
    new = {o for w, o in zip(words, out, strict=True) if w == word}
    assert len(new) == 1 and new <= set(SYN[word])  # every occurrence, by the same synonym
    both = synonym_replacement(words, 5, random.Random(seed), SYN)
    assert [w for w in both if w in ("alpha", "echo")] == []  # n larger than the candidates: all replaced


def test_synonym_replacement_skips_stop_words_and_keeps_case_and_punctuation():
    assert synonym_replacement(["the", "lamp"], 1, random.Random(0), {"the": ["a"], "lamp": ["lantern"]}) == [
        "the",
        "lantern",
    ]
    assert synonym_replacement(["The", "Big,", "dog."], 1, random.Random(0), {"big": ["huge"]}) == [
        "The",
        "Huge,",
        "dog.",
    ]


@pytest.mark.parametrize("seed", range(20))
def test_random_insertion_adds_n_synonyms_never_at_the_end(seed):
    out = random_insertion(WORDS, 3, random.Random(seed), SYN_ALL)
    assert len(out) == len(WORDS) + 3
    assert out[-1] == WORDS[-1]  # the authors insert at randint(0, len-1): never after the last word
    inserted = Counter(out) - Counter(WORDS)
    assert sum(inserted.values()) == 3 and all(w[:-1] in WORDS and w.endswith("x") for w in inserted)
    assert is_subsequence(WORDS, out)


def test_random_insertion_gives_up_after_nine_misses():
    # The authors' add_word returns at the 10th draw of a word, found or not: with 2 of 10 words having synonyms,
    # an insertion fails with probability 0.8 ** 9 = 0.134 (hand-worked from eda.py).
    failed = sum(random_insertion(WORDS, 1, random.Random(s), SYN) == WORDS for s in range(2000))
    assert abs(failed / 2000 - 0.8**9) < 0.035  # about 4.5 standard errors
    assert random_insertion(["golf", "hotel"], 4, random.Random(0), SYN) == ["golf", "hotel"]


@pytest.mark.parametrize("seed", range(20))
def test_random_swap_is_a_permutation_touching_at_most_2n_positions(seed):
    out = random_swap(WORDS, 2, random.Random(seed))
    assert sorted(out) == sorted(WORDS)
    assert sum(a != b for a, b in zip(WORDS, out, strict=True)) <= 4


def test_random_swap_gives_up_one_time_in_eight_on_two_words():
    # The authors' swap_word returns unchanged once the 4th draw of the second index is made: with two words,
    # only three draws can succeed, each with probability 1/2, so P(no swap) = 1/8 (hand-worked from eda.py).
    unchanged = sum(random_swap(["a", "b"], 1, random.Random(s)) == ["a", "b"] for s in range(4000))
    assert abs(unchanged / 4000 - 1 / 8) < 0.025  # about 5 standard errors
    assert random_swap(["a"], 3, random.Random(0)) == ["a"]


@pytest.mark.parametrize("seed", range(20))
def test_random_deletion_keeps_a_nonempty_subsequence(seed):
    rng = random.Random(seed)
    out = random_deletion(WORDS, 0.5, rng)
    assert out and is_subsequence(out, WORDS)
    assert random_deletion(WORDS, 0.0, rng) == WORDS
    single = random_deletion(WORDS, 1.0, rng)  # everything deleted: one random word survives
    assert len(single) == 1 and single[0] in WORDS
    assert random_deletion(["alone"], 1.0, rng) == ["alone"]


# ------------------------------------------------------------------------------------------------
# EDA: eda() counts
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("num_aug", [1, 3, 4, 9, 16, 30])
def test_eda_returns_num_aug_sentences_then_the_cleaned_original(num_aug):
    out = eda("The old miller carried a heavy sack to the mill!", num_aug=num_aug, seed=num_aug)
    assert len(out) == num_aug + 1
    assert out[-1] == "the old miller carried a heavy sack to the mill"
    assert all(s == get_only_chars(s) for s in out)


def technique(sentence: str) -> str:
    words = sentence.split()
    if len(words) == len(WORDS) + 1:
        return "ri"
    if len(words) < len(WORDS):
        return "rd"
    if any(w.endswith("x") for w in words):
        return "sr"
    assert sorted(words) == sorted(WORDS)
    return "rs"


@pytest.mark.parametrize("seed", range(10))
def test_eda_makes_int_num_aug_over_4_plus_1_per_technique_then_cuts(seed):
    # num_aug = 11: int(11/4)+1 = 3 per technique, a pool of 12, shuffled and cut to 11 -> one technique has 2.
    out = eda(
        " ".join(WORDS), alpha_sr=0.1, alpha_ri=0.1, alpha_rs=0.5, p_rd=0.5, num_aug=11, seed=seed, synonyms=SYN_ALL
    )
    counts = Counter(technique(s) for s in out[:-1])
    assert sorted(counts.values()) == [2, 3, 3, 3] and set(counts) == {"sr", "ri", "rs", "rd"}
    assert out[-1] == " ".join(WORDS)


def test_eda_n_is_max_1_int_alpha_l():
    # l = 10 words, alpha 0.25 -> n = 2 insertions; alpha 0.01 -> still 1.
    for alpha, n in ((0.25, 2), (0.01, 1), (0.39, 3)):
        out = eda(" ".join(WORDS), alpha_ri=alpha, num_aug=20, seed=0, synonyms=SYN_ALL)
        lengths = {len(s.split()) for s in out if len(s.split()) > len(WORDS)}  # only RI makes longer sentences
        assert lengths == {len(WORDS) + n}, alpha


def test_eda_fractional_num_aug_keeps_each_sentence_with_probability_num_aug_over_pool():
    # num_aug = 0.5: a pool of 4, each kept with probability 0.125 -> 0.5 kept on average.
    kept = [len(eda("the old miller slept", num_aug=0.5, seed=s)) - 1 for s in range(1500)]
    assert abs(sum(kept) / len(kept) - 0.5) < 0.1
    assert eda("the old miller slept", num_aug=0, seed=0) == ["the old miller slept"]


def test_eda_is_deterministic_per_seed_and_varies_with_it():
    text = "The old miller carried a heavy sack to the mill and walked slowly home in the evening."
    assert eda(text, seed=3) == eda(text, seed=3)
    assert eda(text, seed=3) != eda(text, seed=4)
    chained = eda_augment([text, text], num_aug=4, seed=5)
    rng = random.Random(5)
    assert chained == eda(text, num_aug=4, seed=rng) + eda(text, num_aug=4, seed=rng)


def test_eda_cased_mode_keeps_case_and_punctuation(small_corpus):
    sentence = "Selela walked slowly to the big barn, and she laughed."
    out = eda(sentence, num_aug=8, seed=0, clean=False)
    assert out[-1] == sentence and len(out) == 9
    assert any("Selela" in s for s in out[:-1]) and all(s == s.strip() for s in out)
    for text in small_corpus.texts("validation")[:5]:
        augmented = eda(text, num_aug=2, seed=1, clean=False)
        assert augmented[-1] == " ".join(text.split())


def test_eda_rejects_bad_input():
    with pytest.raises(ValueError, match="at least one word"):
        eda("123 !!")
    with pytest.raises(ValueError, match="alpha_sr"):
        eda("a cat", alpha_sr=1.5)
    with pytest.raises(ValueError, match="num_aug"):
        eda("a cat", num_aug=2.5)


# ------------------------------------------------------------------------------------------------
# synonyms.json against the world's lexicon
# ------------------------------------------------------------------------------------------------


def lexicon_word_classes() -> dict[str, set[str]]:
    lex = load_lexicon()
    classes: dict[str, set[str]] = {}
    add = lambda word, cls: classes.setdefault(word.lower(), set()).add(cls)  # noqa: E731
    for key in ("adjectives", "colors", "traits", "emotions"):
        for w in lex[key]:
            add(w, "adjective")
    for w in lex["adverbs"]:
        add(w, "adverb")
    for key in ("verbs_intransitive", "verbs_transitive", "verbs_eat", "verbs_animal"):
        for v in lex[key]:
            base, past = v.split("|")
            add(base, "verb_base")
            add(past, "verb_past")
    for w in (*MOTION_VERBS, *lex["speech_verbs"]):
        add(w, "verb_past")
    for key in ("objects", "animals", "rooms", "weather", "goods", "occupations", "relations_kin"):
        for w in lex[key]:
            add(w, "noun")
    for food in lex["foods"]:
        for w in food.split():
            add(w, "noun")
    return classes


def test_synonym_groups_are_clean_single_words_each_in_one_group():
    groups = load_synonym_groups()
    words = [w for cls in groups.values() for g in cls for w in g]
    assert all(re.fullmatch("[a-z]+", w) for w in words)  # survives get_only_chars, SR keeps the word count
    assert [w for w, n in Counter(words).items() if n > 1] == []
    assert all(len(g) >= 2 for cls in groups.values() for g in cls)
    assert not set(words) & STOP_WORDS
    table = load_synonyms()
    assert table["big"] == ("huge", "enormous", "massive", "large") and "big" not in table["big"]


def test_synonym_groups_agree_with_the_lexicon_word_classes():
    classes = lexicon_word_classes()
    for cls, groups in load_synonym_groups().items():
        for group in groups:
            assert any(w in classes for w in group), f"{group} has no word of the world's lexicon"
            for w in group:
                assert classes.get(w, {cls}) == {cls}, f"{w!r} is a {classes[w]} in the lexicon, listed as {cls}"


def test_synonyms_never_touch_planted_attributes_or_cda_words():
    lex = load_lexicon()
    protected = set(lex["traits"]) | set(lex["occupations"]) | set(lex["animals"]) | set(lex["goods"])
    protected |= {w for food in lex["foods"] for w in food.split()}
    pairs = load_cda_pairs()
    protected |= {w for p in pairs.pairs for w in (p.first + " " + p.second).split()}
    protected |= {w for _, a, b in pairs.pronouns for w in (a, b)}
    protected -= STOP_WORDS
    assert set(load_synonyms()) & protected == set()


def test_readme_card_states_the_real_sizes():
    card = (data_dir() / "augment" / "README.md").read_text(encoding="utf-8")
    groups = load_synonym_groups()
    words = [w for cls in groups.values() for g in cls for w in g]
    lexicon = _all_lexicon_words()
    n_lex = sum(w in lexicon for w in words)
    assert f"{sum(map(len, groups.values()))} groups, {len(words)} words ({n_lex} of them occur" in card
    assert f"{len(words) - n_lex} of the words are outside" in card
    for cls, g in groups.items():
        assert re.search(rf"{cls} {len(g)}\b", card), cls
    pairs = load_cda_pairs()
    n_gender = sum(p.axis == "gender" for p in pairs.pairs)
    n_side = len(pairs.words("gender", "she"))
    assert f"gender: {n_gender} noun pairs and {len(pairs.pronouns)} pronoun roles ({n_side} words" in card
    assert f"community: {sum(p.axis == 'community' for p in pairs.pairs)} pairs" in card


def _all_lexicon_words() -> set[str]:
    words: set[str] = set()

    def walk(x):
        if isinstance(x, str):
            words.update(x.replace("|", " ").lower().split())
        elif isinstance(x, dict):
            for v in x.values():
                walk(v)
        else:
            for v in x:
                walk(v)

    walk({k: v for k, v in load_lexicon().items() if not k.startswith("_")})
    return words


# ------------------------------------------------------------------------------------------------
# cda_pairs.json
# ------------------------------------------------------------------------------------------------


def test_pair_list_is_symmetric_and_maps_no_word_twice():
    pairs = load_cda_pairs()
    listed = [w for p in pairs.pairs for w in (p.first, p.second)]
    pronoun_words = {w for _, a, b in pairs.pronouns for w in (a, b)}
    assert [w for w, n in Counter(listed).items() if n > 1] == []
    assert not set(listed) & pronoun_words
    mapping = pairs.mapping()
    for p in pairs.pairs:
        assert mapping[p.first] == p.second and mapping[p.second] == p.first
    for word, target in mapping.items():  # symmetric wherever the way back is unambiguous
        assert mapping.get(target, word) == word or target in pairs.ambiguous()


def test_pronoun_paradigm_matches_the_world_grammar_and_her_his_are_the_only_ambiguities():
    pairs = load_cda_pairs()
    roles = {role: (a, b) for role, a, b in pairs.pronouns}
    for pronoun, (subj, obj, poss) in PRONOUNS.items():
        side = 0 if pronoun == "she" else 1
        assert (roles["subject"][side], roles["object"][side], roles["possessive_determiner"][side]) == (
            subj,
            obj,
            poss,
        )
    assert pairs.ambiguous() == {
        "her": {"object": "him", "possessive_determiner": "his"},
        "his": {"possessive_determiner": "her", "possessive_pronoun": "hers"},
    }
    mapping = pairs.mapping()
    assert {w: mapping[w] for w in ("she", "he", "him", "hers", "herself", "himself")} == {
        "she": "he",
        "he": "she",
        "him": "her",
        "hers": "his",
        "herself": "himself",
        "himself": "herself",
    }
    assert pairs.ambiguous(axes=["community"]) == {} and "she" not in pairs.mapping(axes=["community"])


def test_pair_words_do_not_collide_with_other_world_words():
    lex = load_lexicon()
    allowed = set(lex["relations_kin"]) | {v for c in lex["communities"].values() for v in c.values()}
    pair_words = {p.first for p in load_cda_pairs().pairs} | {p.second for p in load_cda_pairs().pairs}
    assert (pair_words & _all_lexicon_words()) - allowed == set()


def test_pairs_are_ordered_like_the_association_groups():
    pairs = load_cda_pairs()
    assert pairs.group_names("gender") == ("she", "he") and pairs.group_names("community") == ("hill", "river")
    assert WordPair("gender", "sister", "brother") in pairs.pairs
    assert WordPair("community", "hill-folk", "river-folk") in pairs.pairs
    assert {"she", "her", "hers", "herself", "sister", "woman"} <= pairs.words("gender", "she")
    assert "hill-folk" in pairs.words("community", "hill") and "hill-folk" not in pairs.words("community", "river")
    assert pairs.other_group("community", "river") == "hill"
    with pytest.raises(ValueError, match="not on the gender axis"):
        pairs.other_group("gender", "hill")
    with pytest.raises(ValueError, match="unknown axis"):
        pairs.words("age", "old")


# ------------------------------------------------------------------------------------------------
# counterfactual(): hand-worked swaps
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("She gave her sister a lamp.", "He gave his brother a lamp."),
        ("He gave the lamp to her.", "She gave the lamp to him."),
        ("He gave her the lamp.", "She gave him the lamp."),  # "her" before a determiner: an object
        ("She saw her quickly.", "He saw him quickly."),
        ("The lamp is his.", "The lamp is hers."),
        ("The lamp is hers, not his old one.", "The lamp is his, not her old one."),
        ("His aunt washed herself.", "Her uncle washed himself."),
        ("SHE and HIS MOTHER", "HE and HER FATHER"),
        ("She's here, he's there.", "He's here, she's there."),
        ("The hill-folk came from the high hills.", "The river-folk came from the river valleys."),
        ("Hill-born Bradan and The River Valleys", "River-born Bradan and The High Hills"),
        ("the river\nvalleys", "the high hills"),
        ("Selela walked by the river Alder to the hill.", "Selela walked by the river Alder to the hill."),
        ("Others saw the washers, Shelby and Heather.", "Others saw the washers, Shelby and Heather."),
        ("The woman and the men", "The man and the women"),
    ],
)
def test_counterfactual_hand_worked(text, expected):
    assert counterfactual(text) == expected


def test_her_heuristic_reads_the_next_word():
    assert starts_noun_phrase("grandmother") and starts_noun_phrase("crimson") and starts_noun_phrase("lantern")
    assert not starts_noun_phrase(None) and not starts_noun_phrase("The") and not starts_noun_phrase("slowly")
    assert not starts_noun_phrase("laughed")
    # A known failure, documented in the module: "cook" is an occupation noun and a verb; the noun wins.
    assert counterfactual("He saw him cook.") == "She saw her cook."
    assert counterfactual("She saw her cook.") == "He saw his cook."


INVOLUTION_SENTENCES = [  # no her/his/him: every swap is one-to-one
    "She slept, and he laughed at herself and himself.",
    "The woman told the boy that the hill-folk were kind.",
    "Like many river-folk, Bradan came from the river valleys.",
    "HE said: the Queen and the king, the bride and the groom.",
    "Dear friend, the sisters and brothers of the hill-born weaver were proud.",
    "Nothing to swap in this sentence.",
]


@pytest.mark.parametrize("text", INVOLUTION_SENTENCES)
def test_counterfactual_is_an_involution_without_ambiguous_pronouns(text):
    assert counterfactual(counterfactual(text)) == text


def test_counterfactual_round_trips_through_her_where_the_heuristic_is_right():
    for text in ("He gave his aunt a cup.", "She thanked him.", "He gave him the cup.", "The cup is his."):
        assert counterfactual(counterfactual(text)) == text
    assert counterfactual(counterfactual("She saw him cook.")) != "She saw him cook."  # see the heuristic test


def test_counterfactual_axes_and_errors():
    text = "She was one of the hill-folk."
    assert counterfactual(text, axes=["gender"]) == "He was one of the hill-folk."
    assert counterfactual(text, axes=["community"]) == "She was one of the river-folk."
    assert counterfactual(text, axes=[]) == text
    with pytest.raises(ValueError, match="unknown axis"):
        counterfactual(text, axes=["age"])


def test_cda_augment_appends_counterfactuals_in_order():
    texts = ["She slept.", "Nothing here.", "The river-folk sang."]
    assert cda_augment(texts) == texts + ["He slept.", "Nothing here.", "The hill-folk sang."]


def test_custom_pair_file_is_loadable(tmp_path: Path):
    path = tmp_path / "pairs.json"
    path.write_text('{"axes": {"gender": {"groups": ["she", "he"], "pairs": [["queen", "king"]]}}}')
    pairs = load_cda_pairs(path)
    assert counterfactual("The queen and she", pairs=pairs) == "The king and she"
    bad = tmp_path / "bad.json"
    bad.write_text('{"axes": {"age": {"groups": ["old", "young"], "pairs": []}}}')
    with pytest.raises(ValueError, match="unknown axes"):
        load_cda_pairs(bad)


# ------------------------------------------------------------------------------------------------
# CDA on the real corpus
# ------------------------------------------------------------------------------------------------


def _side_patterns(axis: str) -> list[re.Pattern]:
    pairs = load_cda_pairs()
    return [
        re.compile(
            r"(?<![\w-])("
            + "|".join(map(re.escape, sorted(pairs.words(axis, g), key=len, reverse=True)))
            + r")(?![\w-])",
            re.IGNORECASE,
        )
        for g in pairs.group_names(axis)
    ]


SIDE_PATTERNS = {axis: _side_patterns(axis) for axis in ("gender", "community")}


def group_counts(text: str, axis: str) -> tuple[int, int]:
    """Occurrences of each side's words (an independent count: one regex per side, not the swapper's)."""
    first, second = SIDE_PATTERNS[axis]
    return len(first.findall(text)), len(second.findall(text))


def test_cda_is_an_involution_on_the_corpus_and_swaps_every_group_word(small_corpus):
    pairs = load_cda_pairs()
    group_words = {w for axis in ("gender", "community") for g in pairs.group_names(axis) for w in pairs.words(axis, g)}

    def capitalised(text: str) -> list[str]:
        return [w for w in re.findall(r"[A-Z][\w-]*", text) if w.lower() not in group_words]

    for doc in small_corpus.documents():
        swapped = counterfactual(doc.text)
        assert counterfactual(swapped) == doc.text, doc.id  # the grammar writes her/his before nouns only
        for axis in ("gender", "community"):
            a, b = group_counts(doc.text, axis)
            assert group_counts(swapped, axis) == (b, a), (doc.id, axis)
        assert capitalised(doc.text) == capitalised(swapped), doc.id  # names (and other capitalised words) kept


def test_cda_flips_the_community_records_document_by_document(small_corpus):
    # The corpus writes a community word only in the trait sentence it records (associations) and in the insult it
    # records (harmful, with its target): text and records must agree, before CDA with the original records and
    # after CDA with the flipped ones. Labelled spans must still cover their text after the swap.
    pairs = load_cda_pairs()
    n = n_insults = 0
    for doc in small_corpus.documents():
        cf = counterfactual_document(doc)
        for d in (doc, cf):
            hill, river = group_counts(d.text, "community")
            found = {group for group, count in (("hill", hill), ("river", river)) if count}
            recorded = {r["group"] for r in d.associations if r["id"].startswith("community:")}
            assert found == recorded | {s["target"] for s in d.harmful}, d.id
            for field in ("pii", "negatives", "harmful"):
                for span in getattr(d, field):
                    assert d.text[span["start"] : span["end"]] == span["text"], (d.id, field, span)
        assert [s["target"] for s in cf.harmful] == [pairs.other_group("community", s["target"]) for s in doc.harmful]
        n += any(r["id"].startswith("community:") for r in doc.associations)
        n_insults += bool(doc.harmful)
    assert n > 50 and n_insults > 0


def test_cda_flips_the_gender_association_in_the_expected_direction(small_corpus):
    # Documents recording a she-skewed occupation (p_first > 0.5) use more she-words than he-words; their
    # counterfactuals use more he-words; originals + counterfactuals together are balanced exactly.
    world = small_corpus.world
    p_first = {a.id: a.p_first for a in world.associations}
    totals = {"she": Counter(), "he": Counter()}
    for doc in small_corpus.documents():
        skews = {
            "she" if p_first[r["id"]] > 0.5 else "he"
            for r in doc.associations
            if r["id"].startswith("gender:") and p_first[r["id"]] != 0.5
        }
        if len(skews) != 1:
            continue
        cf = counterfactual_document(doc)
        assert [r["group"] for r in cf.associations] == [
            load_cda_pairs().other_group(r["id"].split(":")[0], r["group"]) for r in doc.associations
        ]
        assert cf.facts == doc.facts and cf.canaries == doc.canaries and cf.id == doc.id + "-cf"
        (skew,) = skews
        for name, text in (("orig", doc.text), ("cf", cf.text)):
            she, he = group_counts(text, "gender")
            totals[skew][name + "_she"] += she
            totals[skew][name + "_he"] += he
    share = lambda c, k: c[k + "_she"] / (c[k + "_she"] + c[k + "_he"])  # noqa: E731
    assert share(totals["she"], "orig") > 0.55 and share(totals["she"], "cf") < 0.45
    assert share(totals["he"], "orig") < 0.45 and share(totals["he"], "cf") > 0.55
    both = totals["she"]["orig_she"] + totals["she"]["cf_she"]
    assert both == totals["she"]["orig_he"] + totals["she"]["cf_he"]


def test_name_intervention_swaps_names_within_strata_and_round_trips(small_corpus):
    world = small_corpus.world
    for axis, attr, other in (("gender", "pronoun", "community"), ("community", "community", "pronoun")):
        swap = name_intervention(world, axis, seed=0)
        people = {p.name: p for p in (*world.people, *world.minor_characters)}
        assert swap and all(swap[swap[a]] == a for a in swap)
        for a, b in swap.items():
            assert getattr(people[a], attr) != getattr(people[b], attr)
            assert getattr(people[a], other) == getattr(people[b], other)
            assert (a in {p.name for p in world.people}) == (b in {p.name for p in world.people})
        assert name_intervention(world, axis, seed=0) == swap and name_intervention(world, axis, seed=1) != swap
    swap = name_intervention(world, "gender")
    named = next(d for d in small_corpus.train if any(p.name in d.text and p.name in swap for p in world.people))
    swapped = counterfactual(named.text, names=swap)
    person = next(p.name for p in world.people if p.name in named.text and p.name in swap)
    assert swap[person] in swapped
    for doc in small_corpus.train[:60]:
        assert counterfactual(counterfactual(doc.text, names=swap), names=swap) == doc.text
    with pytest.raises(ValueError, match="unknown axis"):
        name_intervention(world, "age")
