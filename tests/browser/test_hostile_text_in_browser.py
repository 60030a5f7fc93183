"""Issue 27 item 3: names and notes that came from files are shown as text on every page that
draws them - never Markdown (bold, links, remote images), LaTeX or HTML (plotly's labels) - and
no viewer's browser is made to fetch anything from an address a file named."""

import pytest

from kam_analytics import batches, db

from .test_pages_in_browser import _wait_ready

pytestmark = pytest.mark.browser

EVIL = "127.0.0.1:9"
MARKUP = (f"**bold** [link](http://{EVIL}/x) ![img](http://{EVIL}/i.png) $x^2$ "
          f'<a href="http://{EVIL}/">a</a> <img src=x>')
ACCOUNT = "Acme " + MARKUP
OWNER = f'Olivia <a href="http://{EVIL}/o">owner</a> **bold** $y^2$ <img src="http://{EVIL}/o.png">'
TEXT = "Note " + MARKUP          # deal names, plan texts, steps, reasons, the import's description


@pytest.fixture(scope="module")
def hostile_db(demo_db_factory, tmp_path_factory):
    """The demo data with one owner, one account, and that owner's deals, plans, steps and loss
    reasons renamed to hostile text; the facts to open each page on."""
    import shutil

    path = tmp_path_factory.mktemp("hostile") / "hostile.duckdb"
    shutil.copy(demo_db_factory(2000, 7), path)
    with batches.batch(path, "import", TEXT) as b:
        con = b.con
        old = con.execute("select owner from deals where status = 'open' group by owner "
                          "order by count(*) desc limit 1").fetchone()[0]
        owner_cols = con.execute("select table_name, column_name from information_schema.columns where table_schema "
                                 "= 'main' and data_type = 'VARCHAR' and column_name in ('owner', 'seller_owner', "
                                 "'account_owner') and table_name in (select table_name from information_schema.tables "
                                 "where table_type = 'BASE TABLE')").fetchall()
        for table, col in owner_cols:
            con.execute(f'update "{table}" set "{col}" = ? where "{col}" = ?', [OWNER, old])
            b.touched.add(table)
        account = con.execute("select a.account_id from accounts a join account_plans p using (account_id) "
                              "join deals d using (account_id) where d.owner = ? order by 1 limit 1",
                              [OWNER]).fetchone()[0]
        con.execute("update accounts set account_name = ? where account_id = ?", [ACCOUNT, account])
        con.execute("update account_plans set objective = ?, created_by = ?, customer_profile = ? where account_id = ?",
                    [TEXT, OWNER, TEXT, account])
        con.execute("update deals set deal_name = ?, segment = ? where owner = ?", [TEXT, OWNER, OWNER])
        con.execute("update deals set loss_reason = ? where status = 'lost' and owner = ?", [TEXT, OWNER])
        con.execute("update plans set problem = ?, proposed_solution = ?, buyer_owner = ? where deal_id in "
                    "(select deal_id from deals where owner = ?)", [TEXT, TEXT, OWNER, OWNER])
        con.execute("update plan_steps set step = ? || step where deal_id in (select deal_id from deals where owner = ?)",
                    [TEXT + " ", OWNER])
        b.touched |= {"accounts", "account_plans", "deals", "plans", "plan_steps"}
    with db.read(path) as con:
        open_deal = con.execute("select deal_id from deals where status = 'open' and owner = ? order by amount desc "
                                "limit 1", [OWNER]).fetchone()[0]
        mutual = con.execute("select p.deal_id from plans p join deals d using (deal_id) where d.owner = ? and "
                             "p.plan_type = 'mutual' and d.status = 'open' order by 1 limit 1", [OWNER]).fetchone()[0]
    return path, {"open_deal": open_deal, "mutual_deal": mutual, "account": account}


def _rendered_markup(page) -> dict:
    """What the hostile text must never become, counted in the page (and in plotly's SVG)."""
    return page.evaluate("""(evil) => {
        const links = [...document.querySelectorAll('a')].filter(a =>
            (a.getAttribute('href') || a.getAttribute('xlink:href') || '').includes(evil));
        const imgs = [...document.querySelectorAll('img')].filter(i =>
            (i.getAttribute('src') || '').includes(evil) || i.getAttribute('src') === 'x');
        const bold = [...document.querySelectorAll('strong, b')].filter(s => s.textContent.trim() === 'bold');
        const katex = document.querySelectorAll('.katex, .katex-html, math').length;
        return {links: links.length, images: imgs.length, bold: bold.length, katex: katex};
    }""", EVIL)


PAGES = [
    ("", "", "Last load"),
    ("risk", "?deal={open_deal}", "One deal's timeline"),
    ("mutual_plans", "?deal={mutual_deal}", "One mutual plan"),
    ("account", "?account={account}", "Account plan"),
    ("closing_plan", "?deal={open_deal}", "Realistic close date"),
    ("forecast", "", "Close-date pushes"),
    ("win_loss", "?by=owner", "Win rate by owner"),
    ("stage_durations", "?by=segment", "Median days in each stage"),
]


@pytest.fixture(scope="module")
def hostile_app(hostile_db, browser):
    """One app for the eight pages (starting one a page cost about a minute of the suite); its
    log holds no traceback at the end."""
    from .conftest import App

    app = App(hostile_db[0])
    yield app
    log = app.stop()
    assert "Traceback" not in log, log[-3000:]


@pytest.mark.parametrize("url_path, query, wait_text", PAGES, ids=[p[0] or "overview" for p in PAGES])
def test_hostile_names_are_shown_as_text(hostile_db, hostile_app, page, url_path, query, wait_text):
    path, facts = hostile_db
    app = hostile_app
    requests = []
    page.on("request", lambda r: requests.append(r.url) if EVIL in r.url else None)
    page.goto(f"{app.url}/{url_path}{query.format(**facts)}")
    page.wait_for_selector(f"text={wait_text}", timeout=90_000)
    _wait_ready(page)
    if page.locator(".js-plotly-plot").count():
        page.wait_for_selector(".js-plotly-plot .main-svg", state="attached", timeout=30_000)
    page.wait_for_timeout(1500)          # plotly draws its labels a moment after the page settles
    assert _rendered_markup(page) == {"links": 0, "images": 0, "bold": 0, "katex": 0}
    assert requests == []
    if url_path in ("", "risk", "mutual_plans", "account", "closing_plan"):
        assert "**bold**" in page.inner_text("body")     # the text is there, as the characters it has
