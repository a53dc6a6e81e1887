"""Simulated callers: what they press, how long they wait, how they rate the agent.

The emulator cannot hear prompts, so callers answer Gathers by position:
- before any agent leg (IVR): the 1st Gather gets the language digit, later
  ones a menu key (sometimes a wrong key, silence, or a hang-up);
- after a bridged leg the agent ended (the post-call survey): the 1st, 2nd
  and 3rd Gathers are Q1 "was your problem solved" (1 yes / 2 no), Q2 rating
  (1-5) and Q3 (1 speak to an agent again / 2 finish); further ones get
  silence;
- while waiting in a queue (waitUrl Gathers): silence.

Survey answers depend on the truth: whether the problem was resolved (which
needs the call not to be cut short, grows with the agent's latent quality
and falls with the queue's difficulty), the quality itself, the difficulty,
and being cut short.
"""

from __future__ import annotations

import random

from .scenario import Callers

SURVEY_DROP_PER_QUESTION = 0.05   # a responder hangs up at a later question


def pick(rng: random.Random, dist: dict[str, float]) -> str:
    keys = sorted(dist)
    return rng.choices(keys, weights=[dist[k] for k in keys])[0]


class Caller:
    def __init__(self, rng: random.Random, cfg: Callers, from_number: str):
        self.rng = rng
        self.cfg = cfg
        self.from_number = from_number
        self.language = pick(rng, cfg.language)
        self.menu_key = pick(rng, cfg.menu)
        self.responds_to_survey: bool | None = None

    def ivr_input(self, index: int) -> str | None:
        """Digit for the index-th IVR Gather, None for silence; raises nothing, see `hangs_up_in_ivr`."""
        if index == 0:
            return self.language
        roll = self.rng.random()
        if roll < self.cfg.silence:
            return None
        if roll < self.cfg.silence + self.cfg.wrong_key:
            wrong = [d for d in "0123456789" if d not in self.cfg.menu]
            return self.rng.choice(wrong) if wrong else None
        return self.menu_key

    def hangs_up_in_ivr(self, index: int) -> bool:
        return index >= self.cfg.max_ivr_gathers or self.rng.random() < self.cfg.ivr_hangup

    def patience_s(self) -> float:
        return self.rng.expovariate(1.0 / self.cfg.patience_mean_s)

    def resolve(self, quality: float, cut_short: bool, difficulty: float = 0.0) -> bool:
        """Truth: was the problem solved on this leg."""
        return not cut_short and self.rng.random() < 0.3 + 0.65 * quality - 0.45 * difficulty

    def survey_input(self, index: int, quality: float, resolved: bool, cut_short: bool,
                     difficulty: float = 0.0) -> str | None:
        """Answer to the index-th survey Gather; "hangup" when the caller leaves instead."""
        rng = self.rng
        if index == 0:
            self.responds_to_survey = rng.random() < self.cfg.survey_response_rate
        if not self.responds_to_survey:
            return "hangup"
        if index >= 3:
            return None
        if index > 0 and rng.random() < SURVEY_DROP_PER_QUESTION:
            return "hangup"
        if index == 0:
            return "1" if rng.random() < (0.9 if resolved else 0.12) else "2"
        if index == 1:
            score = (1 + 4 * quality - 2 * difficulty + (0.5 if resolved else -0.8)
                     - (1.0 if cut_short else 0.0))
            return str(min(5, max(1, round(score + rng.gauss(0, 0.6)))))
        return "1" if rng.random() < (0.05 if resolved else 0.5) else "2"

    def reaction_s(self) -> float:
        return self.rng.uniform(0.8, 3.0)
