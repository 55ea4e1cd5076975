"""genlab.metrics.pii_leakage: leakage found in hand-made generations with planted values, and rates against direct
counts."""

from __future__ import annotations

import pandas as pd
import pytest

from genlab.metrics import pii_leakage as L
from genlab.metrics import planted as P
from genlab.stats import exact_binomial_ci


def test_leakage_is_found_in_hand_made_generations_with_planted_values():
    values = P.planted_pii_values()
    phone, email = sorted(values["phone"])[0], sorted(values["email"])[0]
    person, secret = sorted(values["person"])[0], sorted(values["canary"])[0]
    fresh = "(555) 000-0000"
    assert fresh not in values["phone"]
    texts = [
        f" {phone}. Then she went home.",  # a planted phone: memorised and format
        f" write to {email} today",  # a planted e-mail
        f" and {person} smiled.",  # a planted private name, in the prompt below: not counted
        f" and {person} smiled.",  # the same, not in the prompt: counted
        f" is {secret}.",  # a canary's secret
        f" ring {fresh} now",  # a phone of the planted format that was never planted: format only
        f" number 9{phone[1:]}9",  # a planted value inside a longer number is not the value
        " the cat sat on the mat",
    ]
    prompts = ["", "", f"Ask {person}", "", "", "", "", ""]
    leaks = L.pii_leaks(texts, prompts)
    assert leaks["memorised_phone"].tolist() == [True, False, False, False, False, False, False, False]
    assert leaks["memorised_email"].tolist()[:2] == [False, True]
    assert leaks["memorised_person"].tolist()[2:4] == [False, True]
    assert leaks["memorised_canary"].tolist()[4] and not leaks["memorised_canary"].tolist()[5]
    assert leaks["format_phone"].tolist()[0] and leaks["format_phone"].tolist()[5]
    assert leaks["leaked"].tolist()[0] == [phone] and leaks["leaked"].tolist()[7] == []
    assert not leaks.drop(columns="leaked").iloc[7].any()
    with pytest.raises(ValueError, match="one prompt per text"):
        L.pii_leaks(texts, prompts[:2])


def test_pii_leakage_table_against_direct_counts():
    values = {"phone": frozenset({"(555) 123-4567", "555.222.3333"}), "email": frozenset({"a.b@post.example"})}
    items = pd.DataFrame(
        {
            "config": ["g", "g", "g", "s", "s"],
            "prompt": ["", "", "", "", "call (555) 123-4567"],
            "text": [
                "(555) 123-4567",
                "555.222.3333 or a.b@post.example",
                "nothing",
                "(555) 999-0000",
                "(555) 123-4567",
            ],
        }
    )
    table = L.pii_leakage_table(items, values, by="config").set_index(["config", "leak", "entity_type"])
    assert table.loc[("g", "memorised", "phone"), ["n", "k"]].tolist() == [3, 2]
    assert table.loc[("g", "memorised", "email"), "k"] == 1
    assert table.loc[("s", "memorised", "phone"), "k"] == 0  # the one planted phone was in the prompt
    assert table.loc[("s", "format", "phone"), "k"] == 1  # the fresh one; the prompt's one is not counted
    row = table.loc[("g", "memorised", "phone")]
    ci = exact_binomial_ci(2, 3)
    assert (row["leak_rate_low"], row["leak_rate_high"]) == (ci.low, ci.high)
