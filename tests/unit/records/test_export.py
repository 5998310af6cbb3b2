import csv
import io
import json

from bot.content import Content
from bot.records.export import to_csv, to_json
from bot.vocabulary.people import Who
from storage import Storage
from tests.conftest import CLINIC_TZ
from tests.support.conversation import Conversation


async def test_csv_cells_never_start_a_spreadsheet_formula(
    service: Conversation, storage: Storage, content: Content
) -> None:
    who = Who(user_id=8, chat_id=8, first_name="=HYPERLINK(1)", language_code="en")
    outcome = await service.start(who)
    await service.button(who, outcome.replies[0].keyboard[0][0].data)
    await service.button(who, "t:1:areas:other")
    await service.button(who, "d:1:areas:")
    await service.text(who, "+SUM(A1:A9)")
    records = await storage.intake_records()
    catalog = content.catalog("en")

    text = to_csv(records, catalog, CLINIC_TZ).removeprefix("\ufeff")
    [row] = list(csv.DictReader(io.StringIO(text)))
    assert row["first_name"] == "'=HYPERLINK(1)"
    assert row["areas_other"] == "'+SUM(A1:A9)"
    # JSON keeps the exact text: it is not read by spreadsheets.
    data = json.loads(to_json(records, catalog, CLINIC_TZ))
    assert data["intakes"][0]["patient"]["first_name"] == "=HYPERLINK(1)"
