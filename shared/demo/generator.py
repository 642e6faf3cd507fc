"""Deterministic generator of realistic demo petitions and 12345 requests.

Owns how demo cases are made: a grievance template (authored in `data/templates.json`) is
picked by weight, its slots are filled from the demo vocabulary and the reference data (a
real district and street of 深圳市, an invented estate or company there, amounts, dates before
the receipt time), and the petitioner gets a name, a mobile number and an ID number with a
correct GB 11643 check character. On top of independent cases the stream carries structure
for screening and analytics to find:

* repeat petitioners (~15 % of cases): a person from earlier in the stream writes again about
  the same matter, later, often through another channel, saying it was raised before;
* hotspots: a few fixed matters (one estate's property dispute, one site's unpaid wages, one
  factory's fumes, one project's night works) that many different people raise within a
  few days of each other;
* collective petitions (5–40 people), anonymous ones (~5 %) and accusations (~3 %, always in
  纪检监察 categories and never repeats).

The ground truth for all of this is in `DemoGenerator.meta`. Same seed, same calls → same
petitions; nothing reads the clock.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

from shared.demo.identity import make_id_number, make_mobile, make_name, random_birth
from shared.demo.vocab import template_data, vocab
from shared.reference import categories, regions

TZ = timezone(timedelta(hours=8), "Asia/Shanghai")
DEFAULT_WINDOW: tuple[datetime, datetime] = (
    datetime(2026, 1, 1, tzinfo=TZ),
    datetime(2026, 7, 1, tzinfo=TZ),
)

CHANNELS: tuple[str, ...] = ("web", "app", "phone", "letter", "visit", "wechat")
SOURCES: tuple[str, ...] = (
    "citizen",
    "hotline",
    "letter",
    "visit",
    "province",
    "mayor_mailbox",
    "digital_city",
    "leader_instruction",
    "assigned_from_above",
    "npc_cppcc",
)
URGENCIES: tuple[str, ...] = ("normal", "urgent", "emergency")

REPEAT_RATE = 0.15
ANONYMOUS_RATE = 0.04  # plus half of the accusations: about 5 % overall
ACCUSATION_RATE = 0.03
PARENT_CODE_RATE = 0.08  # a case classified only to level 2

_SOURCE_WEIGHTS: dict[str, float] = {
    "citizen": 24,
    "hotline": 40,
    "letter": 7,
    "visit": 8,
    "province": 6,
    "mayor_mailbox": 6,
    "digital_city": 3,
    "leader_instruction": 1.5,
    "assigned_from_above": 3,
    "npc_cppcc": 1.5,
}
_ACCUSATION_SOURCES: dict[str, float] = {
    "letter": 35,
    "citizen": 30,
    "province": 15,
    "assigned_from_above": 15,
    "visit": 5,
}
_COLLECTIVE_SOURCES: dict[str, float] = {"visit": 55, "letter": 20, "province": 15, "hotline": 10}
_CHANNELS_BY_SOURCE: dict[str, dict[str, float]] = {
    "citizen": {"web": 35, "app": 35, "wechat": 30},
    "hotline": {"phone": 75, "app": 10, "wechat": 10, "web": 5},
    "letter": {"letter": 1},
    "visit": {"visit": 1},
    "province": {"web": 50, "letter": 30, "visit": 20},
    "mayor_mailbox": {"web": 1},
    "digital_city": {"app": 1},
    "leader_instruction": {"letter": 70, "web": 30},
    "assigned_from_above": {"letter": 60, "web": 40},
    "npc_cppcc": {"letter": 1},
}
_CHANNEL_WORDS: dict[str, str] = {
    "web": "网上信访",
    "app": "手机客户端",
    "phone": "12345热线",
    "letter": "来信",
    "visit": "来访",
    "wechat": "微信公众号",
}
# Birth years by the writer's role (all within 1950–2004).
_BIRTH_YEARS: dict[str, tuple[int, int]] = {
    "elder": (1950, 1963),
    "parent": (1978, 1995),
    "worker": (1966, 2003),
    "veteran": (1952, 1990),
    "teacher": (1972, 1998),
    "boss": (1962, 1990),
    "villager": (1950, 1985),
}
_CN_NUMBERS = ("零", "一", "两", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二")
_FORMATTER = string.Formatter()


@dataclass(frozen=True, slots=True)
class Template:
    key: str
    category: str
    place: str
    who: str
    titles: tuple[str, ...]
    bodies: tuple[str, ...]
    asks: tuple[str, ...] = ()
    weight: float = 1.0
    collective: float = 0.0
    urgent: float = 0.07
    emergency: float = 0.01
    accusation: bool = False
    fixed: Mapping[str, str] = field(default_factory=dict)
    hotspot: bool = False
    center: float = 0.5
    spread_days: float = 7.0
    share: float = 0.0


@dataclass(frozen=True, slots=True)
class PetitionMeta:
    """What the generator knows about a petition it made (ground truth for tests/benchmarks)."""

    index: int
    template: str
    matter_id: str
    repeat_of: int | None
    hotspot: str | None


@dataclass(frozen=True, slots=True)
class _Place:
    district_code: str
    street_code: str
    road: str
    entity: str | None
    extra: str | None = None  # a company's industrial park


@dataclass(slots=True)
class _Matter:
    index: int
    matter_id: str
    template: Template
    slots: dict[str, str]
    category_code: str
    region_code: str
    address: str
    people_count: int
    petitioner: dict[str, str]
    place: _Place
    times: list[datetime]
    channels: list[str]


def _template(
    raw: Mapping[str, Any], *, accusation: bool = False, hotspot: bool = False
) -> Template:
    return Template(
        key=raw["key"],
        category=raw["category"],
        place=raw["place"],
        who=raw["who"],
        titles=tuple(raw["titles"]),
        bodies=tuple(raw["bodies"]),
        asks=tuple(raw.get("asks", ())),
        weight=float(raw.get("weight", 1.0)),
        collective=float(raw.get("collective", 0.0)),
        urgent=float(raw.get("urgent", 0.07)),
        emergency=float(raw.get("emergency", 0.01)),
        accusation=accusation,
        fixed=dict(raw.get("fixed", {})),
        hotspot=hotspot,
        center=float(raw.get("center", 0.5)),
        spread_days=float(raw.get("spread_days", 7.0)),
        share=float(raw.get("share", 0.0)),
    )


def load_templates() -> tuple[tuple[Template, ...], tuple[Template, ...], tuple[Template, ...]]:
    """(ordinary, accusation, hotspot) templates, validated against the reference data."""
    data = template_data()
    ordinary = tuple(_template(t) for t in data["templates"])
    accusations = tuple(_template(t, accusation=True) for t in data["accusations"])
    hotspots = tuple(_template(t, hotspot=True) for t in data["hotspots"])
    problems = validate_templates(ordinary + accusations + hotspots)
    if problems:
        raise ValueError("demo templates: " + "; ".join(problems))
    return ordinary, accusations, hotspots


def template_slots(text: str) -> list[str]:
    return [name for _, name, _, _ in _FORMATTER.parse(text) if name is not None]


def validate_templates(templates: Sequence[Template]) -> list[str]:
    """Every problem found: unknown categories or slots, accusations outside 纪检监察 …"""
    problems: list[str] = []
    known = set(_SLOTS) | _CONTEXT_SLOTS
    keys: set[str] = set()
    discipline = categories.get("C09")
    for t in templates:
        if t.key in keys:
            problems.append(f"{t.key}: duplicate key")
        keys.add(t.key)
        node = categories.get(t.category)
        if node is None or node.level < 2:
            problems.append(f"{t.key}: category {t.category} is not a level-2/3 node")
        elif discipline is not None and t.accusation != categories.is_within(node.code, "C09"):
            problems.append(f"{t.key}: accusations, and only they, belong under 纪检监察")
        if t.place not in _PLACE_KINDS:
            problems.append(f"{t.key}: unknown place kind {t.place}")
        if t.who not in template_data()["openers"]:
            problems.append(f"{t.key}: no openers for {t.who}")
        if not t.titles or not t.bodies:
            problems.append(f"{t.key}: needs titles and bodies")
        for text in (*t.titles, *t.bodies, *t.asks):
            for slot in template_slots(text):
                if slot not in known and slot not in t.fixed:
                    problems.append(f"{t.key}: unknown slot {{{slot}}}")
    return problems


class _Slots(dict[str, str]):
    """Slot values, each drawn the first time a template asks for it and then kept."""

    def __init__(self, gen: DemoGenerator, ctx: _Context, initial: Mapping[str, str]) -> None:
        super().__init__(initial)
        self.gen = gen
        self.ctx = ctx

    def __missing__(self, key: str) -> str:
        factory = _SLOTS.get(key)
        if factory is None:
            raise KeyError(key)
        value = factory(self.gen, self.ctx, self)
        self[key] = value
        return value

    def num(self, key: str) -> int:
        return int(self[key])


@dataclass(slots=True)
class _Context:
    rng: random.Random
    place: _Place
    received_at: datetime
    birth: date | None


# Slots the generator sets itself rather than drawing.
_CONTEXT_SLOTS = {"people", "prev_date", "prev_channel"}
_PLACE_KINDS = {
    "estate",
    "company",
    "site",
    "school",
    "hospital",
    "village",
    "scenic",
    "road",
    "none",
}


def _cn(n: int) -> str:
    return _CN_NUMBERS[n] if 0 <= n < len(_CN_NUMBERS) else str(n)


def _short(street_name: str) -> str:
    return street_name.removesuffix("街道")


def _name_of(code: str) -> str:
    region = regions.get(code)
    if region is None:
        raise KeyError(code)
    return region.name


def _month_phrase(when: date, now: date) -> str:
    if when.year == now.year:
        return f"今年{when.month}月"
    if when.year == now.year - 1:
        return f"去年{when.month}月"
    return f"{when.year}年{when.month}月"


def _date_phrase(when: date, now: date) -> str:
    if when.year == now.year:
        return f"{when.month}月{when.day}日"
    return f"{when.year}年{when.month}月{when.day}日"


def _past(ctx: _Context, min_days: int, max_days: int) -> date:
    return (ctx.received_at - timedelta(days=ctx.rng.randint(min_days, max_days))).date()


SlotFactory = Callable[["DemoGenerator", _Context, _Slots], str]


def _pick_near(ctx: _Context, rows: Sequence[Sequence[str]]) -> Sequence[str]:
    """A row (name, street code, …) in the place's street, else its district, else anywhere."""
    same_street = [r for r in rows if r[1] == ctx.place.street_code]
    same_district = [r for r in rows if r[1][:6] == ctx.place.district_code]
    return ctx.rng.choice(same_street or same_district or list(rows))


def _road(g: DemoGenerator, ctx: _Context, s: _Slots) -> str:
    return ctx.place.road


def _road2(g: DemoGenerator, ctx: _Context, s: _Slots) -> str:
    roads = [r for r in vocab()["roads"][ctx.place.district_code] if r != s["road"]]
    return ctx.rng.choice(roads)


def _since(g: DemoGenerator, ctx: _Context, s: _Slots) -> str:
    if "_since" not in s:
        s["_since"] = _past(ctx, 35, 300).isoformat()
    return _month_phrase(date.fromisoformat(s["_since"]), ctx.received_at.date())


def _date(g: DemoGenerator, ctx: _Context, s: _Slots) -> str:
    if "_date" not in s:
        s["_date"] = _past(ctx, 3, 120).isoformat()
    return _date_phrase(date.fromisoformat(s["_date"]), ctx.received_at.date())


def _months_n(g: DemoGenerator, ctx: _Context, s: _Slots) -> str:
    return str(ctx.rng.randint(2, 8))


def _amount(g: DemoGenerator, ctx: _Context, s: _Slots) -> str:
    return str(s.num("monthly") * s.num("months_n"))


def _fee_new(g: DemoGenerator, ctx: _Context, s: _Slots) -> str:
    return f"{float(s['fee_old']) + ctx.rng.choice((0.6, 0.8, 1.0, 1.2, 1.5)):.1f}"


def _soe(g: DemoGenerator, ctx: _Context, s: _Slots) -> str:
    name, year = ctx.rng.choice(vocab()["soes"])
    s["soe_year"] = year
    return str(name)


def _soe_year(g: DemoGenerator, ctx: _Context, s: _Slots) -> str:
    _ = s["soe"]  # drawing the name sets the year
    return s["soe_year"]


def _enlist_year(g: DemoGenerator, ctx: _Context, s: _Slots) -> str:
    born = ctx.birth.year if ctx.birth else 1975
    return str(born + ctx.rng.randint(17, 20))


def _discharge_year(g: DemoGenerator, ctx: _Context, s: _Slots) -> str:
    year = s.num("enlist_year") + ctx.rng.randint(2, 5)
    return str(min(year, ctx.received_at.year - 1))


def _age(g: DemoGenerator, ctx: _Context, s: _Slots) -> str:
    born = ctx.birth or date(1958, 6, 1)
    today = ctx.received_at.date()
    return str(today.year - born.year - ((today.month, today.day) < (born.month, born.day)))


def _plate(g: DemoGenerator, ctx: _Context, s: _Slots) -> str:
    letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
    tail = "".join(ctx.rng.choice(letters + "0123456789") for _ in range(4))
    return f"粤B{ctx.rng.choice(letters)}{tail}"


def _bus(g: DemoGenerator, ctx: _Context, s: _Slots) -> str:
    prefix = ctx.rng.choice(("M", "M", "B", ""))
    return f"{prefix}{ctx.rng.randint(100 if prefix else 1, 599 if prefix else 399)}路"


def _choice(key: str) -> SlotFactory:
    return lambda g, ctx, s: str(ctx.rng.choice(vocab()[key]))


def _randint(lo: int, hi: int, step: int = 1) -> SlotFactory:
    return lambda g, ctx, s: str(ctx.rng.randrange(lo, hi + 1, step))


def _cn_randint(lo: int, hi: int) -> SlotFactory:
    return lambda g, ctx, s: _cn(ctx.rng.randint(lo, hi))


def _street_suffix(options: Sequence[str]) -> SlotFactory:
    return lambda g, ctx, s: _short(s["street"]) + ctx.rng.choice(options)


def _surname_mou(suffix: str) -> SlotFactory:
    def make(g: DemoGenerator, ctx: _Context, s: _Slots) -> str:
        return make_name(ctx.rng, ctx.rng.random() < 0.7)[0] + suffix

    return make


def _unit(g: DemoGenerator, ctx: _Context, s: _Slots) -> str:
    pattern = ctx.rng.choice(vocab()["units"])
    return str(pattern).format(street=s["street"], district=s["district"])


def _district2(g: DemoGenerator, ctx: _Context, s: _Slots) -> str:
    others = [r.name for r in regions.districts() if r.code != ctx.place.district_code]
    return ctx.rng.choice(others)


def _row_name(key: str) -> SlotFactory:
    return lambda g, ctx, s: str(_pick_near(ctx, vocab()[key])[0])


def _river(g: DemoGenerator, ctx: _Context, s: _Slots) -> str:
    return str(ctx.rng.choice(vocab()["rivers"][ctx.place.district_code]))


_SLOTS: dict[str, SlotFactory] = {
    "district": lambda g, ctx, s: _name_of(ctx.place.district_code),
    "street": lambda g, ctx, s: _name_of(ctx.place.street_code),
    "district2": _district2,
    "road": _road,
    "road2": _road2,
    "no": _randint(1, 399),
    "estate": _row_name("estates"),
    "company": _row_name("companies"),
    "site": _row_name("sites"),
    "school": _row_name("schools"),
    "hospital": _row_name("hospitals"),
    "village": _row_name("villages"),
    "scenic": _row_name("scenic"),
    "river": _river,
    "building": lambda g, ctx, s: f"{ctx.rng.randint(1, 28)}栋",
    "floor": _randint(2, 32),
    "room": lambda g, ctx, s: f"{s['floor']}{ctx.rng.randint(1, 8):02d}室",
    "property": _choice("property_companies"),
    "developer": _choice("developers"),
    "boss": _surname_mou("某"),
    "official": _surname_mou("某某"),
    "post": _choice("posts"),
    "village_post": _choice("village_posts"),
    "unit": _unit,
    "park": _street_suffix(("公园", "文体公园", "休闲广场", "街心公园")),
    "market": _street_suffix(("农贸市场", "综合市场")),
    "clinic": _street_suffix(("社区健康服务中心", "社康中心")),
    "station": _street_suffix(("站",)),
    "kindergarten": _street_suffix(tuple(vocab()["kindergartens"])),
    "restaurant": _choice("restaurants"),
    "gym": _choice("gyms"),
    "beauty": _choice("beauty"),
    "training": _choice("training"),
    "travel": _choice("travel"),
    "carehome": _choice("carehomes"),
    "appliance": _choice("appliances"),
    "illness": _choice("illnesses"),
    "job": _choice("jobs"),
    "trade": _choice("trades"),
    "grade": _choice("grades"),
    "metro": _choice("metro_lines"),
    "bus": _bus,
    "plate": _plate,
    "soe": _soe,
    "soe_year": _soe_year,
    "since": _since,
    "date": _date,
    "months_n": _months_n,
    "months": lambda g, ctx, s: _cn(s.num("months_n")),
    "monthly": _randint(4500, 12000, 100),
    "amount": _amount,
    "tenure": _randint(3, 16),
    "total_wan": _randint(30, 260),
    "workers": _randint(12, 150),
    "victims": _randint(30, 400, 10),
    "deposit": lambda g, ctx, s: str(
        ctx.rng.choice((1980, 2680, 3600, 4800, 6800, 9800, 12800, 16800, 19800))
    ),
    "fee_old": lambda g, ctx, s: f"{ctx.rng.randint(18, 38) / 10:.1f}",
    "fee_new": _fee_new,
    "fee_old_k": _randint(1200, 2600, 100),
    "fee_new_k": lambda g, ctx, s: str(s.num("fee_old_k") + ctx.rng.randrange(300, 901, 100)),
    "elevator_years": _randint(12, 22),
    "year_bought": lambda g, ctx, s: str(ctx.received_at.year - ctx.rng.randint(2, 8)),
    "queue_no": _randint(3000, 90000),
    "family": _cn_randint(3, 5),
    "rent": _randint(1500, 4200, 100),
    "rank": _randint(20, 300),
    "distance": _randint(3, 9),
    "lesson_fee": lambda g, ctx, s: str(ctx.rng.choice((200, 300, 400, 500))),
    "park_fee": _randint(5, 15),
    "tour_fee": lambda g, ctx, s: str(ctx.rng.choice((599, 799, 999, 1280))),
    "subsidy_wan": _randint(20, 300),
    "bill": _randint(18000, 260000, 100),
    "small": _randint(300, 3000, 10),
    "night_hour": lambda g, ctx, s: ctx.rng.choice(("九", "十", "十一")),
    "late_hour": lambda g, ctx, s: ctx.rng.choice(("一", "两", "三")),
    "birth_year": lambda g, ctx, s: str(ctx.received_at.year - ctx.rng.randint(1, 10)),
    "taxi_fee": _randint(80, 160),
    "est_fee": _randint(25, 60),
    "act_fee": lambda g, ctx, s: str(s.num("est_fee") + ctx.rng.randint(30, 90)),
    "fraud": _randint(3000, 300000, 100),
    "loan": _randint(30000, 800000, 1000),
    "mu": _randint(2, 30),
    "dividend": _randint(8000, 40000, 500),
    "elder_age": _randint(80, 96),
    "care_fee": _randint(4500, 12000, 500),
    "disability_level": lambda g, ctx, s: ctx.rng.choice(("一", "二")),
    "enlist_year": _enlist_year,
    "discharge_year": _discharge_year,
    "goods": _randint(1500, 12000, 10),
    "price": _randint(18000, 45000, 500),
    "queue": _randint(60, 180),
    "bribe": _randint(3, 80),
    "low_rent": _randint(5, 12),
    "min_wage": lambda g, ctx, s: ctx.rng.choice(("2360", "2400", "2520")),
    "age": _age,
}

# Slot values that describe the moment of writing; a repeat petition draws them afresh.
_RELATIVE_SLOTS = ("since", "date", "age", "people", "prev_date", "prev_channel")


class DemoGenerator:
    """A seeded stream of demo petitions.

    >>> gen = DemoGenerator(seed=1)
    >>> p = gen.petition()
    >>> sorted(p)[:3]
    ['accusation', 'address', 'anonymous']
    """

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._rng = random.Random(seed)
        self._ordinary, self._accusations, self._hotspots = load_templates()
        self._matters: list[_Matter] = []
        self._used_ids: set[str] = set()
        self._count = 0
        self.meta: list[PetitionMeta] = []

    # -- public ---------------------------------------------------------------------------

    def petition(self, received_between: tuple[datetime, datetime] | None = None) -> dict[str, Any]:
        """One petition as a plain dict, received within `received_between` (start ≤ t < end).

        Naive datetimes are taken as Asia/Shanghai time. `petitioner` is None when the
        petition is anonymous. The generator's own knowledge of the petition (its template,
        matter, repeat and hotspot) is appended to `self.meta`.
        """
        start, end = _window(received_between)
        rng = self._rng
        index = self._count
        self._count += 1
        if rng.random() < REPEAT_RATE:
            repeated = self._repeat(index, start, end)
            if repeated is not None:
                return repeated
        if rng.random() < ACCUSATION_RATE:
            return self._fresh(index, rng.choice(self._accusations), start, end)
        hotspot_share = sum(h.share for h in self._hotspots)
        if rng.random() < hotspot_share:
            spot = rng.choices(self._hotspots, weights=[h.share for h in self._hotspots])[0]
            return self._fresh(index, spot, start, end)
        template = rng.choices(self._ordinary, weights=[t.weight for t in self._ordinary])[0]
        return self._fresh(index, template, start, end)

    def petitions(
        self, count: int, received_between: tuple[datetime, datetime] | None = None
    ) -> list[dict[str, Any]]:
        """`count` petitions in generation order (not sorted by `received_at`)."""
        return [self.petition(received_between) for _ in range(count)]

    # -- making one -----------------------------------------------------------------------

    def _fresh(self, index: int, t: Template, start: datetime, end: datetime) -> dict[str, Any]:
        rng = self._rng
        place = self._place(t)
        accusation = t.accusation
        anonymous = rng.random() < (0.5 if accusation else ANONYMOUS_RATE)
        collective = not accusation and rng.random() < t.collective
        people = rng.randint(5, 40) if collective else 1
        source = self._source(accusation=accusation, collective=collective)
        channel = _weighted(rng, _CHANNELS_BY_SOURCE[source])
        if t.hotspot:
            received = self._hotspot_time(t, start, end, channel)
        else:
            received = self._time(start, end, channel)
        petitioner, birth = (None, None) if anonymous else self._person(t.who, place)
        ctx = _Context(rng, place, received, birth)
        initial = {**t.fixed, "people": str(people)}
        if place.entity is not None:
            initial[t.place] = place.entity
        slots = _Slots(self, ctx, initial)
        title = _fill(rng.choice(t.titles), slots)
        content = self._content(t, slots, channel, collective, repeat_note=None)
        code = t.category
        if rng.random() < PARENT_CODE_RATE and not t.hotspot:
            parent = categories.get(code)
            code = (
                parent.parent_code if parent and parent.level == 3 and parent.parent_code else code
            )
        region_code = place.street_code if rng.random() < 0.6 else place.district_code
        address = self._address(t, place, slots)
        matter_id = f"hotspot:{t.key}" if t.hotspot else f"M{index:05d}"
        if petitioner is not None and not accusation:
            self._matters.append(
                _Matter(
                    index=index,
                    matter_id=matter_id,
                    template=t,
                    slots={k: v for k, v in slots.items() if k not in _RELATIVE_SLOTS},
                    category_code=code,
                    region_code=region_code,
                    address=address,
                    people_count=people,
                    petitioner=petitioner,
                    place=place,
                    times=[received],
                    channels=[channel],
                )
            )
        self.meta.append(PetitionMeta(index, t.key, matter_id, None, t.key if t.hotspot else None))
        return self._record(
            title=title,
            content=content,
            code=code,
            region_code=region_code,
            address=address,
            channel=channel,
            source=source,
            urgency=self._urgency(t),
            people=people,
            petitioner=petitioner,
            accusation=accusation,
            received=received,
        )

    def _repeat(self, index: int, start: datetime, end: datetime) -> dict[str, Any] | None:
        rng = self._rng
        earliest_gap = timedelta(days=1)  # a repeat comes at least a day after the first
        candidates = [m for m in self._matters if m.times[0] + earliest_gap < end - earliest_gap]
        if not candidates:
            return None
        matter = rng.choice(candidates)
        source = "province" if rng.random() < 0.2 else self._source(False, matter.people_count > 1)
        channel = _weighted(rng, _CHANNELS_BY_SOURCE[source])
        lo = max(start, matter.times[0] + earliest_gap)
        received = self._time(lo, end, channel)
        earlier = [i for i, x in enumerate(matter.times) if x < received]
        last = max(earlier, key=lambda i: matter.times[i]) if earlier else 0
        previous, previous_channel = matter.times[last], matter.channels[last]
        matter.times.append(received)
        matter.channels.append(channel)
        t = matter.template
        birth = _birth_from_id(matter.petitioner["id_number"])
        ctx = _Context(rng, matter.place, received, birth)
        slots = _Slots(
            self,
            ctx,
            {
                **matter.slots,
                "people": str(matter.people_count),
                "prev_date": _date_phrase(previous.date(), received.date()),
                "prev_channel": _CHANNEL_WORDS[previous_channel],
            },
        )
        title = _fill(rng.choice(t.titles), slots)
        if rng.random() < 0.4 and len(title) <= 55:
            title = "再次反映：" + title
        note = _fill(rng.choice(template_data()["repeat_notes"]), slots)
        content = self._content(t, slots, channel, matter.people_count > 1, repeat_note=note)
        self.meta.append(
            PetitionMeta(index, t.key, matter.matter_id, matter.index, t.key if t.hotspot else None)
        )
        return self._record(
            title=title,
            content=content,
            code=matter.category_code,
            region_code=matter.region_code,
            address=matter.address,
            channel=channel,
            source=source,
            urgency=self._urgency(t, escalate=0.1),
            people=matter.people_count,
            petitioner=dict(matter.petitioner),
            accusation=False,
            received=received,
        )

    def _record(
        self,
        *,
        title: str,
        content: str,
        code: str,
        region_code: str,
        address: str,
        channel: str,
        source: str,
        urgency: str,
        people: int,
        petitioner: dict[str, str] | None,
        accusation: bool,
        received: datetime,
    ) -> dict[str, Any]:
        node = categories.get(code)
        assert node is not None
        return {
            "title": title[:60],
            "content": content,
            "category_code": code,
            "category_name": node.name,
            "region_code": region_code,
            "address": address,
            "channel": channel,
            "source": source,
            "urgency": urgency,
            "people_count": people,
            "petitioner": dict(petitioner) if petitioner is not None else None,
            "anonymous": petitioner is None,
            "accusation": accusation,
            "received_at": received.astimezone(TZ).isoformat(timespec="seconds"),
        }

    # -- pieces ---------------------------------------------------------------------------

    def _content(
        self,
        t: Template,
        slots: _Slots,
        channel: str,
        collective: bool,
        repeat_note: str | None,
    ) -> str:
        rng = self._rng
        data = template_data()
        greetings = data["greetings"]
        group = channel if channel in greetings else "other"
        if channel == "web" and rng.random() < 0.3:
            group = "mayor_mailbox"
        openers = data["openers"][t.who]["group" if collective else "single"]
        asks = list(t.asks) or data["asks"].get(t.category[:3], []) + data["asks"]["default"]
        parts = [
            rng.choice(greetings[group]),
            rng.choice(openers),
            rng.choice(t.bodies),
            repeat_note or "",
            rng.choice(data["collective_notes"]) if collective and rng.random() < 0.6 else "",
            rng.choice(asks),
            rng.choice(data["closings"]),
        ]
        fillers = list(data["fillers"])
        text = "".join(_fill(p, slots) for p in parts)
        while len(text) < 80 and fillers:
            parts.insert(3, fillers.pop(0))
            text = "".join(_fill(p, slots) for p in parts)
        if len(text) > 600:
            text = "".join(_fill(p, slots) for p in parts[1:3] + parts[-2:-1])
        return text

    def _source(self, accusation: bool, collective: bool) -> str:
        if accusation:
            return _weighted(self._rng, _ACCUSATION_SOURCES)
        if collective and self._rng.random() < 0.8:
            return _weighted(self._rng, _COLLECTIVE_SOURCES)
        return _weighted(self._rng, _SOURCE_WEIGHTS)

    def _urgency(self, t: Template, escalate: float = 0.0) -> str:
        roll = self._rng.random()
        if roll < t.emergency:
            return "emergency"
        if roll < t.emergency + t.urgent + escalate:
            return "urgent"
        return "normal"

    def _place(self, t: Template) -> _Place:
        rng = self._rng
        words = vocab()
        table = {
            "estate": "estates",
            "company": "companies",
            "site": "sites",
            "school": "schools",
            "hospital": "hospitals",
            "village": "villages",
            "scenic": "scenic",
        }.get(t.place)
        if table is not None:
            rows = words[table]
            fixed = t.fixed.get(t.place)
            row = next(r for r in rows if r[0] == fixed) if fixed else rng.choice(rows)
            street = row[1]
            district = street[:6]
            road = row[2] if len(row) > 2 else rng.choice(words["roads"][district])
            extra = row[3] if len(row) > 3 else None
            return _Place(district, street, road, row[0], extra)
        district = _weighted(rng, words["district_weights"])
        street = rng.choice(regions.streets(district)).code
        return _Place(district, street, rng.choice(words["roads"][district]), None)

    def _address(self, t: Template, place: _Place, slots: _Slots) -> str:
        rng = self._rng
        prefix = f"深圳市{_name_of(place.district_code)}{_name_of(place.street_code)}"
        number = f"{rng.randint(1, 399)}号"
        if t.place == "estate":
            return f"{prefix}{place.road}{number}{place.entity}{slots['building']}"
        if t.place == "company":
            return f"{prefix}{place.road}{number}{place.extra or ''}{place.entity}"
        if t.place == "site":
            road = "" if (place.entity or "").startswith(place.road) else place.road
            return f"{prefix}{road}{place.entity}施工现场"
        if t.place in ("school", "hospital"):
            return f"{prefix}{place.road}{number}{place.entity}"
        if t.place == "village":
            return f"{prefix}{place.entity}村"
        if t.place == "scenic":
            return f"{prefix}{place.entity}"
        if t.place == "road":
            if "road2" in slots and rng.random() < 0.5:
                return f"{prefix}{place.road}与{slots['road2']}交汇处"
            return f"{prefix}{place.road}{slots.get('no', str(rng.randint(1, 399)))}号附近"
        estate = slots.get("estate")
        if estate and rng.random() < 0.7:
            return f"{prefix}{estate}{slots['building']}{slots['room']}"
        return f"{prefix}{place.road}{number}"

    def _person(self, who: str, place: _Place) -> tuple[dict[str, str], date]:
        rng = self._rng
        first, last = _BIRTH_YEARS.get(who, (1950, 2004))
        male = rng.random() < (0.4 if who == "parent" else 0.55)
        birth = random_birth(rng, first, last)
        district_codes = [r.code for r in regions.districts()]
        home = place.district_code if rng.random() < 0.7 else rng.choice(district_codes)
        while True:
            id_number = make_id_number(rng, home, birth, male)
            if id_number not in self._used_ids:
                self._used_ids.add(id_number)
                break
        person = {
            "name": make_name(rng, male),
            "phone": make_mobile(rng),
            "id_number": id_number,
        }
        return person, birth

    def _time(self, lo: datetime, hi: datetime, channel: str) -> datetime:
        rng = self._rng
        base = lo.replace(microsecond=0)
        if base < lo:
            base += timedelta(seconds=1)
        span = int((hi - base).total_seconds())
        if span <= 0:
            raise ValueError("received_between is too short")
        candidate = base
        for _ in range(40):
            candidate = base + timedelta(seconds=rng.randrange(span))
            if rng.random() <= _activity(candidate.astimezone(TZ), channel):
                break
        return candidate.astimezone(TZ)

    def _hotspot_time(self, t: Template, lo: datetime, hi: datetime, channel: str) -> datetime:
        rng = self._rng
        span = (hi - lo).total_seconds()
        sigma = min(t.spread_days * 86400, span / 8)
        centre = lo + timedelta(seconds=span * t.center)
        moment = centre + timedelta(seconds=rng.gauss(0, sigma))
        day_start = moment.astimezone(TZ).replace(hour=0, minute=0, second=0, microsecond=0)
        lo2 = max(lo, day_start)
        hi2 = min(hi, day_start + timedelta(days=1))
        if hi2 - lo2 < timedelta(minutes=1):
            return self._time(lo, hi, channel)
        return self._time(lo2, hi2, channel)


def _weighted(rng: random.Random, weights: Mapping[str, float]) -> str:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def _fill(text: str, slots: _Slots) -> str:
    return text.format_map(slots)


def _birth_from_id(id_number: str) -> date:
    return date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))


def _activity(local: datetime, channel: str) -> float:
    """How likely a case arrives at this local time through this channel (0–1)."""
    hour = local.hour
    weekday = local.weekday() < 5
    if channel in ("visit", "letter"):
        return 1.0 if weekday and 9 <= hour < 17 else 0.01
    if channel == "phone":
        if 8 <= hour < 22:
            return 1.0
        return 0.3 if hour in (6, 7, 22, 23) else 0.06
    return 1.0 if 7 <= hour < 24 else 0.15


def _window(received_between: tuple[datetime, datetime] | None) -> tuple[datetime, datetime]:
    start, end = received_between or DEFAULT_WINDOW
    start = start if start.tzinfo else start.replace(tzinfo=TZ)
    end = end if end.tzinfo else end.replace(tzinfo=TZ)
    if end <= start:
        raise ValueError("received_between must be (start, end) with start < end")
    return start, end
