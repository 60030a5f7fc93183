"""Uploading files in the browser: a messy workbook loads and its rows show on the Data
page; a bad file shows its message and loads nothing."""

import pytest
from openpyxl import Workbook

from .conftest import screenshot

pytestmark = pytest.mark.browser


def _ready(page):
    page.wait_for_selector("[data-testid=stApp]")
    page.wait_for_function("() => !document.querySelector('[data-testid=stStatusWidget]')", timeout=30_000)
    assert page.locator("text=Traceback").count() == 0


def _messy_workbook(path):
    wb = Workbook()
    ws = wb.active
    ws.title = "Opportunità"
    ws.append(["Report opportunità — filtrato per regione EMEA"])
    ws.append([])
    ws.append(["ID trattativa", "Nome trattativa", "Fase", "Importo", "Data di chiusura"])
    ws.append(["T-1", "Rinnovo", "Proposta", "1.234,50", "12 gennaio 2026"])
    ws.append(["T-2", "Espansione", "Negoziazione", "20.000,00", "3 febbraio 2026"])
    ws.append(["Totale", None, None, "21.234,50", None])
    wb.save(path)
    return path


def test_upload_a_messy_workbook_and_see_its_rows(tmp_path, serve, page):
    app = serve(tmp_path / "empty.duckdb")
    page.goto(f"{app.url}/import")
    _ready(page)
    page.locator("input[type=file]").set_input_files(str(_messy_workbook(tmp_path / "opportunita.xlsx")))
    page.wait_for_selector("text=The first rows as they will be stored", timeout=30_000)
    _ready(page)
    assert page.locator("text=header on row 3").count() >= 1
    page.get_by_role("button", name="Load", exact=True).wait_for()
    screenshot(page, "import_preview")
    assert page.locator("[data-testid=stFileUploader]").filter(has_text="opportunita.xlsx").count() == 1
    page.get_by_role("button", name="Load", exact=True).click()
    page.wait_for_selector("text=loaded as batch", timeout=30_000)
    _ready(page)
    # issue 26: after Load the history, the data version and the uploader show the new state
    # (the page reruns once more after the message: wait for it on a loaded machine)
    page.wait_for_selector("text=Nothing imported yet", state="detached", timeout=30_000)
    assert page.locator("text=data version 1").count() >= 1
    assert page.locator("[data-testid=stFileUploader]").filter(has_text="opportunita.xlsx").count() == 0
    screenshot(page, "import_loaded")
    # after Undo: a message, and the confirm box is unticked again (one more click cannot undo the undo)
    page.get_by_text("Yes, undo it").click()
    page.get_by_role("button", name="Undo", exact=True).click()
    page.wait_for_selector("text=Undone: batch(es) 1", timeout=30_000)
    _ready(page)
    assert page.get_by_role("button", name="Undo", exact=True).is_disabled()
    screenshot(page, "import_undone")
    page.goto(f"{app.url}/data?table=deals")
    page.wait_for_selector("text=0 row(s) match", timeout=30_000)
    _ready(page)
    screenshot(page, "data_deals")


def test_upload_a_bad_file_and_see_the_message(tmp_path, serve, page):
    bad = tmp_path / "deals.csv"
    bad.write_text("Deal ID,Stage,Amount\nN1,Lead,1000\nN2,Lead,-5\n", encoding="utf-8")
    app = serve(tmp_path / "empty.duckdb")
    page.goto(f"{app.url}/import")
    _ready(page)
    page.locator("input[type=file]").set_input_files(str(bad))
    page.wait_for_selector("text=1 bad value(s)", timeout=30_000)
    _ready(page)
    assert page.get_by_role("button", name="Load", exact=True).is_disabled()
    screenshot(page, "import_bad_file")


def test_an_unknown_word_is_asked_answered_and_loads(tmp_path, serve, page):
    """Issue 23, defect 4: 'Sponsor esecutivo' is no known role: the preview asks what it is;
    once answered, the batch loads (never a dead-end rejection)."""
    stakeholders = tmp_path / "mappa.csv"
    stakeholders.write_text("Cliente;Nome;Ruolo\nAlpha Foods;Anna Neri;Acquirente economico\n"
                            "Alpha Foods;Carla Riva;Sponsor esecutivo\n", encoding="utf-8")
    app = serve(tmp_path / "empty.duckdb")
    page.goto(f"{app.url}/import")
    _ready(page)
    page.locator("input[type=file]").set_input_files(str(stakeholders))
    page.wait_for_selector("text=Words to map", timeout=30_000)
    _ready(page)
    assert page.get_by_role("button", name="Load", exact=True).is_disabled()
    screenshot(page, "import_value_question")
    page.locator("[data-testid=stSelectbox]").filter(has_text="Sponsor esecutivo").click()
    page.get_by_role("option", name="economic buyer").click()
    page.get_by_role("button", name="Check again with these answers").click()
    page.wait_for_function("() => !document.body.innerText.includes('Words to map')", timeout=30_000)
    _ready(page)
    page.get_by_role("button", name="Load", exact=True).click()
    page.wait_for_selector("text=loaded as batch", timeout=30_000)
    screenshot(page, "import_value_answered")
