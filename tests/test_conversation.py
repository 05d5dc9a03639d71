"""Follow-up questions with the real model and index: ipqa.conversation, `ipqa ask --previous`, `ipqa chat`."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import jsonschema

from ipqa.conversation import Conversation, ask_in_conversation, resolve


def test_three_turns_with_tell_me_more_and_a_pronoun(engine):
    conv = Conversation()
    first = ask_in_conversation(engine, "How big is South Korea's data trading market?", conv)
    assert "2.8 trillion won" in first.answer and first.to_json().get("searched_for") is None
    conv = conv.add("How big is South Korea's data trading market?", first)

    second = ask_in_conversation(engine, "How fast is it growing?", conv)
    assert second.question == "How fast is it growing?"
    assert "korea" in second.searched_for.lower() and "40%" in second.answer
    conv = conv.add("How fast is it growing?", second)

    r = resolve(engine, "tell me more", conv)
    assert r.depends and r.continue_from and "korea" in r.standalone.lower()
    third = ask_in_conversation(engine, "tell me more", conv, resolved=r)
    assert not third.refused
    given = {c.quote for c in second.citations}
    assert third.citations and not given & {c.quote for c in third.citations}  # something new


def test_a_topic_switch_is_not_rewritten(engine):
    conv = Conversation()
    q = "How does Japan protect trade secrets?"
    conv = conv.add(q, ask_in_conversation(engine, q, conv))
    switch = "What does Singapore require of fintech companies before a full licence?"
    r = resolve(engine, switch, conv)
    assert not r.depends and r.standalone == switch
    ans = ask_in_conversation(engine, switch, conv, resolved=r)
    assert "searched_for" not in ans.to_json() and "6 months" in ans.answer


def test_place_follow_up_keeps_the_existing_rewrite(engine):
    conv = Conversation.of_questions(engine, ["How does Japan protect trade secrets?"])
    assert resolve(engine, "And Korea?", conv).standalone == "How does Korea protect trade secrets?"


def _run(args, env, stdin=None):
    return subprocess.run(
        [sys.executable, "-m", "ipqa.cli", *args],
        input=stdin, capture_output=True, text=True, env={**os.environ, **env}, timeout=300,
    )  # fmt: skip


def test_ask_previous_json_carries_searched_for(index_env, schema):
    p = _run(
        ["ask", "--previous", "How does Japan protect trade secrets?", "And Korea?", "--json"], index_env
    )
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    jsonschema.validate(out, schema)
    assert out["question"] == "And Korea?"
    assert out["searched_for"] == "How does Korea protect trade secrets?"
    assert "Trade Secret Protection Act" in out["answer"]


def test_ask_previous_bad_input_is_one_line(index_env):
    p = _run(["ask", "--previous", "", "And Korea?"], index_env)
    assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1


def test_chat_through_stdin(index_env):
    script = "How does Japan protect trade secrets?\nAnd Korea?\n/new\nAnd Korea?\n"
    p = _run(["chat"], index_env, stdin=script)
    assert p.returncode == 0, p.stderr
    assert "Unfair Competition Prevention Act" in p.stdout
    assert "Searched for: How does Korea protect trade secrets?" in p.stdout
    assert "Trade Secret Protection Act" in p.stdout
    assert "(new conversation)" in p.stdout
    assert p.stdout.count("Searched for:") == 1  # after /new, "And Korea?" has nothing to lean on
