"""The simulated practice's charts: stories as they happen, their blockers and the outside world.

The world knows the truth the people in it do not: when a lab will send a result, which
payer never answers. It adds each clinic day's encounters, raises a coder's query some time
after a note is signed, re-requests what was lost when someone asks again, and says which
charts changed so the simulated EHR rewrites only those.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from chartroute.config.models import PracticeConfig
from chartroute.generate.clinic_time import ClinicClock
from chartroute.generate.planner import StoryPlanner
from chartroute.generate.profile import GeneratorProfile
from chartroute.generate.timeline import EncounterStory
from chartroute.route import role_for
from chartroute.simulate.items import SimItem, coding_query_item, story_items
from chartroute.vocabulary import NOTE_SUBJECT, Category

ItemMap = dict[tuple[str, str], SimItem]


@dataclass(slots=True)
class Chart:
    """One encounter in the simulation: its story, its blockers, whether it can change still."""

    story: EncounterStory
    items: ItemMap = field(default_factory=dict)
    settled: bool = False

    @property
    def key(self) -> str:
        return f"Encounter/{self.story.id}"

    def open_items(self, by: datetime) -> list[SimItem]:
        """Blockers that exist by ``by`` and are not done."""
        return [i for i in self.items.values() if i.done is None and i.appears <= by]

    def closed_at(self) -> datetime | None:
        """When its last blocker was done (its visit end if it never had one); None if open."""
        if any(i.done is None for i in self.items.values()):
            return None
        done = [i.done for i in self.items.values() if i.done is not None]
        return max(done) if done else self.story.end


class World:
    """Every chart of the simulated practice and the outside world's timing."""

    def __init__(
        self, profile: GeneratorProfile, config: PracticeConfig, delinquent: timedelta | None
    ) -> None:
        self.profile = profile
        self.config = config
        self.delinquent = delinquent
        self.clock = ClinicClock(profile.tz, profile.clinic_open_hour, profile.clinic_close_hour)
        self.planner = StoryPlanner(profile, self.clock)
        self.days = profile.clinic_days()
        self.charts: dict[str, Chart] = {}
        self._schedule = iter(self.planner.schedule(self.days, self.clock.at(self.days[-1], 23)))
        self._next_slot = next(self._schedule, None)

    def open_day(self, day: date) -> list[Chart]:
        """Add the encounters of clinic day ``day`` with every blocker their stories give."""
        added = []
        p = self.profile
        while self._next_slot is not None and self._next_slot.day <= day:
            story = self.planner.story(self._next_slot)
            self._next_slot = next(self._schedule, None)
            chart = Chart(story)
            for item in story_items(
                story,
                self.config.documentation,
                self.config.routing,
                p.clinic_close_hour,
                (p.lab_result_mean_days, p.imaging_result_mean_days),
                p.prior_auth_response_mean_days,
                self.delinquent,
            ):
                chart.items[(item.category, item.subject)] = item
            if (
                Category.UNSIGNED_NOTE,
                NOTE_SUBJECT,
            ) not in chart.items and story.note.signed is not None:
                self._raise_query(chart, story.note.signed)  # signed in clinic: query as told
            self.charts[chart.key] = chart
            added.append(chart)
        return added

    def chart_of(self, item: SimItem) -> Chart:
        return self.charts[item.encounter]

    def open_items(self, by: datetime) -> list[SimItem]:
        """Every blocker that exists by ``by`` and is not done, in chart order."""
        out: list[SimItem] = []
        for chart in self.charts.values():
            if not chart.settled:
                out.extend(chart.open_items(by))
        return out

    def note_signed(self, item: SimItem) -> SimItem | None:
        """A note was signed: the coder may raise a query on it later (the story says when)."""
        if item.done is None:
            return None
        return self._raise_query(self.chart_of(item), item.done)

    def _raise_query(self, chart: Chart, signed: datetime) -> SimItem | None:
        role = str(role_for(self.config.routing, Category.CODING_QUERY))
        query = coding_query_item(chart.story, signed, role, self.delinquent)
        if query is None:
            return None
        chart.items[(query.category, query.subject)] = query
        return query

    def ask_again(self, item: SimItem, now: datetime) -> None:
        """Someone asked again for what never came: it arrives after the usual delay from now."""
        token = "\x1f".join((str(self.profile.seed), *item.key, now.isoformat()))
        rng = random.Random(int.from_bytes(hashlib.blake2b(token.encode(), digest_size=8).digest()))
        item.arrives = self.clock.business_delay(now, item.redo_mean_days or 1.0, rng)

    def for_ehr(self, as_of: datetime) -> Iterator[tuple[EncounterStory, ItemMap]]:
        """Charts whose resources may still change, as (story, items); settles the rest.

        A chart settles once every blocker was done before ``as_of`` and a day has passed
        since the visit: its resources were last written with their final content.
        """
        for chart in self.charts.values():
            if chart.settled or chart.story.start > as_of:
                continue
            yield chart.story, chart.items
            done = chart.closed_at()
            if done is not None and done <= as_of and (as_of - chart.story.end).days >= 4:
                chart.settled = True
