import csv
import io
import json

from bot.content import Content
from bot.export import to_csv, to_json
from bot.intake.service import IntakeService, Who
from storage import Storage


async def test_csv_cells_never_start_a_spreadsheet_formula(
    service: IntakeService, storage: Storage, content: Content
) -> None:
    who = Who(user_id=8, chat_id=8, first_name="=HYPERLINK(1)", language_code="en")
    outcome = await service.start(who)
    await service.button(who, outcome.replies[0].keyboard[0][0].data)
    await service.button(who, "t:1:areas:other")
    await service.button(who, "d:1:areas:")
    await service.text(who, "+SUM(A1:A9)")
    records = await storage.intake_records()
    catalog = content.catalog("en")

    rows = list(csv.DictReader(io.StringIO(to_csv(records, catalog))))
    assert {row["first_name"] for row in rows} == {"'=HYPERLINK(1)"}
    assert [r["value"] for r in rows if r["question_id"] == "areas_other"] == ["'+SUM(A1:A9)"]
    # JSON keeps the exact text: it is not read by spreadsheets.
    data = json.loads(to_json(records, catalog))
    assert data["intakes"][0]["patient"]["first_name"] == "=HYPERLINK(1)"
