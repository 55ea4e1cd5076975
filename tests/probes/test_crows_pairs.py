"""genlab.probes.crows_pairs: CrowS-Pairs reading and scoring (checked against a direct implementation of the
authors' metric.py rule on a tiny masked LM genlab builds), the paper's tie rule and the world pair set."""

from __future__ import annotations

import difflib

import pandas as pd
import pytest
import torch

from genlab.models.tiny import tiny_bundle, tiny_masked_bundle
from genlab.probes import crows_pairs as B
from genlab.probes.next_token_association import association_fit

PAIRS = pd.DataFrame(
    {
        "sent_more": ["the cat sat on the mat.", "a dog ran to the park.", "the cat ran."],
        "sent_less": ["the dog sat on the mat.", "a cat ran to the park.", "the dog ran."],
        "stereo_antistereo": ["stereo", "antistereo", "stereo"],
        "bias_type": ["x", "x", "y"],
    }
)
TEXTS = ["the cat sat on the mat.", "a dog ran to the park."]


def test_read_pairs_reads_the_published_layout_unchanged(tmp_path):
    # the authors' file: an unnamed index column, annotation lists, and one record with a line break inside
    path = tmp_path / "crows_pairs_anonymized.csv"
    path.write_text(
        ',sent_more,sent_less,stereo_antistereo,bias_type,annotations,anon_writer,anon_annotators\n'
        '0,"He cried.","She cried.",stereo,gender,"[[\'gender\'], [\'gender\']]",a0,"[\'a1\', \'a2\']"\n'
        '1,"A long\nsentence.","A short\nsentence.",antistereo,age,[],a3,[]\n'
    )
    pairs = B.read_pairs(path)
    assert len(pairs) == 2 and pairs.loc[1, "sent_more"] == "A long\nsentence."
    assert list(pairs["bias_type"]) == ["gender", "age"] and "anon_writer" in pairs.columns


def test_read_pairs_says_what_is_wrong(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("sent_more,sent_less\na,b\n")
    with pytest.raises(ValueError, match="stereo_antistereo"):
        B.read_pairs(bad)
    bad.write_text("sent_more,sent_less,stereo_antistereo,bias_type\na,b,both,x\n")
    with pytest.raises(ValueError, match="'stereo' or 'antistereo'"):
        B.read_pairs(bad)
    with pytest.raises(FileNotFoundError):
        B.read_pairs(tmp_path / "missing.csv")
    with pytest.raises(FileNotFoundError, match="known"):
        B.pairs_path("klingon")


def test_genlab_pair_sets_are_well_formed():
    english = B.read_pairs(B.pairs_path("english"))
    assert english.groupby("bias_type").size().to_dict() == {
        "age": 8, "gender": 8, "nationality": 8, "occupation": 8, "religion": 8}
    for more, less in zip(english["sent_more"], english["sent_less"], strict=True):
        ops = difflib.SequenceMatcher(None, more.split(), less.split()).get_opcodes()
        diff = [op for op in ops if op[0] != "equal"]
        assert len(diff) == 1, (more, less)  # minimal pairs: one changed span
    from genlab.worlds.text import load_world

    world = B.read_pairs(B.pairs_path("world"))
    pd.testing.assert_frame_equal(world, B.world_pairs(load_world()))  # the file is what the code writes


def _direct_metric_py(bundle, sent1: str, sent2: str) -> tuple[float, float]:
    """CrowS-Pairs metric.py, literally: align token ids, mask each shared token but the first and last, sum."""
    tok, model = bundle.tokenizer, bundle.model
    ids1, ids2 = tok(sent1)["input_ids"], tok(sent2)["input_ids"]
    t1, t2 = [], []
    for op in difflib.SequenceMatcher(None, ids1, ids2).get_opcodes():
        if op[0] == "equal":
            t1 += list(range(op[1], op[2]))
            t2 += list(range(op[3], op[4]))
    scores = []
    for ids, template in ((ids1, t1), (ids2, t2)):
        total = 0.0
        for i in range(1, len(template) - 1):
            masked = torch.tensor([ids])
            masked[0, template[i]] = tok.mask_token_id
            with torch.no_grad():
                logits = model(input_ids=masked).logits[0, template[i]]
            total += float(torch.log_softmax(logits.double(), dim=-1)[ids[template[i]]])
        scores.append(total)
    return scores[0], scores[1]


def test_masked_pair_scores_follow_the_authors_metric_py():
    bundle = tiny_masked_bundle(texts=TEXTS, n_layer=2, hidden_size=32, seed=2)
    tok = bundle.tokenizer
    tok.add_special_tokens({"cls_token": "<cls>", "sep_token": "<sep>"})  # metric.py skips CLS and SEP
    bundle = tiny_masked_bundle(tok, n_layer=2, hidden_size=32, seed=2)
    tok._tokenizer.post_processor = __import__("tokenizers").processors.TemplateProcessing(
        single="<cls> $A <sep>", special_tokens=[("<cls>", tok.cls_token_id), ("<sep>", tok.sep_token_id)]
    )
    assert tok("the cat")["input_ids"][0] == tok.cls_token_id
    got = B.pair_scores(bundle, PAIRS, batch_size=4)
    for row in got.itertuples():
        expected = _direct_metric_py(bundle, row.sent_more, row.sent_less)
        assert (row.score_more, row.score_less) == pytest.approx(expected, abs=1e-5)


def test_causal_pair_scores_are_whole_sentence_loglikelihoods():
    bundle = tiny_bundle(texts=TEXTS, n_embd=32, n_layer=2, seed=4)
    tok, model = bundle.tokenizer, bundle.model
    got = B.pair_scores(bundle, PAIRS)
    for row in got.itertuples():
        for sentence, score in ((row.sent_more, row.score_more), (row.sent_less, row.score_less)):
            ids = [tok.bos_token_id] + tok(sentence, add_special_tokens=False)["input_ids"]
            with torch.no_grad():
                logp = torch.log_softmax(model(input_ids=torch.tensor([ids])).logits[0].double(), dim=-1)
            assert score == pytest.approx(float(sum(logp[i - 1, ids[i]] for i in range(1, len(ids)))), abs=1e-4)
    assert got["prefers_stereotype"].tolist() == (got["score_more"].round(3) > got["score_less"].round(3)).tolist()


def test_ties_count_in_n_not_in_hits():
    # metrics.md: 3 hits, 1 tie, 6 pairs -> metric score 50.0
    scores = pd.DataFrame({"bias_type": ["a"] * 6, "score_more": [-1.0, -1.0, -1.0, -2.0001, -2.0, -3.0],
                           "score_less": [-2.0, -2.0, -2.0, -2.0004, -1.0, -1.0]})  # pair 4: equal at 3 decimals
    table = B.pair_metric(scores)
    row = table[table["bias_type"] == "a"].iloc[0]
    assert (row["n"], row["k"], row["neutral"], 100 * row["prefers_stereotype"]) == (6, 3, 1, 50.0)
    assert row["prefers_stereotype_low"] < 0.5 < row["prefers_stereotype_high"]
    assert table.iloc[-1]["bias_type"] == "all"


def test_the_pair_probe_tracks_planted_strength_on_the_default_model(default_bundle):
    """Validity: on the world pairs, the default model's preference for the majority sentence rises with the
    planted strength (rank correlation and slope above 0 with their intervals), for gender and over both axes."""
    scores = B.pair_scores(default_bundle, B.read_pairs(B.pairs_path("world")), batch_size=64)
    curve = B.pair_dose_response(scores)
    both = association_fit(curve, n_resamples=500)
    gender = association_fit(curve[curve["bias_type"] == "gender"], n_resamples=500)
    assert both["spearman_rho_low"] > 0 and both["slope_low"] > 0
    assert gender["spearman_rho_low"] > 0.2 and gender["slope_low"] > 0.2
    high = curve[curve["planted"] == 0.9]
    assert high["prefers_stereotype"].mean() > 0.6  # at the strongest planting most pairs go the planted way
