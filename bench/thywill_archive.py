"""Generate a realistic ThyWill text archive (legacy/thywill.md §1–§4) for benchmarks, deterministically.

    .venv/bin/python bench/thywill_archive.py OUT_FOLDER --prayers 100000 [--users 2000] [--seed 1]

Everything comes from one seeded `random.Random`, so the same arguments always give the same bytes (and so
the same import result). The archive has:

- `users/YYYY_MM_users.txt`: ~`--users` registrations over the archive's months, most by invitation (the
  inviter registered earlier), some `joined directly`; a few duplicate accounts (case/space variants of an
  earlier name, R4), a few inviters who never registered (`admin`), a few out-of-order heal lines.
- `prayers/YYYY/MM/YYYY_MM_DD_prayer_at_HHMM[_N].txt`: `--prayers` prayers in ThyWill's two eras (UUID era
  with `Audience:` lines until 2025-06-30, username era after), sometimes `Project:` and categorization
  header lines, multi-line requests (colon lines, blank lines, lookalike lines), often a generated prayer,
  and activity lines of every kind of §3.4, mostly in phrase form. About 5% of prayers have a heal fork
  (`_N` name, §3.6): UUID-era forks have no activity; username-era forks replay the events, answers,
  archives and restores as `set …`/`removed …` lines, and add DB-only and `daily_priority` lines. Later
  live activity goes to the fork. A few `Prayer temp by …` files keep CRLF line ends (§3.5, §7); a few
  activity lines have placeholder actors (`None`, `Unknown`, `Unknown User`, empty).

Activity lines over all prayer files are about `--activity-per-prayer` (default 10) times the prayers.
"""

import argparse
import os
import random
import shutil
import sys
from bisect import bisect_right
from datetime import datetime, timedelta
from pathlib import Path

GENERATOR_VERSION = 1

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

START = datetime(2024, 1, 1)
END = datetime(2025, 10, 20)
USERNAME_ERA = datetime(2025, 7, 1)
SPAN_MINUTES = int((END - START).total_seconds() // 60)
USERNAME_ERA_MINUTE = int((USERNAME_ERA - START).total_seconds() // 60)


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FIRST_NAMES = _words(
    "John Grace Max Sarah David Ruth Peter Anna James Esther Paul Hannah Mark Lydia Luke Naomi Joseph "
    "Rebecca Daniel Miriam Samuel Leah Thomas Martha Andrew Abigail Philip Deborah Timothy Priscilla Stephen "
    "Eunice Matthew Joanna Simon Susanna Aaron Tabitha Caleb Phoebe Joshua Lois Nathan Chloe Isaac Julia Elijah "
    "Claire Micah Sophie Jonah Emma Gideon Olivia Silas Zoë José Søren Łukasz Renée Chidi Ngozi Kwame Amara "
    "Mateo Lucía Björn Inés Aurélie François Jürgen Dagný Sipho Thandiwe Kenji Yuna Minh Linh Ravi Priya "
    "Ayodele Tomás Ailís Dónall Wei Mei Olu Bisi"
) + ("Mary Ann", "Anne Marie", "Jean-Luc")
LAST_NAMES = _words(
    "Smith Johnson Lee Brown Garcia Okafor Nguyen Müller Rossi Kowalski Silva Jensen Dubois Mensah Tanaka "
    "Patel O'Brien Hernández Adeyemi Schmidt Novak Eriksen Moreau Kim Park Walker Young Hill Green"
) + ("van Dijk", "de la Cruz")
NICKNAMES = _words(
    "ilyag ak prayerwarrior faithful1 hopeful joy4all shepherd lightbearer mustardseed gracegiver "
    "walkbyfaith psalm23 morningstar riverofpeace amen_sister"
)
GROUPS = ("Youth Group", "Choir", "Women's Circle", "Men's Breakfast", "Home Group", "Prayer Team")
PLACEHOLDERS = ("None", "Unknown", "Unknown User", "")
PROJECTS = ("roof fund", "mission trip", "food bank", "youth camp", "new building")

REQUEST_LINES = (
    "Please pray for my mother, she is in hospital.",
    "Pray for my job search, interviews this week.",
    "My son starts at a new school on Monday.",
    "Asking for prayer for healing after surgery.",
    "Please pray for peace in our family.",
    "Pray for safe travels for our team.",
    "We are waiting on test results.",
    "Thank you all for praying last month, it helped so much.",
    "Details: Tuesday 8am at St. Mary's",
    "Update: the appointment was moved",
    "Prayer for my dad by Friday",
    "Project: roof fund",
    "Audience: my family",
    "June 02 2025 at 10:00 - the surgery was moved",
    "Activity: none this week",
    "She is 84 and very tired - please pray for strength.",
    "For wisdom in a hard decision at work 🙏",
    "Pour ma sœur qui cherche un logement.",
    "Für meinen Bruder, der krank ist.",
    "Lord, hear our prayer.",
)
GENERATED_LINES = (
    "Lord, we lift up this request to you.",
    "Grant comfort, healing and peace.",
    "Open the right doors and give clarity in every step.",
    "Surround this family with your love.",
    "Give strength for today and hope for tomorrow.",
    "In Jesus' name, Amen.",
    "Amen.",
)
TESTIMONIES = (
    "Job offer came through.",
    "She is home from hospital!",
    "The results were clear, thank you all.",
    "We found a place to live.",
    "God provided in an unexpected way.",
    "Started the new job today!",
    "He's walking again - praise God.",
    "true",  # §7 item 6: a heal after a ThyWill import
)


class Clock:
    """ThyWill's `%B %d %Y at %H:%M` for minutes since START, caching each day's text."""

    def __init__(self):
        self.days: dict[int, str] = {}

    def ts(self, minute: int) -> str:
        day, rest = divmod(minute, 1440)
        text = self.days.get(day)
        if text is None:
            moment = START + timedelta(days=day)
            text = self.days[day] = f"{MONTHS[moment.month - 1]} {moment.day:02d} {moment.year}"
        hour, minute_of_hour = divmod(rest, 60)
        return f"{text} at {hour:02d}:{minute_of_hour:02d}"

    @staticmethod
    def moment(minute: int) -> datetime:
        return START + timedelta(minutes=minute)


class Generator:
    def __init__(self, *, prayers: int, users: int, seed: int, activity_per_prayer: float):
        self.rng = random.Random(seed)
        self.prayer_count = prayers
        self.user_count = users
        self.activity_per_prayer = activity_per_prayer
        self.clock = Clock()
        self.files: dict[str, str] = {}  # relpath → text
        self.taken: dict[str, int] = {}  # minute file name without suffix → highest N used
        self.stats = {"prayer_files": 0, "forks": 0, "temp_files": 0, "activity_lines": 0, "registration_lines": 0}

    # --- users ------------------------------------------------------------------------------------------

    def _names(self) -> list[str]:
        rng, names, keys = self.rng, [], set()

        def add(name: str) -> None:
            key = " ".join(name.casefold().split())
            if key and key not in keys and key not in ("none", "unknown", "unknown user"):
                keys.add(key)
                names.append(name)

        for nick in NICKNAMES:
            add(nick)
        add("Walk by Faith")
        for group in GROUPS:
            add(f"Tom - {group}")
        while len(names) < self.user_count:
            first = rng.choice(FIRST_NAMES)
            shape = rng.random()
            if shape < 0.35:
                add(f"{first} {rng.choice(LAST_NAMES)}")
            elif shape < 0.55:
                add(f"{first} {rng.choice(LAST_NAMES)[0]}")
            elif shape < 0.75:
                add(f"{first.lower()}{rng.randrange(1, 999)}")
            elif shape < 0.8:
                add(f"{first} {first}")  # Mary Mary, harmless
            else:
                add(f"{first}_{rng.choice(LAST_NAMES).lower().replace(' ', '')}{rng.randrange(10, 99)}")
        return names[: self.user_count]

    def make_users(self) -> None:
        rng = self.rng
        names = self._names()
        # Registration minutes: front-loaded (a community grows fast at first), sorted.
        minutes = sorted(int(SPAN_MINUTES * rng.random() ** 1.6) for _ in names)
        lines_by_month: dict[tuple[int, int], list[str]] = {}
        registered: list[str] = []
        for name, minute in zip(names, minutes, strict=True):
            if not registered or rng.random() < 0.2:
                rest = f"{name} joined directly"
            else:
                inviter = rng.choice(registered[-300:]) if rng.random() < 0.7 else rng.choice(registered)
                if rng.random() < 0.005:
                    inviter = "admin"  # an inviter who never registered (R4 pass 3)
                rest = f"{name} joined on invitation from {inviter}"
            if minute < USERNAME_ERA_MINUTE and rng.random() < 0.01:
                rest = rest.replace(" joined", "  joined", 1)  # unstripped name before 2025-06-29 (§4)
            moment = Clock.moment(minute)
            lines_by_month.setdefault((moment.year, moment.month), []).append(f"{self.clock.ts(minute)} - {rest}")
            registered.append(name)
            if minute < USERNAME_ERA_MINUTE and rng.random() < 0.01:
                # A duplicate account (§4): a case/space variant of the same name, minutes later.
                variant = name.upper() if rng.random() < 0.5 else name + " "
                later = min(minute + rng.randrange(5, 600), SPAN_MINUTES - 1)
                month = Clock.moment(later)
                line = f"{self.clock.ts(later)} - {variant} joined on invitation from {rng.choice(registered)}"
                lines_by_month.setdefault((month.year, month.month), []).append(line)
        # Heal appends out-of-order lines at the end of a month file (§4), a few times.
        for _ in range(max(1, len(names) // 500)):
            name = rng.choice(registered)
            minute = rng.randrange(SPAN_MINUTES)
            moment = Clock.moment(minute)
            line = f"{self.clock.ts(minute)} - {name} joined directly"
            lines_by_month.setdefault((moment.year, moment.month), []).append(line)
        for (year, month), lines in sorted(lines_by_month.items()):
            header = f"User Registrations for {MONTHS[month - 1]} {year}\n\n"
            self.files[f"users/{year:04d}_{month:02d}_users.txt"] = header + "".join(line + "\n" for line in lines)
            self.stats["registration_lines"] += len(lines)
        self.users = registered
        # A few people post and pray a lot, most a little: weights for picking actors and authors.
        self.cum_weights = []
        total = 0.0
        for rank in range(len(registered)):
            total += 1.0 / (rank + 10) ** 0.8
            self.cum_weights.append(total)
        self.order = registered[:]
        rng.shuffle(self.order)

    def person(self) -> str:
        index = bisect_right(self.cum_weights, self.rng.random() * self.cum_weights[-1])
        return self.order[min(index, len(self.order) - 1)]

    # --- prayers ----------------------------------------------------------------------------------------

    def file_name(self, minute: int) -> str:
        """The next free `…_prayer_at_HHMM[_N].txt` name for a file written for `minute` (§3.1)."""
        moment = Clock.moment(minute)
        base = (
            f"prayers/{moment.year:04d}/{moment.month:02d}/"
            f"{moment.year:04d}_{moment.month:02d}_{moment.day:02d}_prayer_at_{moment.hour:02d}{moment.minute:02d}"
        )
        n = self.taken.get(base, 0) + 1
        self.taken[base] = n
        return f"{base}.txt" if n == 1 else f"{base}_{n}.txt"

    def _text(self, pool: tuple[str, ...], low: int, high: int) -> list[str]:
        rng = self.rng
        lines = rng.sample(pool, rng.randint(low, high))
        if len(lines) > 1 and rng.random() < 0.2:
            lines.insert(rng.randrange(1, len(lines)), "")  # a blank line inside the text
        if rng.random() < 0.03:
            lines = ["", *lines, "", ""]  # extra blank lines at either end (trimmed by R5)
        return lines

    def _events(self, submitted: int, author: str) -> list[tuple[int, str, str, str]]:
        """(minute, kind, actor, text) in time order: the prayer's whole life."""
        rng = self.rng
        events = []
        # Activity per prayer: a long tail (a few prayers get hundreds of marks, most a handful).
        mean_prayed = self.activity_per_prayer * 0.955
        count = min(int(rng.expovariate(1 / mean_prayed) + rng.random()), 400)
        minute = submitted
        for _ in range(count):
            minute += 1 + int(rng.expovariate(1 / 600))
            actor = rng.choice(PLACEHOLDERS) if rng.random() < 0.003 else self.person()
            events.append((minute, "prayed", actor, ""))
            if rng.random() < 0.004:
                events.append((minute, "prayed", actor, ""))  # a real double mark in one minute
        last = minute
        if rng.random() < 0.15:
            at = last + rng.randrange(1, 20000)
            events.append((at, "answered", author, ""))
            if rng.random() < 0.6:
                events.append((at, "testimony", author, rng.choice(TESTIMONIES)))
            last = at
        if rng.random() < 0.1:
            at = last + rng.randrange(1, 30000)
            events.append((at, "archived", author, ""))
            if rng.random() < 0.3:
                events.append((at + rng.randrange(1, 30000), "restored", author, ""))
        if rng.random() < 0.005:
            events.append((submitted + rng.randrange(1, 5000), "flagged", self.person(), ""))
        events.sort(key=lambda event: event[0])
        return [event for event in events if event[0] < SPAN_MINUTES]

    def _phrase_line(self, event) -> list[str]:
        minute, kind, actor, text = event
        ts = self.clock.ts(minute)
        if kind == "prayed":
            return [f"{ts} - {actor} prayed this prayer"]
        if kind == "answered":
            return [f"{ts} - {actor} marked this prayer as answered"]
        if kind == "testimony":
            return [f"{ts} - {actor} added testimony: {text}"]
        return [f"{ts} - {actor} {kind} this prayer"]  # archived, restored, flagged

    def _replayed_lines(self, event) -> list[str]:
        """A username-era heal's replay of a DB event (§3.6): marks as phrases, the rest as set lines."""
        minute, kind, actor, text = event
        ts = self.clock.ts(minute)
        if kind == "prayed":
            return [f"{ts} - {actor} prayed this prayer"]
        if kind == "answered":
            stamp = Clock.moment(minute).replace(second=self.rng.randrange(60), microsecond=self.rng.randrange(10**6))
            iso = stamp.isoformat()
            return [f"{ts} - {actor} set answered to 'true'", f"{ts} - {actor} set answer_date to '{iso}'"]
        if kind == "testimony":
            return [f"{ts} - {actor} set answer_testimony to '{text}'", f"{ts} - {actor} added testimony: {text}"]
        if kind == "archived":
            return [f"{ts} - {actor} set archived to 'true'"]
        if kind == "restored":
            return [f"{ts} - {actor} removed archived (was 'true')"]
        return [f"{ts} - {actor} set flagged to 'true'"]

    def _file(self, *, archive_id, author, submitted, headers, request, generated, activity, crlf=False) -> str:
        lines = [f"Prayer {archive_id} by {author}", f"Submitted {self.clock.ts(submitted)}", *headers, ""]
        body = request[:]
        if generated:
            body += ["", "Generated Prayer:", *generated]
        body += ["", "Activity:"]
        if crlf:
            body = [line + "\r" if i < len(request) - 1 else line for i, line in enumerate(body)]
        return "\n".join(lines + body) + "\n" + "".join(line + "\n" for line in activity)

    def _headers(self, submitted: int) -> list[str]:
        rng, headers = self.rng, []
        if submitted < USERNAME_ERA_MINUTE:
            roll = rng.random()
            if roll < 0.05:
                headers.append(f"Project: {rng.choice(PROJECTS)}")
            if roll < 0.8:
                headers.append("Audience: all" if rng.random() < 0.93 else "Audience: christians_only")
        if rng.random() < 0.05:
            headers += [
                f"Safety Score: {rng.choice(('1.0', '0.9', '0.95'))}",
                "Safety Flags: []",
                f"Category: {rng.choice(('health', 'work', 'family', 'guidance'))}",
                f"Specificity: {rng.choice(('high', 'medium', 'low'))}",
                "Categorization Method: ai_full",
                f"Categorization Confidence: {rng.choice(('0.9', '0.8', '0.75'))}",
            ]
        return headers

    def make_prayers(self) -> None:
        rng = self.rng
        submits = sorted(rng.randrange(SPAN_MINUTES - 60) for _ in range(self.prayer_count))
        forks = []
        for submitted in submits:
            author = self.person() if rng.random() > 0.002 else f"guest{rng.randrange(10**6)}"  # unregistered
            archive_id = f"{rng.getrandbits(128):032x}"
            request = self._text(REQUEST_LINES, 1, 5)
            generated = self._text(GENERATED_LINES, 1, 4) if rng.random() < 0.6 else []
            events = self._events(submitted, author)
            temp = rng.random() < 0.001
            if temp:
                # §3.5: the literal id stayed; CRLF kept; a crash before the DB insert leaves no activity.
                activity = [line for e in events for line in self._phrase_line(e)] if rng.random() < 0.5 else []
                self._add(
                    self.file_name(submitted),
                    self._file(
                        archive_id="temp",
                        author=author,
                        submitted=submitted,
                        headers=[],
                        request=request,
                        generated=generated,
                        activity=activity,
                        crlf=True,
                    ),
                    activity,
                )
                self.stats["temp_files"] += 1
                continue
            fork_at = None
            if rng.random() < 0.05 and events:
                fork_at = submitted + rng.randrange(1, max(2, min(SPAN_MINUTES - submitted, 200_000)))
            before = [e for e in events if fork_at is None or e[0] < fork_at]
            activity = [line for e in before for line in self._phrase_line(e)]
            if rng.random() < 0.002:
                activity.append(f"{self.clock.ts(submitted + 30)} - {author} unknown")  # an odd log row (§3.4)
            if rng.random() < 0.001:
                activity.append("and then a second line of the testimony")  # §7 item 7: unknown
            self._add(
                self.file_name(submitted),
                self._file(
                    archive_id=archive_id,
                    author=author,
                    submitted=submitted,
                    headers=self._headers(submitted),
                    request=request,
                    generated=generated,
                    activity=activity,
                ),
                activity,
            )
            if fork_at is not None:
                forks.append((fork_at, archive_id, author, submitted, request, generated, events))
        # Heal forks are written later than the originals, so they take the next free `_N` name.
        forks.sort(key=lambda fork: fork[0])
        for fork in forks:
            self._fork(*fork)

    def _fork(self, fork_at, archive_id, author, submitted, request, generated, events) -> None:
        rng = self.rng
        times = [fork_at]
        if rng.random() < 0.1:
            times.append(fork_at + rng.randrange(1, 50_000))  # healed twice: `_2` and `_3`
        for number, at in enumerate(times):
            until = [e for e in events if e[0] < at]
            if at < USERNAME_ERA_MINUTE:
                # UUID-era heal: header and text only; the author may have become `Unknown User`.
                replay, fork_author = [], ("Unknown User" if rng.random() < 0.2 else author)
                headers = ["Audience: all"]
            else:
                fork_author = author
                headers = []
                replay = [line for e in until for line in self._replayed_lines(e)]
                if rng.random() < 0.1 and until:  # an event only the DB had, at a minute of its own
                    minute = until[-1][0] + 1
                    replay.append(f"{self.clock.ts(minute)} - {self.person()} prayed this prayer")
                if rng.random() < 0.05:
                    ts = self.clock.ts(max(submitted + 1, at - 1))
                    replay.append(f"{ts} - {self.person()} set daily_priority to 'true'")  # unknown (§3.4)
            # Live activity after a heal goes to the newest fork only, until the next heal.
            following = times[number + 1] if number + 1 < len(times) else SPAN_MINUTES
            live = [line for e in events if at <= e[0] < following for line in self._phrase_line(e)]
            activity = replay + live
            # A fork written from a DB rebuilt by ThyWill's lossy importer lost its colon and blank lines.
            text = request if rng.random() < 0.8 else [line for line in request if ":" not in line and line]
            self._add(
                self.file_name(submitted),
                self._file(
                    archive_id=archive_id,
                    author=fork_author,
                    submitted=submitted,
                    headers=headers,
                    request=text or request,
                    generated=generated,
                    activity=activity,
                ),
                activity,
            )
            self.stats["forks"] += 1

    def _add(self, relpath: str, text: str, activity: list[str]) -> None:
        self.files[relpath] = text
        self.stats["prayer_files"] += 1
        self.stats["activity_lines"] += len(activity)

    def write(self, folder: Path) -> None:
        made = set()
        for relpath, text in self.files.items():
            path = folder / relpath
            if path.parent not in made:
                path.parent.mkdir(parents=True, exist_ok=True)
                made.add(path.parent)
            path.write_bytes(text.encode("utf-8"))


def generate(folder: str | os.PathLike, *, prayers: int, users: int = 2000, seed: int = 1, activity_per_prayer=10.0):
    """Write the archive into `folder` (which must not exist); returns the generator's counts."""
    folder = Path(folder)
    generator = Generator(prayers=prayers, users=users, seed=seed, activity_per_prayer=activity_per_prayer)
    generator.make_users()
    generator.make_prayers()
    tmp = folder.with_name(folder.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    generator.write(tmp)
    tmp.rename(folder)
    return dict(generator.stats, files=len(generator.files))


def cached_archive(*, prayers: int, users: int = 2000, seed: int = 1, activity_per_prayer=10.0, cache="/tmp") -> Path:
    """The archive for these arguments, generated once into `cache` and reused (keyed by size and seed)."""
    name = f"cairn-bench-thywill-v{GENERATOR_VERSION}-p{prayers}-u{users}-a{activity_per_prayer:g}-s{seed}"
    folder = Path(cache) / name / "text_archives"
    if not folder.is_dir():
        folder.parent.mkdir(parents=True, exist_ok=True)
        generate(folder, prayers=prayers, users=users, seed=seed, activity_per_prayer=activity_per_prayer)
    return folder


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", help="folder to create (must not exist)")
    parser.add_argument("--prayers", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--activity-per-prayer", type=float, default=10.0)
    args = parser.parse_args(argv)
    if os.path.exists(args.out):
        parser.error(f"{args.out} exists")
    stats = generate(
        args.out, prayers=args.prayers, users=args.users, seed=args.seed, activity_per_prayer=args.activity_per_prayer
    )
    print(", ".join(f"{key} {value}" for key, value in stats.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
