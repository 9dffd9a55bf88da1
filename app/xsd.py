"""XML Schema 1.1 dateTimeStamp parsing (XSD 1.1 Part 2 §3.4.28), as VC 2.0 §4.9 requires for dates.

``datetime.fromisoformat`` is not this parser (security-notes.md §6): it accepts values without a time
zone, which later fail to compare (a 500), and overflows on ``9999-12-31T23:59:59-14:00``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

from app.errors import MalformedValueError, RangeError

_DATETIME_STAMP = re.compile(
    r"^(?P<y>-?[0-9]{4,})-(?P<mo>[0-9]{2})-(?P<d>[0-9]{2})T(?P<h>[0-9]{2}):(?P<mi>[0-9]{2}):(?P<s>[0-9]{2})(?P<f>\.[0-9]+)?"
    r"(?P<tz>Z|[+-][0-9]{2}:[0-9]{2})$",
    re.ASCII,
)


def parse_datetime_stamp(value: object, *, field: str = "date") -> datetime:
    """A timezone-aware UTC ``datetime`` from an XSD dateTimeStamp, or ``MalformedValueError``/``RangeError``."""
    if not isinstance(value, str):
        raise MalformedValueError(f"{field} must be an XSD dateTimeStamp string")
    m = _DATETIME_STAMP.match(value)
    if not m:
        raise MalformedValueError(f"{field} {value[:40]!r} is not an XSD dateTimeStamp (YYYY-MM-DDThh:mm:ss with Z or ±hh:mm)")
    year = int(m["y"])
    if not 1 <= year <= 9999:
        raise RangeError(f"{field} year {year} is outside 0001–9999")
    hour = int(m["h"])
    end_of_day = hour == 24
    if end_of_day and (m["mi"] != "00" or m["s"] != "00" or (m["f"] and int(m["f"][1:]) != 0)):
        raise MalformedValueError(f"{field}: 24:00:00 is the only time allowed with hour 24")
    tz = m["tz"]
    if tz == "Z":
        offset = timedelta(0)
    else:
        hh, mm = int(tz[1:3]), int(tz[4:6])
        if hh > 14 or mm > 59 or (hh == 14 and mm):
            raise MalformedValueError(f"{field}: time zone offset {tz} is outside ±14:00")
        offset = timedelta(hours=hh, minutes=mm) * (-1 if tz[0] == "-" else 1)
    micro = int((m["f"] or ".0")[1:7].ljust(6, "0"))
    try:
        local = datetime(year, int(m["mo"]), int(m["d"]), 0 if end_of_day else hour, int(m["mi"]), int(m["s"]), micro, tzinfo=timezone(offset))
        if end_of_day:
            local += timedelta(days=1)
        return local.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise RangeError(f"{field} {value[:40]!r} is not a representable instant: {exc}") from None


def format_datetime_stamp(moment: datetime) -> str:
    """Second-precision UTC with ``Z``: the form microcred writes."""
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
