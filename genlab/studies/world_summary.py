"""Tables and plots of what the world plants, and checks that the corpus plants it at the stated rates.

>>> from genlab.data.world import generate_corpus, small_world
>>> corpus = generate_corpus(n_train_docs=100, n_validation_docs=2, n_test_docs=2, world=small_world())
>>> facts_table(corpus.world).groupby("count").size().to_dict()
{1: 20, 2: 20, 4: 20}
"""

from __future__ import annotations

import pandas as pd

from genlab.data.world_corpus import Corpus
from genlab.data.world_spec import World
from genlab.metrics.stats import exact_binomial_ci


def facts_table(world: World) -> pd.DataFrame:
    """One row per planted fact: subject, relation, object, planned training count, a cloze prompt.

    ``count`` is categorical over the configured counts, so grouping shows every bucket."""
    rows = [{"fact_id": f.id, "subject": f.subject, "relation": f.relation, "object": f.object, "count": f.count,
             "cloze_prompt": f.cloze(0)[0]} for f in world.facts]
    df = pd.DataFrame(rows)
    df["count"] = pd.Categorical(df["count"], categories=sorted(world.config.fact_counts))
    return df


def canaries_table(world: World, corpus: Corpus | None = None) -> pd.DataFrame:
    """One row per canary with its planned count and, given a corpus, the count found in its records and text."""
    rows = []
    for c in world.canaries:
        row = {"canary_id": c.id, "kind": c.kind, "owner": c.owner, "count": c.count, "prefix": c.prefix}
        if corpus is not None:
            row["recorded"] = corpus.canary_counts()[c.id]
            row["in_text"] = sum(c.text in d.text for d in corpus.train)
        rows.append(row)
    return pd.DataFrame(rows)


def association_rates(corpus: Corpus, split: str = "train", confidence: float = 0.95) -> pd.DataFrame:
    """Planned P(first group | attribute) next to the rate observed in ``split``, with an exact interval.

    Observed rates come from the documents' association records, which the grammar writes as it draws
    pronouns and communities; ``tests/test_world.py`` checks that the records match the text.
    """
    first_group = {a.id: a.groups[0] for a in corpus.world.associations}
    tallies: dict[str, list[int]] = {}
    for doc in corpus.split(split):
        for rec in doc.associations:
            a = tallies.setdefault(rec["id"], [0, 0])
            a[0 if rec["group"] == first_group[rec["id"]] else 1] += 1
    rows = []
    for a in corpus.world.associations:
        k, n_other = tallies.get(a.id, [0, 0])
        n = k + n_other
        ci = exact_binomial_ci(k, n, confidence) if n else None
        rows.append({"id": a.id, "axis": a.axis, "attribute": a.attribute, "first_group": a.groups[0],
                     "frequency": a.frequency, "planned": a.p_first, "n": n, "k": k,
                     "observed": k / n if n else float("nan"), "observed_low": ci.low if ci else float("nan"),
                     "observed_high": ci.high if ci else float("nan")})
    return pd.DataFrame(rows)


def corpus_stats(corpus: Corpus) -> pd.DataFrame:
    """Documents, words and word types per split, and the document kinds."""
    rows = []
    for split in ("train", "validation", "test"):
        docs = corpus.split(split)
        words = [w for d in docs for w in d.text.split()]
        rows.append({"split": split, "documents": len(docs), "words": len(words),
                     "word_types": len({w.strip('.,!?"').lower() for w in words}),
                     "stories": sum(d.kind == "story" for d in docs),
                     "descriptions": sum(d.kind == "description" for d in docs),
                     "dialogues": sum(d.kind == "dialogue" for d in docs),
                     "letters": sum(d.kind == "letter" for d in docs)})
    return pd.DataFrame(rows).set_index("split")


def plot_association_rates(rates: pd.DataFrame, axis: str = "gender"):
    """Planned vs observed P(first group | attribute) for one axis, with exact 95% intervals."""
    import plotly.graph_objects as go

    df = rates[rates["axis"] == axis].sort_values("planned")
    first = df["first_group"].iloc[0]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=df["attribute"], y=df["observed"], mode="markers", name="observed in corpus",
                             error_y={"type": "data", "symmetric": False, "array": df["observed_high"] - df["observed"],
                                      "arrayminus": df["observed"] - df["observed_low"]}))
    fig.add_trace(go.Scatter(x=df["attribute"], y=df["planned"], mode="markers", name="planned",
                             marker={"symbol": "line-ew-open", "size": 14}))
    attribute = "occupation" if axis == "gender" else "trait"
    fig.update_layout(title=f"Planted association: P({first} | {attribute}) in the training corpus",
                      xaxis_title=attribute, yaxis_title=f"share of mentions with '{first}'",
                      yaxis_range=[0, 1], template="plotly_white")
    return fig
