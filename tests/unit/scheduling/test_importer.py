"""Appointments read from CSV and iCalendar exports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.scheduling.importer import (
    AppointmentFileError,
    DateFormat,
    ImportedAppointment,
    ImportedFile,
    Skipped,
    parse_csv,
    parse_ics,
    read_appointments,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
LONDON = ZoneInfo("Europe/London")
BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2025, 3, 20, 12, 0, tzinfo=UTC)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def ics(*events: str, extra: str = "") -> bytes:
    """A calendar with the given VEVENT bodies (CRLF line ends, as exporters write)."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN"]
    if extra:
        lines.append(extra.strip())
    for body in events:
        lines += ["BEGIN:VEVENT", *body.strip().splitlines(), "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return ("\r\n".join(line.strip() for line in lines) + "\r\n").encode()


def problems_of(excinfo: pytest.ExceptionInfo[AppointmentFileError]) -> list[str]:
    return list(excinfo.value.problems)


def readable(found: ImportedFile) -> list[ImportedAppointment]:
    """The appointments of a file in which every row or event could be read."""
    assert found.rejected == []
    return found.appointments


def csv_appointments(text: str, timezone: ZoneInfo, **options: Any) -> list[ImportedAppointment]:
    return readable(parse_csv(text, timezone, **options))


def ics_appointments(data: bytes, timezone: ZoneInfo, **options: Any) -> list[ImportedAppointment]:
    return readable(parse_ics(data, timezone, **options))


def file_appointments(path: Path, timezone: ZoneInfo, **options: Any) -> list[ImportedAppointment]:
    return readable(read_appointments(path, timezone, **{"now": NOW, **options}))


# --- CSV ------------------------------------------------------------------


def test_csv_fixture_parsed_to_exact_utc_times() -> None:
    appointments = file_appointments(FIXTURES / "appointments.csv", LONDON)

    assert appointments == [
        ImportedAppointment(
            "csv:A-1041",
            utc(2025, 3, 27, 9, 30),  # GMT: UTC+0
            "Jane Doe",
            123456789,
            "First visit - lower back pain",
        ),
        ImportedAppointment(
            "csv:A-1042",
            utc(2025, 3, 28, 11, 0),
            "John Smith",
            None,
            "Follow-up, neck and shoulders",
        ),
        # The clocks went forward on 30 March: 09:00 BST is 08:00 UTC.
        ImportedAppointment("csv:A-1043", utc(2025, 3, 31, 8, 0), "Anna Müller", 555000111, None),
        # 01:30 happens twice on 26 October; the first (BST) is 00:30 UTC.
        ImportedAppointment(
            "csv:A-1044",
            utc(2025, 10, 26, 0, 30),
            "Tom Brown",
            None,
            "Early slot (clocks go back that night)",
        ),
        ImportedAppointment("csv:A-1045", utc(2025, 4, 2, 13, 15), None, 987654321, None),
    ]
    assert all(a.starts_at.utcoffset() == timedelta(0) for a in appointments)


def test_excel_semicolon_csv_with_bom() -> None:
    raw = (FIXTURES / "appointments_semicolon.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the fixture is what Excel writes

    appointments = file_appointments(FIXTURES / "appointments_semicolon.csv", LONDON)

    assert [(a.starts_at, a.name, a.telegram_user_id, a.note) for a in appointments] == [
        (utc(2025, 3, 27, 9, 30), "Jane Doe", 123456789, "Erstbehandlung, Rücken"),
        (utc(2025, 3, 31, 8, 0), "Müller; Anna", None, None),
        (utc(2025, 4, 2, 13, 15), "Lukas Schneider", None, 'Bitte Parkplatz "hinten" nutzen'),
    ]
    assert all(a.external_id.startswith("csv:h-") for a in appointments)


def test_parse_csv_accepts_text_that_still_has_its_bom() -> None:
    appointments = csv_appointments("\ufeffdate,time,name\n2025-03-27,09:30,Jane Doe\n", LONDON)

    assert [(a.starts_at, a.name) for a in appointments] == [(utc(2025, 3, 27, 9, 30), "Jane Doe")]


def test_csv_reimport_gives_identical_external_ids() -> None:
    for name in ("appointments.csv", "appointments_semicolon.csv"):
        first = file_appointments(FIXTURES / name, LONDON)
        second = file_appointments(FIXTURES / name, LONDON)
        ids = [a.external_id for a in first]
        assert ids == [a.external_id for a in second]
        assert len(set(ids)) == len(ids)


def test_csv_hash_id_is_stable_across_versions_and_ignores_case_and_spacing() -> None:
    # A literal: if the hash recipe changes, re-importing old files would duplicate them.
    original = csv_appointments(
        "date,time,name,telegram_user_id\n2025-03-27,09:30,Jane Doe,123456789\n", LONDON
    )
    assert original[0].external_id == "csv:h-736726128e1d28d4bbf299a5"

    respaced = csv_appointments(
        "start;name;telegram_user_id\n2025-03-27 09:30;  jane   DOE ;123456789\n", LONDON
    )
    assert respaced[0].external_id == original[0].external_id

    other_time = csv_appointments(
        "date,time,name,telegram_user_id\n2025-03-27,09:45,Jane Doe,123456789\n", LONDON
    )
    other_person = csv_appointments(
        "date,time,name,telegram_user_id\n2025-03-27,09:30,Jane Doe,123456780\n", LONDON
    )
    assert other_time[0].external_id != original[0].external_id
    assert other_person[0].external_id != original[0].external_id


def test_csv_id_column_wins_and_blank_id_falls_back_to_hash() -> None:
    appointments = csv_appointments(
        "ID,Date,Time,Name\n77,2025-03-27,09:30,Jane Doe\n,2025-03-27,10:30,John Smith\n",
        LONDON,
    )

    assert appointments[0].external_id == "csv:77"
    assert appointments[1].external_id.startswith("csv:h-")


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        ("2025-03-27 09:30", utc(2025, 3, 27, 9, 30)),
        ("2025-07-01 09:30", utc(2025, 7, 1, 8, 30)),  # BST
        ("2025-07-01T09:30:00+02:00", utc(2025, 7, 1, 7, 30)),  # the offset wins
        ("2025-07-01T09:30Z", utc(2025, 7, 1, 9, 30)),
    ],
)
def test_csv_start_column(start: str, expected: datetime) -> None:
    [appointment] = csv_appointments(f"start,name\n{start},Jane Doe\n", LONDON)

    assert appointment.starts_at == expected
    assert appointment.starts_at.tzinfo is UTC


def test_csv_columns_are_case_insensitive_and_extra_columns_ignored() -> None:
    text = (
        " Name , Phone ,DATE,Time, Telegram User ID ,Notes,NOTE\n"
        "Jane Doe,+44 7700 900123,2025-03-27,09:30,123,ignored,kept\n"
    )

    [appointment] = csv_appointments(text, LONDON)

    assert (appointment.name, appointment.telegram_user_id, appointment.note) == (
        "Jane Doe",
        123,
        "kept",
    )


def test_csv_bad_rows_are_all_reported_with_spreadsheet_row_numbers() -> None:
    text = (
        "date,time,name,telegram_user_id,note\n"  # row 1
        "2025-03-27,09:30,Jane Doe,,ok\n"  # row 2
        '2025-03-27,10:00,John Smith,,"two\nlines"\n'  # row 3 (one row, two lines)
        "27/03/2025,10:30,Anna,,\n"  # row 4
        "\n"  # row 5: blank, skipped
        "2025-03-27,25:00,Tom,,\n"  # row 6
        "2025-03-30,01:30,Early Bird,,\n"  # row 7: clocks go forward at 01:00
        "2025-03-27,11:00,,,no one\n"  # row 8
        "2025-03-27,11:30,Peter,@peter,\n"  # row 9
        ",,Nobody,,\n"  # row 10
    )

    found = parse_csv(text, LONDON, source="clinic.csv")

    # The good rows are read; each bad one is named with its problem.
    assert [a.name for a in found.appointments] == ["Jane Doe", "John Smith"]
    assert found.rejected == [
        "row 4: date '27/03/2025' is not YYYY-MM-DD: for dates written day first pass"
        " --date-format DMY, month first --date-format MDY",
        "row 6: time '25:00' is not HH:MM (24-hour) or H:MM AM/PM",
        "row 7: 2025-03-30 01:30 does not exist in Europe/London (the clocks go forward then)",
        "row 8: needs a name or a telegram_user_id",
        "row 9: telegram_user_id '@peter' is not a Telegram user id (a positive whole number)",
        "row 10: no date and time",
    ]


def test_csv_single_bad_row_message_names_file_and_row() -> None:
    assert parse_csv("start,name\n2025-03-27,Jane\n", LONDON, source="a.csv").rejected == [
        "row 2: start '2025-03-27' is not YYYY-MM-DD HH:MM or ISO 8601 (2025-03-27T09:30+01:00)"
    ]


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        ("date,name", "row 1: the header has no 'time' column"),
        ("name,note", "row 1: the header needs 'date' and 'time' columns, or a 'start' column"),
        ("date,time,note", "row 1: the header has no 'name' column"),
        (
            "start,date,time,name",
            "row 1: use either a 'start' column or 'date' and 'time', not both",
        ),
        ("start,name,Name", "row 1: column 'name' appears twice in the header"),
    ],
)
def test_csv_bad_header(header: str, problem: str) -> None:
    with pytest.raises(AppointmentFileError) as excinfo:
        parse_csv(f"{header}\n", LONDON)

    assert problems_of(excinfo)[0] == problem


def test_csv_header_only_is_no_appointments_and_empty_file_is_an_error() -> None:
    assert csv_appointments("date;time;name\r\n\r\n", LONDON) == []
    with pytest.raises(AppointmentFileError, match="expected a header row"):
        parse_csv("\n\n", LONDON)


def test_csv_row_with_more_cells_than_the_header() -> None:
    assert parse_csv("date;time;name\n2025-03-27;09:30;Doe; Jane\n", LONDON).rejected == [
        "row 2: has 4 cells but the header has 3 columns "
        "(is a value with a delimiter in it missing its quotes?)"
    ]


def test_csv_duplicate_rows_are_reported() -> None:
    text = "id,date,time,name\n7,2025-03-27,09:30,Jane\n7,2025-03-28,09:30,John\n"

    found = parse_csv(text, LONDON)

    assert [a.name for a in found.appointments] == ["Jane"]
    assert found.rejected == ["row 3: same appointment as row 2"]


def test_csv_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes("date;time;name\n2025-03-27;09:30;Müller\n".encode("cp1252"))

    with pytest.raises(AppointmentFileError) as excinfo:
        read_appointments(path, LONDON)

    assert str(excinfo.value) == (
        f"{path}: line 2: the file is not UTF-8 text (in Excel, save as 'CSV UTF-8')"
    )


# --- file type --------------------------------------------------------------


@pytest.mark.parametrize("name", ["appointments.xlsx", "appointments", "calendar.ical"])
def test_unknown_suffix_is_an_error_naming_the_file(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text("date,time,name\n2025-03-27,09:30,Jane\n")

    with pytest.raises(AppointmentFileError) as excinfo:
        read_appointments(path, LONDON)

    assert str(excinfo.value).startswith(f"{path}: unknown file type")
    assert "expected .csv or .ics" in str(excinfo.value)


def test_suffix_is_case_insensitive(tmp_path: Path) -> None:
    csv_path = tmp_path / "EXPORT.CSV"
    csv_path.write_bytes((FIXTURES / "appointments.csv").read_bytes())
    ics_path = tmp_path / "Calendar.ICS"
    ics_path.write_bytes((FIXTURES / "calendar.ics").read_bytes())

    assert len(file_appointments(csv_path, LONDON)) == 5
    assert len(file_appointments(ics_path, LONDON, now=NOW)) == 6


def test_missing_file_is_an_appointment_file_error(tmp_path: Path) -> None:
    path = tmp_path / "gone.csv"

    with pytest.raises(AppointmentFileError, match="cannot read the file"):
        read_appointments(path, LONDON)


# --- iCalendar --------------------------------------------------------------

TOM = "ics:5e6f7a8b9c0d1e2f3a4b5c6d7e@google.com"


def test_google_calendar_export() -> None:
    appointments = file_appointments(FIXTURES / "calendar.ics", LONDON, now=NOW)

    assert appointments == [
        # Weekly, COUNT=3, 18:00 London time: GMT, then BST after 30 March.
        ImportedAppointment(
            f"{TOM}:2025-03-25T18:00:00+00:00",
            utc(2025, 3, 25, 18, 0),
            "Tom Brown",
            None,
            "Course of three sessions.",
        ),
        ImportedAppointment(
            "ics:3q8v1k2m9n0p4r5s6t7u8w9x0y@google.com",
            utc(2025, 3, 27, 9, 30),
            "Jane Doe",  # SUMMARY was "  Jane Doe "
            123456789,  # from "telegram: 123456789", folded over two lines
            "First visit: lower back pain, referred by Dr Patel.\ntelegram: 123456789",
        ),
        ImportedAppointment(
            f"{TOM}:2025-04-01T17:00:00+00:00",
            utc(2025, 4, 1, 17, 0),
            "Tom Brown",
            None,
            "Course of three sessions.",
        ),
        ImportedAppointment(
            "ics:7b2c4d6e8f0a1b3c5d7e9f1a2b@google.com",
            utc(2025, 4, 2, 13, 0),  # 14:00 BST
            "Dry needling \u2013 John Smith",
            987654321,  # X-ASHI-TELEGRAM-ID
            "Follow-up, neck and shoulders.",
        ),
        ImportedAppointment(
            "ics:2d3e4f5a6b7c8d9e0f1a2b3c4d@google.com",
            utc(2025, 4, 3, 8, 0),  # DTSTART in UTC (Z) is kept
            "Anna Müller",
            None,
            None,
        ),
        ImportedAppointment(
            f"{TOM}:2025-04-08T17:00:00+00:00",
            utc(2025, 4, 8, 17, 0),
            "Tom Brown",
            None,
            "Course of three sessions.",
        ),
    ]


def test_google_export_skips_cancelled_all_day_and_past_events() -> None:
    raw = (FIXTURES / "calendar.ics").read_text()
    # The fixture does hold these events; the importer must leave them out.
    for uid in (
        "0c9d8e7f6a5b4c3d2e1f0a9b8c",
        "1a2b3c4d5e6f7a8b9c0d1e2f3a",
        "9f8e7d6c5b4a3f2e1d0c9b8a7f",
    ):
        assert f"UID:{uid}@google.com" in raw

    appointments = file_appointments(FIXTURES / "calendar.ics", LONDON, now=NOW)

    names = {a.name for a in appointments}
    assert "Maria Garcia" not in names  # STATUS:CANCELLED
    assert "Clinic closed \u2013 Good Friday" not in names  # all-day
    assert "Peter Jones" not in names  # January: in the past

    earlier = file_appointments(FIXTURES / "calendar.ics", LONDON, now=utc(2025, 1, 1))
    assert "Peter Jones" in {a.name for a in earlier}
    assert "Maria Garcia" not in {a.name for a in earlier}


def test_outlook_export_with_windows_time_zone_name() -> None:
    appointments = file_appointments(FIXTURES / "calendar_outlook.ics", LONDON, now=NOW)

    assert [(a.starts_at, a.name, a.telegram_user_id) for a in appointments] == [
        (utc(2025, 3, 28, 9, 0), "Lukas Schneider", 55512345),  # 10:00 CET
        (utc(2025, 4, 4, 8, 0), "Sophie Wagner", None),  # 10:00 CEST
    ]
    assert appointments[0].external_id == (
        "ics:040000008200E00074C5B7101A82E0080000000010A9A7B1F297DB0100000000000000001"
        "0000000F5B1C8E2A4D3E84F9C3A1B2D4E5F6A7B"
    )
    assert appointments[1].note is None  # DESCRIPTION was only "\n"


def test_windows_time_zone_name_without_vtimezone_block() -> None:
    data = ics(
        """
        UID:w1
        DTSTART;TZID="Romance Standard Time":20250702T100000
        SUMMARY:Jane Doe
        """
    )

    [appointment] = ics_appointments(data, LONDON, now=NOW)

    assert appointment.starts_at == utc(2025, 7, 2, 8, 0)  # Paris, CEST


def test_time_zone_defined_only_by_the_files_vtimezone() -> None:
    data = ics(
        """
        UID:v1
        DTSTART;TZID=Clinic Local:20250702T100000
        SUMMARY:Jane Doe
        """,
        extra="""
        BEGIN:VTIMEZONE
        TZID:Clinic Local
        BEGIN:STANDARD
        DTSTART:19700101T000000
        TZOFFSETFROM:+0300
        TZOFFSETTO:+0300
        END:STANDARD
        END:VTIMEZONE
        """.replace("        ", ""),
    )

    [appointment] = ics_appointments(data, LONDON, now=NOW)

    assert appointment.starts_at == utc(2025, 7, 2, 7, 0)


def test_unknown_tzid_is_an_error_not_a_guess() -> None:
    data = ics(
        """
        UID:mars-1
        DTSTART;TZID=Mars/Olympus_Mons:20250702T100000
        SUMMARY:Jane Doe
        """
    )

    found = parse_ics(data, LONDON, source="mars.ics", now=NOW)

    assert found.appointments == []
    assert found.rejected == [
        "event 1 (UID mars-1, 'Jane Doe'): DTSTART has an unknown time zone "
        "'Mars/Olympus_Mons' (not an IANA or Windows zone name, and not defined in the file)"
    ]


def test_floating_time_is_in_the_clinic_time_zone() -> None:
    data = ics("UID:f1\nDTSTART:20250702T100000\nSUMMARY:Jane Doe")

    [in_london] = ics_appointments(data, LONDON, now=NOW)
    [in_berlin] = ics_appointments(data, BERLIN, now=NOW)

    assert in_london.starts_at == utc(2025, 7, 2, 9, 0)
    assert in_berlin.starts_at == utc(2025, 7, 2, 8, 0)


def test_floating_time_in_the_spring_forward_gap_is_an_error() -> None:
    data = ics("UID:gap\nDTSTART:20250330T013000\nSUMMARY:Jane Doe")

    [problem] = parse_ics(data, LONDON, now=NOW).rejected
    assert "2025-03-30 01:30 does not exist" in problem


def test_ics_reimport_gives_identical_external_ids() -> None:
    data = (FIXTURES / "calendar.ics").read_bytes()

    first = [a.external_id for a in ics_appointments(data, LONDON, now=NOW)]
    # A later import (the next day) still names the same occurrences the same way.
    later = [a.external_id for a in ics_appointments(data, LONDON, now=NOW + timedelta(days=1))]

    assert first == [a.external_id for a in ics_appointments(data, LONDON, now=NOW)]
    assert later == first
    assert len(set(first)) == len(first)


def test_telegram_id_from_description_line_variants() -> None:
    data = ics(
        "UID:t1\nDTSTART:20250702T100000Z\nSUMMARY:A\nDESCRIPTION:Telegram ID = 42\\nthanks",
        "UID:t2\nDTSTART:20250702T110000Z\nSUMMARY:B\nDESCRIPTION:telegram_user_id: 43",
        "UID:t3\nDTSTART:20250702T120000Z\nSUMMARY:C\nDESCRIPTION:telegram: @ccc",
        "UID:t4\nDTSTART:20250702T130000Z\nSUMMARY:D\nDESCRIPTION:call on telegram: 44",
        "UID:t5\nDTSTART:20250702T140000Z\nSUMMARY:E\nDESCRIPTION:Telegram: 45\\ntelegram: 46",
    )

    appointments = ics_appointments(data, LONDON, now=NOW)

    assert [a.telegram_user_id for a in appointments] == [42, 43, None, None, 45]


def test_telegram_id_property_and_description_must_agree() -> None:
    agreeing = ics(
        "UID:a\nDTSTART:20250702T100000Z\nSUMMARY:A\nX-ASHI-TELEGRAM-ID:42\n"
        "DESCRIPTION:telegram: 42"
    )
    disagreeing = ics(
        "UID:d\nDTSTART:20250702T100000Z\nSUMMARY:A\nX-ASHI-TELEGRAM-ID:42\n"
        "DESCRIPTION:telegram: 43"
    )
    not_a_number = ics("UID:n\nDTSTART:20250702T100000Z\nSUMMARY:A\nX-ASHI-TELEGRAM-ID:abc")

    assert ics_appointments(agreeing, LONDON, now=NOW)[0].telegram_user_id == 42
    [problem] = parse_ics(disagreeing, LONDON, now=NOW).rejected
    assert "disagree" in problem
    assert parse_ics(not_a_number, LONDON, now=NOW).rejected == [
        "event 1 (UID n, 'A'): X-ASHI-TELEGRAM-ID 'abc' is not a Telegram user id "
        "(a positive whole number)"
    ]


def test_ics_event_errors_are_collected() -> None:
    data = ics(
        "UID:ok\nDTSTART:20250702T100000Z\nSUMMARY:Fine",
        "DTSTART:20250702T100000Z\nSUMMARY:No Uid",
        "UID:nostart\nSUMMARY:No start",
        "UID:anon\nDTSTART:20250702T100000Z",
        "UID:anon-but-known\nDTSTART:20250702T110000Z\nX-ASHI-TELEGRAM-ID:5",
    )

    found = parse_ics(data, LONDON, source="x.ics", now=NOW)

    # One broken event does not keep the others out.
    assert [a.external_id for a in found.appointments] == ["ics:ok", "ics:anon-but-known"]
    assert found.rejected == [
        "event 2 ('No Uid'): no UID",
        "event 3 (UID nostart, 'No start'): no DTSTART",
        "event 4 (UID anon): needs a SUMMARY (the patient's name) or X-ASHI-TELEGRAM-ID",
    ]


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", "not an iCalendar file: no complete VCALENDAR found"),
        (
            b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n",
            "not an iCalendar file: no complete VCALENDAR found",
        ),
        (b"hello,world\n", "not a valid iCalendar file: "),
        (b"BEGIN:VCALENDAR\r\nSUMMARY:M\xfcller\r\n", "line 2: the file is not UTF-8 text"),
    ],
)
def test_not_an_icalendar_file(data: bytes, problem: str) -> None:
    with pytest.raises(AppointmentFileError) as excinfo:
        parse_ics(data, LONDON, source="bad.ics", now=NOW)

    assert str(excinfo.value).startswith(f"bad.ics: {problem}")


def test_default_now_is_the_current_time() -> None:
    data = ics(
        "UID:past\nDTSTART:20000101T100000Z\nSUMMARY:Long Ago",
        "UID:future\nDTSTART:20990101T100000Z\nSUMMARY:Far Ahead",
    )

    assert [a.name for a in ics_appointments(data, LONDON)] == ["Far Ahead"]


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="now must be timezone-aware"):
        parse_ics(
            ics("UID:a\nDTSTART:20250702T100000Z\nSUMMARY:A"), LONDON, now=datetime(2025, 1, 1)
        )


def test_bad_recurrence_id_is_reported_once() -> None:
    data = ics(
        "UID:r\nDTSTART:20250702T100000Z\nRRULE:FREQ=DAILY;COUNT=2\nSUMMARY:A",
        "UID:r\nRECURRENCE-ID;TZID=Nowhere/Land:20250703T100000\nDTSTART:20250704T100000Z\nSUMMARY:A",
    )

    assert parse_ics(data, LONDON, now=NOW).rejected == [
        "event 2 (UID r, 'A'): RECURRENCE-ID has an unknown time zone 'Nowhere/Land' "
        "(not an IANA or Windows zone name, and not defined in the file)"
    ]


def test_event_that_started_within_the_last_day_is_kept() -> None:
    data = ics(
        "UID:recent\nDTSTART:20250319T130000Z\nSUMMARY:Yesterday",
        "UID:older\nDTSTART:20250319T110000Z\nSUMMARY:Day Before",
    )

    assert [a.name for a in ics_appointments(data, LONDON, now=NOW)] == ["Yesterday"]


# --- recurrence ------------------------------------------------------------


def test_open_ended_weekly_event_is_expanded_for_a_year_from_now() -> None:
    data = ics(
        """
        UID:weekly
        DTSTART;TZID=Europe/London:20240102T090000
        RRULE:FREQ=WEEKLY
        SUMMARY:Regular Patient
        """
    )

    appointments = ics_appointments(data, LONDON, now=NOW)

    starts = [a.starts_at for a in appointments]
    assert starts[0] == utc(2025, 3, 25, 9, 0)  # first Tuesday on or after now - 1 day
    assert starts[1] == utc(2025, 4, 1, 8, 0)  # BST
    assert starts[-1] == utc(2026, 3, 17, 9, 0)  # last Tuesday before now + 365 days
    assert len(starts) == 52
    assert appointments[1].external_id == "ics:weekly:2025-04-01T08:00:00+00:00"


def test_moved_cancelled_and_excluded_occurrences() -> None:
    data = ics(
        """
        UID:course
        DTSTART;TZID=Europe/London:20250325T180000
        RRULE:FREQ=WEEKLY;UNTIL=20250422T170000Z
        EXDATE;TZID=Europe/London:20250408T180000
        SUMMARY:Tom Brown
        """,
        # The 1 April session moved to Wednesday 19:00.
        """
        UID:course
        RECURRENCE-ID;TZID=Europe/London:20250401T180000
        DTSTART;TZID=Europe/London:20250402T190000
        SUMMARY:Tom Brown
        """,
        # The 15 April session cancelled.
        """
        UID:course
        RECURRENCE-ID;TZID=Europe/London:20250415T180000
        DTSTART;TZID=Europe/London:20250415T180000
        STATUS:CANCELLED
        SUMMARY:Tom Brown
        """,
    )

    appointments = ics_appointments(data, LONDON, now=NOW)

    assert [(a.external_id, a.starts_at) for a in appointments] == [
        ("ics:course:2025-03-25T18:00:00+00:00", utc(2025, 3, 25, 18, 0)),
        ("ics:course:2025-04-01T17:00:00+00:00", utc(2025, 4, 2, 18, 0)),  # moved
        ("ics:course:2025-04-22T17:00:00+00:00", utc(2025, 4, 22, 17, 0)),  # UNTIL inclusive
    ]


def test_unsupported_rrule_frequency_is_reported() -> None:
    data = ics("UID:m\nDTSTART:20250702T100000Z\nRRULE:FREQ=MINUTELY\nSUMMARY:A")

    [problem] = parse_ics(data, LONDON, now=NOW).rejected
    assert "RRULE frequency MINUTELY is not supported" in problem


def starts_of(data: bytes, now: datetime) -> list[datetime]:
    return [appointment.starts_at for appointment in ics_appointments(data, LONDON, now=now)]


def test_recurrence_keeps_wall_clock_time_across_dst() -> None:
    data = ics(
        "UID:d\nSUMMARY:A\nDTSTART;TZID=Europe/London:20251020T090000\nRRULE:FREQ=DAILY;COUNT=10"
    )

    assert starts_of(data, now=utc(2025, 10, 25, 12))[:3] == [
        utc(2025, 10, 25, 8, 0),
        utc(2025, 10, 26, 9, 0),  # GMT from 26 October
        utc(2025, 10, 27, 9, 0),
    ]


def test_recurrence_in_the_spring_forward_gap_uses_the_earlier_offset() -> None:
    data = ics(
        "UID:g\nSUMMARY:A\nDTSTART;TZID=Europe/London:20250329T013000\nRRULE:FREQ=DAILY;COUNT=2"
    )

    # 01:30 on 30 March does not exist; RFC 5545 says read it with the GMT offset.
    assert starts_of(data, now=utc(2025, 3, 28)) == [
        utc(2025, 3, 29, 1, 30),
        utc(2025, 3, 30, 1, 30),
    ]


def test_recurrence_rdate_and_date_exdate() -> None:
    data = ics(
        "UID:x\nSUMMARY:A\nDTSTART;TZID=Europe/Berlin:20250602T100000\n"
        "RRULE:FREQ=DAILY;COUNT=3\nRDATE:20250610T120000Z\nEXDATE;VALUE=DATE:20250603"
    )

    assert starts_of(data, now=utc(2025, 6, 1)) == [
        utc(2025, 6, 2, 8, 0),
        utc(2025, 6, 4, 8, 0),
        utc(2025, 6, 10, 12, 0),
    ]


def test_recurrence_counts_a_dtstart_outside_the_rule() -> None:
    # RFC 5545: DTSTART is the first occurrence even when the rule would not produce it.
    data = ics("UID:w\nSUMMARY:A\nDTSTART:20250602T100000Z\nRRULE:FREQ=WEEKLY;BYDAY=TU;COUNT=2")

    assert starts_of(data, now=utc(2025, 6, 1)) == [
        utc(2025, 6, 2, 10, 0),
        utc(2025, 6, 3, 10, 0),
        utc(2025, 6, 10, 10, 0),
    ]


WEEKLY_FROM_JUNE = (
    "UID:t\nSUMMARY:Jane Doe\nDTSTART;TZID=Europe/London:20250602T100000\nRRULE:FREQ=WEEKLY;COUNT=5"
)


def test_this_and_future_moves_every_later_occurrence_and_keeps_their_identity() -> None:
    before = ics(WEEKLY_FROM_JUNE)
    after = ics(
        WEEKLY_FROM_JUNE,
        "UID:t\nSUMMARY:Jane Doe\nRECURRENCE-ID;RANGE=THISANDFUTURE;TZID=Europe/London:"
        "20250616T100000\nDTSTART;TZID=Europe/London:20250616T123000",
    )
    now = utc(2025, 6, 1)

    old = ics_appointments(before, LONDON, now=now)
    new = ics_appointments(after, LONDON, now=now)

    # 10:00 London (BST) is 09:00 UTC; from 16 June the series is at 12:30, 11:30 UTC.
    assert [a.starts_at for a in new] == [
        utc(2025, 6, 2, 9, 0),
        utc(2025, 6, 9, 9, 0),
        utc(2025, 6, 16, 11, 30),
        utc(2025, 6, 23, 11, 30),
        utc(2025, 6, 30, 11, 30),
    ]
    # The same five appointments, moved: none is new, none is gone.
    assert [a.external_id for a in new] == [a.external_id for a in old]
    assert new[3].external_id == "ics:t:2025-06-23T09:00:00+00:00"


def test_a_single_change_after_a_this_and_future_change_wins_for_its_day() -> None:
    data = ics(
        WEEKLY_FROM_JUNE,
        "UID:t\nSUMMARY:Jane Doe\nRECURRENCE-ID;RANGE=THISANDFUTURE;TZID=Europe/London:"
        "20250616T100000\nDTSTART;TZID=Europe/London:20250616T123000",
        "UID:t\nSUMMARY:Jane Doe\nRECURRENCE-ID;TZID=Europe/London:20250623T100000\n"
        "DTSTART;TZID=Europe/London:20250623T080000",
        "UID:t\nSUMMARY:Jane Doe\nRECURRENCE-ID;TZID=Europe/London:20250630T100000\n"
        "DTSTART;TZID=Europe/London:20250630T100000\nSTATUS:CANCELLED",
    )

    found = ics_appointments(data, LONDON, now=utc(2025, 6, 1))

    assert [(a.external_id[-25:], a.starts_at) for a in found] == [
        ("2025-06-02T09:00:00+00:00", utc(2025, 6, 2, 9, 0)),
        ("2025-06-09T09:00:00+00:00", utc(2025, 6, 9, 9, 0)),
        ("2025-06-16T09:00:00+00:00", utc(2025, 6, 16, 11, 30)),
        ("2025-06-23T09:00:00+00:00", utc(2025, 6, 23, 7, 0)),
    ]


def test_a_this_and_future_change_in_the_feed_moves_booked_appointments() -> None:
    """What calendar sync sees: the same identities, later starts (no cancel and rebook)."""
    now = utc(2025, 6, 1)
    before = ics_appointments(ics(WEEKLY_FROM_JUNE), LONDON, now=now)
    old = {a.external_id: a.starts_at for a in before}
    changed = ics(
        WEEKLY_FROM_JUNE,
        "UID:t\nSUMMARY:Jane Doe\nRECURRENCE-ID;RANGE=THISANDFUTURE;TZID=Europe/London:"
        "20250609T100000\nDTSTART;TZID=Europe/London:20250610T100000",
    )
    new = {a.external_id: a.starts_at for a in ics_appointments(changed, LONDON, now=now)}

    assert new.keys() == old.keys()
    moved = [key for key in old if new[key] != old[key]]
    assert len(moved) == 4
    assert all(new[key] - old[key] == timedelta(days=1) for key in moved)


# --- real exports: other column names, day or month first, rows left out ------------


def test_an_outlook_export_month_first_with_am_pm_and_an_all_day_event() -> None:
    found = read_appointments(
        FIXTURES / "outlook_export.csv", LONDON, now=NOW, date_format=DateFormat.MDY
    )

    assert [(a.starts_at, a.name, a.note) for a in found.appointments] == [
        (utc(2031, 3, 27, 9, 30), "Jane Doe", "First visit, lower back"),  # GMT
        (utc(2031, 3, 28, 14, 0), "John Smith", "Neck and shoulders"),
    ]
    assert found.skipped == [Skipped("row 4", "all-day")]
    # 13/01 cannot be month first: that row is named, the others are booked.
    assert found.rejected == ["row 5: date '13/01/2031' is not a date (MDY)"]


def test_dates_written_day_first_are_never_guessed() -> None:
    text = "Start Date,Start Time,Patient\n02/03/2031,09:30,Jane Doe\n"

    [problem] = parse_csv(text, LONDON).rejected
    assert "--date-format DMY" in problem and "--date-format MDY" in problem
    [day_first] = csv_appointments(text, LONDON, date_format=DateFormat.DMY)
    [month_first] = csv_appointments(text, LONDON, date_format=DateFormat.MDY)
    assert day_first.starts_at == utc(2031, 3, 2, 9, 30)
    assert month_first.starts_at == utc(2031, 2, 3, 9, 30)
    [dotted] = csv_appointments(
        "start,name\n27.03.2031 09:30,Jane\n", LONDON, date_format=DateFormat.DMY
    )
    assert dotted.starts_at == utc(2031, 3, 27, 9, 30)


def test_cancelled_no_show_and_past_rows_are_skipped_and_counted() -> None:
    text = (
        "Appointment ID,Date,Time,Client Name,Status,Notes\n"
        "1,2025-03-27,09:30,Jane Doe,Booked,first visit\n"
        "2,2025-03-27,10:30,John Smith,Cancelled by client,\n"
        "3,2025-03-27,11:30,Anna Müller,No Show,\n"
        "4,2025-03-19,09:00,Tom Brown,Completed,\n"  # more than a day before NOW
        "5,2025-03-19,13:00,Eve Stone,,\n"  # within the day before NOW: kept
    )

    found = parse_csv(text, LONDON, now=NOW)

    assert [(a.external_id, a.name, a.note) for a in found.appointments] == [
        ("csv:1", "Jane Doe", "first visit"),
        ("csv:5", "Eve Stone", None),
    ]
    assert found.skipped == [
        Skipped("row 3", "cancelled"),
        Skipped("row 4", "no-show"),
        Skipped("row 5", "in the past"),
    ]
    assert found.rejected == []


def test_the_canonical_column_wins_over_another_name_for_it() -> None:
    [appointment] = csv_appointments(
        "Subject,Name,Date,Time\nBlocked: lunch,Jane Doe,2025-03-27,09:30\n", LONDON
    )
    assert appointment.name == "Jane Doe"


def test_skipped_events_are_counted_with_their_reason() -> None:
    data = ics(
        "UID:ok\nDTSTART:20250702T100000Z\nSUMMARY:Fine",
        "UID:gone\nDTSTART:20250702T110000Z\nSUMMARY:Gone\nSTATUS:CANCELLED",
        "UID:day\nDTSTART;VALUE=DATE:20250703\nSUMMARY:Holiday",
        "UID:old\nDTSTART:20250101T100000Z\nSUMMARY:Old",
    )

    found = parse_ics(data, LONDON, now=NOW)

    assert [a.external_id for a in found.appointments] == ["ics:ok"]
    assert [s.reason for s in found.skipped] == ["cancelled", "all-day", "in the past"]
    assert found.skipped[0].where == "event 2 (UID gone, 'Gone')"


def test_floating_times_follow_the_calendars_x_wr_timezone() -> None:
    data = ics(
        "UID:ny\nDTSTART:20250702T100000\nSUMMARY:Jane Doe", extra="X-WR-TIMEZONE:America/New_York"
    )
    [appointment] = ics_appointments(data, LONDON, now=NOW)
    assert appointment.starts_at == utc(2025, 7, 2, 14, 0)  # 10:00 EDT, not 10:00 BST
    unknown = ics("UID:x\nDTSTART:20250702T100000\nSUMMARY:Jane", extra="X-WR-TIMEZONE:Nowhere")
    [fallback] = ics_appointments(unknown, LONDON, now=NOW)
    assert fallback.starts_at == utc(2025, 7, 2, 9, 0)  # the clinic's zone


def test_an_event_with_two_starts_is_rejected_not_a_traceback() -> None:
    data = ics(
        "UID:two\nDTSTART:20250702T100000Z\nDTSTART:20250703T100000Z\nSUMMARY:A",
        "UID:one\nDTSTART:20250704T100000Z\nSUMMARY:B",
    )
    found = parse_ics(data, LONDON, now=NOW)
    assert [a.external_id for a in found.appointments] == ["ics:one"]
    assert found.rejected == ["event 1 (UID two, 'A'): DTSTART is given 2 times"]


def test_each_file_is_read_with_its_own_time_zone_definitions() -> None:
    # Two exports that define the same TZID differently (a custom zone name), one after the
    # other in one process, as the running bot reads a calendar again and again.
    def calendar(offset: str) -> bytes:
        zone = (
            "BEGIN:VTIMEZONE\r\nTZID:Clinic Time\r\nBEGIN:STANDARD\r\nDTSTART:19700101T000000\r\n"
            f"TZOFFSETFROM:{offset}\r\nTZOFFSETTO:{offset}\r\nTZNAME:CT\r\nEND:STANDARD\r\n"
            "END:VTIMEZONE"
        )
        return ics("UID:e\nDTSTART;TZID=Clinic Time:20250702T100000\nSUMMARY:A", extra=zone)

    [east] = ics_appointments(calendar("+0300"), LONDON, now=NOW)
    [west] = ics_appointments(calendar("-0500"), LONDON, now=NOW)
    assert east.starts_at == utc(2025, 7, 2, 7, 0)
    assert west.starts_at == utc(2025, 7, 2, 15, 0)


# --- real calendars from icalendar's own test suite (tests/fixtures/icalendar/) -----------

REAL_CALENDARS = sorted((FIXTURES / "icalendar").glob("*.ics"))
# The broken ones of that suite: not calendars at all, said in one line.
NOT_CALENDARS = {
    "big_bad_calendar.ics",
    "fuzz_testcase_0_char_in_component_name.ics",
    "fuzz_testcase_invalid_month.ics",
    "fuzz_testcase_vtimezone_lone_cr.ics",
    "issue_104_broken_calendar.ics",
    "parsing_error_in_UTC_offset.ics",
    "pr_480_summary_with_colon.ics",
    "small_bad_calendar.ics",
}


@pytest.mark.filterwarnings("ignore::UserWarning")  # icalendar's guesses at vendor TZIDs
@pytest.mark.parametrize("path", REAL_CALENDARS, ids=[p.name for p in REAL_CALENDARS])
def test_a_real_calendar_is_read_or_refused_in_one_line_never_a_traceback(path: Path) -> None:
    try:
        found = parse_ics(path.read_bytes(), LONDON, source=path.name, now=NOW)
    except AppointmentFileError as exc:
        assert path.name in NOT_CALENDARS, exc
        assert "\n" not in str(exc) and str(exc).startswith(f"{path.name}: not a")
        return
    assert path.name not in NOT_CALENDARS
    for appointment in found.appointments:
        assert appointment.starts_at.tzinfo is UTC
        assert appointment.external_id.startswith("ics:")
    assert all(problem.startswith("event ") for problem in found.rejected)


def test_the_real_calendars_are_many_and_mostly_readable() -> None:
    assert len(REAL_CALENDARS) >= 100
    assert len(NOT_CALENDARS) <= len(REAL_CALENDARS) // 10
