"""Issue 27, item 8: an upload whose name is 300 characters long (a browser allows it; a file
system allows 255 bytes) showed "Something went wrong: OSError" on the Import page. The copy the
page writes gets a shortened name; the page, the messages and the import log keep the name as
uploaded."""

import pytest

from kam_analytics import db

from .conftest import screenshot

pytestmark = pytest.mark.browser

LONG = "Pipeline " + "q" * 291 + ".csv"          # 9 + 291 + 4 = 304 characters


def _ready(page):
    page.wait_for_selector("[data-testid=stApp]")
    page.wait_for_function("() => !document.querySelector('[data-testid=stStatusWidget]')", timeout=30_000)
    assert page.locator("text=Traceback").count() == 0


def test_a_300_character_upload_name_is_read_and_loaded(tmp_path, serve, page):
    assert len(LONG) == 304
    path = tmp_path / "empty.duckdb"
    app = serve(path)
    page.goto(f"{app.url}/import")
    _ready(page)
    rows = b"Deal ID,Deal name,Stage,Amount,Close date\nN1,Renewal,Lead,1000,2026-09-30\n"
    page.locator("input[type=file]").set_input_files(files=[{"name": LONG, "mimeType": "text/csv", "buffer": rows}])
    page.wait_for_selector("text=The first rows as they will be stored", timeout=30_000)
    _ready(page)
    assert page.locator("text=Something went wrong").count() == 0
    assert page.locator("text=OSError").count() == 0
    page.get_by_role("button", name="Load", exact=True).click()
    page.wait_for_selector("text=loaded as batch", timeout=30_000)
    _ready(page)
    screenshot(page, "import_long_name")
    app.stop()
    with db.read(app.db_file) as con:       # the import log keeps the name as uploaded
        assert con.execute("select file_name from import_files").fetchall() == [(LONG,)]
        assert con.execute("select deal_id from deals").fetchall() == [("N1",)]
