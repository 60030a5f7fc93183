"""Writes the messy sample files, one per quirk the importer handles, each with an
<name>.expected.json that states what a correct import gives: the kind, the sheet, the
header row, part of the mapping, the row count and the first stored row. The expected
values are written here by hand from the file's content, never copied from the importer.

    .venv/bin/python data/samples/messy/make_samples.py    (needs requirements-dev.txt)
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import sys

import pandas as pd
from openpyxl import Workbook

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parents[2]))


def text(name: str, content: str, encoding: str = "utf-8", newline: str = "\n") -> str:
    (HERE / name).write_bytes(content.replace("\n", newline).encode(encoding))
    return name


def book(name: str, sheets: dict[str, list[list]], merge: dict[str, list[str]] | None = None,
         protect: bool = False) -> str:
    wb = Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for r in rows:
            ws.append(r)
        for rng in (merge or {}).get(title, []):
            ws.merge_cells(rng)
        if protect:
            ws.protection.sheet = True
            ws.protection.password = "secret"
    wb.save(HERE / name)
    return name


DEALS = "Deal ID,Stage,Amount,Close Date\nS1,Proposal,1200,2026-03-31\nS2,Negotiation,800,2026-04-15\n"
FIRST = {"deal_id": "S1", "stage": "Proposal", "amount": 1200.0, "close_date": "2026-03-31"}
SAMPLES: list[tuple[str, dict]] = []


def sample(name: str, kind: str, rows: int, first: dict, mapping: dict, header_row: int = 1, sheet=None, table=None):
    SAMPLES.append((name, {"kind": kind, "sheet": sheet, "header_row": header_row, "rows": rows,
                           "mapping": mapping, "first_row": first, "table": table or kind}))


def main() -> None:
    base_map = {"Deal ID": "deal_id", "Stage": "stage", "Amount": "amount", "Close Date": "close_date"}
    sample(text("01_utf8_bom.csv", "\ufeff" + DEALS), "deals", 2, FIRST, base_map)
    sample(text("02_cp1252_euro.csv", "Deal ID;Account;Amount;Stage\nS1;Società Ärzte;€ 1.200,50;Proposal\n",
                encoding="cp1252"), "deals", 1,
           {"deal_id": "S1", "amount": 1200.5, "account_name": "Società Ärzte"}, {"Amount": "amount"})
    sample(text("03_semicolon_decimal_comma.csv", "Deal ID;Stage;Amount\nS1;Proposal;1.234,56\nS2;Lead;99,5\n"),
           "deals", 2, {"deal_id": "S1", "amount": 1234.56}, {"Amount": "amount"})
    sample(text("04_tab_delimited.tsv", DEALS.replace(",", "\t")), "deals", 2, FIRST, base_map)
    sample(text("05_pipe_delimited.txt", DEALS.replace(",", "|")), "deals", 2, FIRST, base_map)
    sample(text("06_thousands_comma.csv", 'Deal ID,Stage,Amount\nS1,Proposal,"1,234.56"\nS2,Lead,"12,000"\n'),
           "deals", 2, {"deal_id": "S1", "amount": 1234.56}, {"Amount": "amount"})
    sample(text("07_currency_and_percent.csv", "Deal ID,Stage,Amount,Probability (%)\nS1,Proposal,$1,200.00,40%\n"
                .replace("$1,200.00", '"$1,200.00"')), "deals", 1, {"deal_id": "S1", "amount": 1200.0},
           {"Amount": "amount", "Probability (%)": None})
    sample(text("08_dd_mm_yyyy.csv", "Deal ID,Stage,Close Date\nS1,Proposal,13/02/2026\nS2,Lead,01/03/2026\n"),
           "deals", 2, {"deal_id": "S1", "close_date": "2026-02-13"}, {"Close Date": "close_date"})
    sample(text("09_mm_dd_yyyy.csv", "Deal ID,Stage,Close Date\nS1,Proposal,02/13/2026\nS2,Lead,03/01/2026\n"),
           "deals", 2, {"deal_id": "S1", "close_date": "2026-02-13"}, {"Close Date": "close_date"})
    sample(book("10_excel_serial_dates.xlsx", {"Deals": [["Deal ID", "Stage", "Close Date"], ["S1", "Proposal", 46112]]}),
           "deals", 1, {"deal_id": "S1", "close_date": "2026-03-31"}, {"Close Date": "close_date"}, sheet="Deals")
    sample(text("11_datetimes_with_and_without_seconds.csv",
                "Deal ID,Changed At,Stage\nS1,2026-01-05 10:30,Lead\nS1,2026-01-07 09:15:45,Proposal\n"),
           "deal_history", 2, {"deal_id": "S1", "changed_at": "2026-01-05 10:30:00", "stage": "Lead"},
           {"Changed At": "changed_at"})
    sample(text("12_italian_month_names.csv", "ID trattativa,Fase,Data di chiusura\nT1,Proposta,12 gennaio 2026\n"
                "T2,Proposta,3 febbraio 2026\n"), "deals", 2, {"deal_id": "T1", "close_date": "2026-01-12"},
           {"Data di chiusura": "close_date", "Fase": "stage"})
    sample(book("13_banner_and_filters.xlsx", {"Report": [
        ["Opportunities report"], ["Filtered by: Region = EMEA"], [], ["Deal ID", "Stage", "Amount"],
        ["S1", "Proposal", 1200], ["S2", "Lead", 800]]}), "deals", 2, {"deal_id": "S1", "amount": 1200.0},
        {"Deal ID": "deal_id"}, header_row=4, sheet="Report")
    sample(book("14_blank_rows_and_columns.xlsx", {"Data": [
        [], [None, None], [None, "Deal ID", "Stage", "Amount"], [None, "S1", "Proposal", 1200], [],
        [None, "S2", "Lead", 800]]}), "deals", 2, {"deal_id": "S1", "amount": 1200.0}, {"Deal ID": "deal_id"},
        header_row=3, sheet="Data")
    sample(book("15_merged_title.xlsx", {"Pipeline": [
        ["Pipeline Q1 2026", None, None], ["Deal ID", "Stage", "Amount"], ["S1", "Proposal", 1200]]},
        merge={"Pipeline": ["A1:C1"]}), "deals", 1, {"deal_id": "S1"}, {"Stage": "stage"}, header_row=2,
        sheet="Pipeline")
    sample(book("16_footer_totals.xlsx", {"Deals": [
        ["Deal ID", "Stage", "Amount"], ["S1", "Proposal", 1200], ["S2", "Lead", 800], ["Grand Total", None, 2000],
        ["Count", 2, None]]}), "deals", 2, {"deal_id": "S1", "amount": 1200.0}, {"Amount": "amount"}, sheet="Deals")
    sample(book("17_italian_totale.xlsx", {"Trattative": [
        ["ID trattativa", "Fase", "Importo"], ["T1", "Proposta", "1.000,00"], ["Totale", None, "1.000,00"]]}),
        "deals", 1, {"deal_id": "T1", "amount": 1000.0}, {"Importo": "amount"}, sheet="Trattative")
    sample(book("18_key_value_block.xlsx", {"Piano": [
        ["Cliente:", "Alpha Foods"], ["Creato da", "Mario Rossi"], [],
        ["Fase di azione", "Responsabile", "Descrizione", "Stato", "Azionisti esterni", "Note/Vincoli", "Scadenza"],
        ["Incontro", "Mario Rossi", "Presentare la roadmap", "In corso", "Direttore IT", "Budget a gennaio", "2026-03-31"]]}),
        "account_actions", 1, {"action_step": "Incontro", "status": "in progress", "notes": "Budget a gennaio",
                               "due_date": "2026-03-31", "account_id": "alphafoods"},
        {"Fase di azione": "action_step", "Azionisti esterni": "external_stakeholders", "Note/Vincoli": "notes"},
        header_row=4, sheet="Piano")
    sample(book("19_two_tables_one_sheet.xlsx", {"Data": [
        ["Deal ID", "Stage", "Amount"], ["S1", "Proposal", 1200], [], [],
        ["Account", "Industry", "Tier"], ["Alpha Foods", "Retail", "key"]]}), "deals", 1, {"deal_id": "S1"},
        {"Deal ID": "deal_id"}, sheet="Data")
    sample(book("20_macro_workbook.xlsm", {"Deals": [["Deal ID", "Stage"], ["S1", "Proposal"]]}), "deals", 1,
           {"deal_id": "S1", "stage": "Proposal"}, {"Stage": "stage"}, sheet="Deals")
    pd.DataFrame({"Deal ID": ["S1"], "Stage": ["Proposal"], "Amount": [1200.0]}).to_excel(
        HERE / "21_open_document.ods", engine="odf", index=False, sheet_name="Deals")
    sample("21_open_document.ods", "deals", 1, {"deal_id": "S1", "amount": 1200.0}, {"Amount": "amount"}, sheet="Deals")
    sample(book("22_sheet_protected.xlsx", {"Deals": [["Deal ID", "Stage"], ["S1", "Proposal"]]}, protect=True),
           "deals", 1, {"deal_id": "S1"}, {"Deal ID": "deal_id"}, sheet="Deals")
    sample(text("23_salesforce_opportunities.csv",
                "Opportunity ID,Opportunity Name,Account Name,Opportunity Owner,Amount,Close Date,Stage,"
                "Probability (%),Forecast Category,Created Date,Lead Source\n"
                "006A1,Alpha renewal,Alpha Foods,Anna Smith,12000,3/31/2026,Proposal,60,Best Case,1/15/2026,Web\n"),
           "deals", 1, {"deal_id": "006A1", "owner": "Anna Smith", "close_date": "2026-03-31",
                        "created_date": "2026-01-15", "source": "Web"},
           {"Opportunity ID": "deal_id", "Opportunity Owner": "owner", "Lead Source": "source",
            "Forecast Category": "forecast_category"})
    sample(text("24_hubspot_deals.csv",
                'Record ID,Deal Name,Deal Stage,Amount,Close Date,Create Date,Deal owner,Associated Company,'
                '"Date entered ""Closed won (Sales Pipeline)"""\n'
                "9001,Beta expansion,Closed won,5000,2026-02-20,2026-01-10,Ben Lee,Beta Motors,2026-02-20 14:00\n"),
           "deals", 1, {"deal_id": "9001", "stage": "Closed won", "owner": "Ben Lee", "created_date": "2026-01-10"},
           {"Record ID": "deal_id", "Deal Stage": "stage", "Associated Company": "account_name"})
    sample(text("25_pipedrive_deals.csv",
                "Deal - ID,Deal - Title,Deal - Value,Deal - Currency,Deal - Stage,Deal - Owner,"
                "Deal - Expected close date,Deal - Deal created,Deal - Organization\n"
                "77,Gamma pilot,3500,EUR,Proposal Made,Carla Neri,2026-05-01,2026-02-01,Gamma Srl\n"),
           "deals", 1, {"deal_id": "77", "amount": 3500.0, "currency": "EUR", "account_name": "Gamma Srl"},
           {"Deal - ID": "deal_id", "Deal - Value": "amount", "Deal - Expected close date": "close_date"})
    sample(text("26_dynamics_opportunities.csv",
                "Topic,Potential Customer,Est. Revenue,Est. Close Date,Pipeline Phase,Owner,Created On,Opportunity\n"
                "Delta upgrade,Delta Inc,9000,2026-06-30,3-Propose,Dan Roe,2026-03-01,OPP-1\n"),
           "deals", 1, {"deal_id": "OPP-1", "deal_name": "Delta upgrade", "amount": 9000.0},
           {"Topic": "deal_name", "Est. Revenue": "amount", "Pipeline Phase": "stage", "Opportunity": "deal_id"})
    sample(text("27_zoho_deals.csv",
                "Record Id,Deal Name,Account Name,Amount,Closing Date,Stage,Deal Owner,Created Time,Probability (%)\n"
                "Z1,Epsilon deal,Epsilon Ltd,4200,2026-07-15,Qualification,Eva Ko,2026-04-01 09:30:00,20\n"),
           "deals", 1, {"deal_id": "Z1", "close_date": "2026-07-15", "owner": "Eva Ko"},
           {"Closing Date": "close_date", "Deal Owner": "owner", "Created Time": "created_date"})
    sample(text("28_salesforce_field_history.csv",
                "Opportunity ID,Edit Date,Field / Event,Old Value,New Value\n"
                "006A1,2026-01-20 10:00,Stage,Qualification,Proposal\n006A1,2026-02-01 09:00,Amount,10000,12000\n"),
           "deal_field_history", 2, {}, {"Field / Event": "field", "Old Value": "old_value"}, table="deal_history")
    sample(text("29_unknown_columns_kept_visible.csv", "Deal ID,Stage,Favourite colour,Amount\nS1,Lead,blue,10\n"),
           "deals", 1, {"deal_id": "S1", "amount": 10.0}, {"Favourite colour": None, "Amount": "amount"})
    sample(text("30_crlf_quoted_newlines.csv",
                'Deal ID,Deal Name,Stage\nS1,"Alpha, phase 1\nand 2",Proposal\nS2,Plain,Lead\n', newline="\r\n"),
           "deals", 2, {"deal_id": "S1", "deal_name": "Alpha, phase 1\r\nand 2"}, {"Deal Name": "deal_name"})
    sample(text("31_wide_stage_dates.csv",
                "opportunity_id,deal_stage,engage_date,close_date,close_value\nW1,Won,2017-01-05,2017-02-01,500\n"
                "W2,Engaging,2017-01-09,,\n"),
           "deals", 2, {"deal_id": "W1", "stage": "Won", "created_date": "2017-01-05", "closed_date": "2017-02-01"},
           {"opportunity_id": "deal_id", "close_value": "amount"})
    # --- values: timestamps and numbers (samples 32-39) ---
    # a US-locale CRM report: mm/dd/yyyy (12/15 decides it) on a 12-hour clock; 12:05 AM is 00:05
    sample(text("32_us_stage_history_12_hour.csv",
                "Opportunity ID,Stage,Last Modified Date\nO1,Prospecting,11/28/2025 4:15 PM\n"
                "O2,Proposal,12/1/2025 9:40 AM\nO3,Negotiation,12/15/2025 12:05 PM\nO4,Closed Won,1/2/2026 12:05 AM\n"),
           "deal_history", 4, {"deal_id": "O2", "stage": "Proposal", "changed_at": "2025-12-01 09:40:00"},
           {"Last Modified Date": "changed_at", "Opportunity ID": "deal_id"}, table="deal_history")
    # an API export: Z and offsets are dropped, the written wall-clock time is kept (18:05:30, not 17:05:30)
    sample(text("33_api_export_utc_offsets.csv",
                "Deal ID,Stage,Changed At\nA1,Lead,2025-12-01T09:40:00Z\nA2,Proposal,2025-12-01T09:40:00+0000\n"
                "A3,Negotiation,2025-12-02T18:05:30+01:00\nA4,Lead,2025-12-03T23:30:00.125-05:00\n"),
           "deal_history", 4, {"deal_id": "A3", "stage": "Negotiation", "changed_at": "2025-12-02 18:05:30"},
           {"Changed At": "changed_at"}, table="deal_history")
    # a date taken from a timestamp with an offset: the written day (12-01), not the UTC day (12-02)
    sample(text("34_deals_created_with_offset.csv",
                "Deal ID,Stage,Amount,Created Date,Close Date\nZ1,Lead,5000,2025-12-01T23:40:00-05:00,2026-03-31\n"
                "Z2,Lead,7000,2025-12-05T08:00:00Z,2026-04-30\n"),
           "deals", 2, {"deal_id": "Z1", "amount": 5000.0, "created_date": "2025-12-01", "close_date": "2026-03-31"},
           {"Created Date": "created_date"})
    sample(text("35_year_first_slashes.csv",
                "Deal ID,Stage,Amount,Created Date,Close Date\nY1,Proposal,1200,2025/11/03 14:20,2026/03/31\n"
                "Y2,Lead,800,2025/11/04 09:05,2026/4/15\n"),
           "deals", 2, {"deal_id": "Y1", "created_date": "2025-11-03", "close_date": "2026-03-31"},
           {"Created Date": "created_date", "Close Date": "close_date"})
    # an Italian deals file: 25.000 is twenty-five thousand because 12.500,50 has a decimal comma
    sample(text("36_italian_whole_thousands.csv",
                "ID trattativa;Fase;Importo;Data di chiusura\nT1;Proposta;25.000;31/03/2026\n"
                "T2;Proposta;1.000;15/04/2026\nT3;Negoziazione;12.500,50;30/04/2026\n"),
           "deals", 3, {"deal_id": "T1", "amount": 25000.0, "close_date": "2026-03-31"}, {"Importo": "amount"})
    # an Italian stage history whose amounts are all whole thousands: the probability (12,5) decides
    sample(text("37_italian_history_file_decides.csv",
                "ID trattativa;Data modifica;Fase;Importo;Probabilità\n"
                "T1;15/01/2026 09:30;Proposta;25.000;12,5\nT2;03/02/2026 17:45;Negoziazione;1.000;40\n"),
           "deal_history", 2, {"deal_id": "T1", "changed_at": "2026-01-15 09:30:00", "amount": 25000.0,
                               "probability": 0.125},
           {"Importo": "amount", "Probabilità": "probability", "Data modifica": "changed_at"}, table="deal_history")
    # thousands grouped by a space and by a non-breaking space, decimal comma
    sample(text("38_space_thousands.csv",
                "Deal ID;Stage;Amount\nS1;Proposal;12 500,00\nS2;Lead;3\u00a0250,75\nS3;Lead;1 000\n"),
           "deals", 3, {"deal_id": "S1", "amount": 12500.0}, {"Amount": "amount"})
    # dd.mm.yyyy on a 12-hour clock: AM/PM is no sign of month-first, 13.01 decides day-first
    sample(text("39_dotted_dates_12_hour.csv",
                "Deal ID,Stage,Changed At\nE1,Lead,13.01.2026 9:40 PM\nE2,Proposal,02.03.2026 12:05 AM\n"),
           "deal_history", 2, {"deal_id": "E2", "stage": "Proposal", "changed_at": "2026-03-02 00:05:00"},
           {"Changed At": "changed_at"}, table="deal_history")

    # --- tables: summary lines, workbooks (samples 40-47) ---
    # a Salesforce field-change log's footer: 'Grand Totals (1519 records)' is no change
    sample(text("40_field_history_grand_totals.csv",
                "Opportunity ID,Edit Date,Field / Event,Old Value,New Value\n"
                "006A1,2026-01-20 10:00,Stage,Qualification,Proposal\n006A1,2026-02-01 09:00,Amount,10000,12000\n"
                "006A2,2026-02-03 11:00,Stage,Proposal,Negotiation\n,,,,\nGrand Totals (1519 records),,,,\n"),
           "deal_field_history", 3, {}, {"Field / Event": "field", "New Value": "new_value"}, table="deal_history")
    # a grouped report: a subtotal after each group (its label beside it, or in the cell), a grand total
    sample(text("41_grouped_report_subtotals.csv",
                "Account Name,Opportunity ID,Opportunity Name,Stage,Amount\n"
                "Alpha Foods,G1,Alpha renewal,Proposal,1000\nAlpha Foods,G2,Alpha pilot,Negotiation,2500\n"
                "Subtotal Alpha Foods,,,,3500\n"
                "Beta Motors,G3,Beta expansion,Proposal,4000\n"
                "Subtotal,Beta Motors,,,4000\n"
                "Grand Total (3 records),,,,7500\n"),
           "deals", 3, {"deal_id": "G1", "deal_name": "Alpha renewal", "amount": 1000.0, "account_name": "Alpha Foods"},
           {"Opportunity ID": "deal_id", "Amount": "amount"})
    # Italian: a report title, a subtotal per stage and the 'Totale complessivo' footer
    sample(book("42_italian_totale_complessivo.xlsx", {"Trattative": [
        ["Report trattative - marzo 2026"], [],
        ["Fase", "ID trattativa", "Nome trattativa", "Cliente", "Importo"],
        ["Proposta", "T1", "Rinnovo", "Alfa Srl", "1.250,50"], ["Proposta", "T2", "Pilota", "Beta SpA", "2.000,00"],
        ["Totale Proposta", None, None, None, "3.250,50"],
        ["Negoziazione", "T3", "Espansione", "Gamma Srl", "10.000,00"],
        ["Totale Negoziazione", None, None, None, "10.000,00"],
        ["Totale complessivo", None, None, None, "13.250,50"]]}),
        "deals", 3, {"deal_id": "T1", "stage": "Proposta", "amount": 1250.5, "account_name": "Alfa Srl"},
        {"Importo": "amount", "Fase": "stage"}, header_row=3, sheet="Trattative")
    # a chart sheet before the data sheet (the chart is no data; the sheet's cells read as written)
    from openpyxl.chart import BarChart, Reference

    wb = Workbook()
    ws = wb.active
    ws.title = "Pipeline"
    for r in (["Deal ID", "Stage", "Amount"], ["C1", "Proposal", 1200], ["C2", "Lead", 800], ["Total", None, 2000]):
        ws.append(r)
    chart = BarChart()
    chart.add_data(Reference(ws, min_col=3, min_row=1, max_row=3), titles_from_data=True)
    wb.create_chartsheet("Chart", 0).add_chart(chart)
    wb.save(HERE / "43_chart_sheet_first.xlsx")
    sample("43_chart_sheet_first.xlsx", "deals", 2, {"deal_id": "C1", "amount": 1200.0}, {"Amount": "amount"},
           sheet="Pipeline")
    # a deal named 'Total Gym renewal' (first column, its account and stage filled) stays a deal
    sample(text("44_deal_named_total_kept.csv",
                "Deal Name,Deal ID,Account,Stage,Amount\nTotal Gym renewal,K1,Total Gym,Proposal,5000\n"
                "Alpha pilot,K2,Alpha Foods,Lead,700\nTotal,,,,5700\n"),
           "deals", 2, {"deal_id": "K1", "deal_name": "Total Gym renewal", "account_name": "Total Gym",
                        "amount": 5000.0}, {"Deal Name": "deal_name"})
    # an account called 'Totale Srl' in the first column, other text cells filled, above 'Totale (2 righe)'
    sample(book("45_account_named_totale_kept.xlsx", {"Clienti": [
        ["Cliente", "ID trattativa", "Fase", "Importo"], ["Totale Srl", "TS1", "Proposta", 900],
        ["Alfa Srl", "TS2", "Proposta", 100], ["Totale (2 righe)", None, None, 1000]]}),
        "deals", 2, {"deal_id": "TS1", "account_name": "Totale Srl", "amount": 900.0}, {"Cliente": "account_name"},
        sheet="Clienti")
    # Excel's Data > Subtotal: '<group> Total' under each group, 'Grand Total' at the foot
    sample(book("46_excel_subtotal_command.xlsx", {"Deals": [
        ["Owner", "Deal ID", "Stage", "Amount"], ["Anna Smith", "X1", "Proposal", 1000],
        ["Anna Smith", "X2", "Lead", 500], ["Anna Smith Total", None, None, 1500],
        ["Ben Lee", "X3", "Proposal", 250], ["Ben Lee Total", None, None, 250], ["Grand Total", None, None, 1750]]}),
        "deals", 3, {"deal_id": "X1", "owner": "Anna Smith", "amount": 1000.0}, {"Owner": "owner"}, sheet="Deals")
    # a HubSpot-like export with a record count footer and an error value in a column not imported
    sample(text("47_record_count_footer.csv",
                "Record ID,Deal Name,Deal Stage,Amount,Favourite colour\n9101,Omega deal,Proposal,300,#N/A\n"
                "9102,Sigma deal,Lead,200,blue\nRecord count: 2,,,,\n"),
           "deals", 2, {"deal_id": "9101", "deal_name": "Omega deal", "amount": 300.0},
           {"Record ID": "deal_id", "Favourite colour": None})

    # --- shapes, words and headers (samples 48-69) ---
    sample(text("48_italian_crm_export.csv",
                "ID trattativa;Titolo;Proprietario;Fase;Importo;Data di creazione;Data chiusura prevista;"
                "Categoria previsione\n"
                "T1;Rinnovo Alfa;Marco Bianchi;Proposta;25.000;03/02/2026;31/03/2026;Impegno\n"
                "T2;Espansione Beta;Giulia Verdi;Negoziazione;1.250,50;15/01/2026;30/04/2026;Migliore dei casi\n"),
           "deals", 2, {"deal_id": "T1", "deal_name": "Rinnovo Alfa", "owner": "Marco Bianchi", "amount": 25000.0,
                        "created_date": "2026-02-03", "close_date": "2026-03-31", "forecast_category": "commit"},
           {"Titolo": "deal_name", "Proprietario": "owner", "Data chiusura prevista": "close_date",
            "Categoria previsione": "forecast_category"})
    sample(book("49_italian_account_map.xlsx", {"Mappa": [
        ["Cliente", "Nome e cognome", "Carica", "Ruolo", "Riporta a", "Influenza", "Atteggiamento"],
        ["Alpha Foods", "Anna Neri", "CFO", "Acquirente economico", None, 5, "Favorevole"],
        ["Alpha Foods", "Bruno Sala", "CIO", "Decisore", "Anna Neri", 4, "Neutrale"],
        ["Alpha Foods", "Carla Riva", "IT manager", "Utente finale", "Bruno Sala", 2, "Critica"]]}),
        "stakeholders", 3, {"name": "Anna Neri", "title": "CFO", "role": "economic buyer", "sentiment": "supporter",
                            "influence": 5},
        {"Nome e cognome": "name", "Carica": "title", "Ruolo": "role", "Atteggiamento": "sentiment"}, sheet="Mappa")
    sample(book("50_mutual_plan_header_without_type.xlsx", {"MAP": [
        ["Mutual action plan"], [], ["Deal ID", "D-7"], ["Buyer owner", "Laura Bianchi"],
        ["Seller owner", "Marco Rossi"], ["Problem", "Manual invoicing"], ["Buyer signed", "2026-02-01"], [],
        ["Step", "Side", "Due date", "Completed date"],
        ["Recap of needs", "joint", "2026-01-10", "2026-01-09"], ["Security review", "buyer", "2026-02-15", None]]}),
        "plan_steps", 2, {"step": "Recap of needs", "deal_id": "D-7", "plan_type": "mutual", "side": "joint",
                          "completed_date": "2026-01-09"},
        {"Step": "step", "Side": "side"}, header_row=9, sheet="MAP")
    sample(text("51_wide_stage_never_current.csv",
                "Deal ID,Stage,Created Date,Date entered Qualify,Date entered Proposal\n"
                "W1,Proposal,2026-01-02,2026-01-02,2026-01-10\nW2,Proposal,2026-01-05,2026-01-06,2026-01-20\n"),
           "deals", 2, {"deal_id": "W1", "stage": "Proposal", "created_date": "2026-01-02"},
           {"Date entered Qualify": None, "Stage": "stage"})
    sample(text("52_field_log_cleared_value.csv",
                "Opportunity ID,Edit Date,Field / Event,Old Value,New Value\n"
                "G1,2026-01-05 10:00,Stage,Lead,Proposal\nG1,2026-01-09 16:30,Close Date,2026-03-31,\n"
                "G2,2026-01-07 08:00,Stage,Lead,Qualify\n"),
           "deal_field_history", 3, {}, {"New Value": "new_value", "Edit Date": "changed_at"}, table="deal_history")
    sample(book("53_italian_action_plan.xlsx", {"Piano": [
        ["Cliente:", "Beta Srl"], [],
        ["Fase di azione", "Proprietario", "Stato", "Entro il", "Completato il"],
        ["Demo", "Luca Neri", "Completato", "2026-02-01", "2026-01-30"],
        ["Revisione", "Luca Neri", "In lavorazione", "2026-03-01", None]]}),
        "account_actions", 2, {"action_step": "Demo", "owner": "Luca Neri", "status": "done", "due_date": "2026-02-01",
                               "completed_date": "2026-01-30", "account_name": "Beta Srl"},
        {"Proprietario": "owner", "Entro il": "due_date", "Completato il": "completed_date"}, header_row=3,
        sheet="Piano")
    # a csv export saved with the workbook's extension: read as what it is (its bytes), with a note
    sample(text("54_csv_named_xlsx.xlsx",
                "ID opportunità;Fase;Importo;Data chiusura\nX1;Proposta;1.250,50;31/03/2026\n"
                "X2;Negoziazione;800;15/04/2026\n"),
           "deals", 2, {"deal_id": "X1", "stage": "Proposta", "amount": 1250.5, "close_date": "2026-03-31"},
           {"Importo": "amount", "Data chiusura": "close_date"})

    # filled templates in both languages, beside the messy files
    from kam_analytics import templates

    filled = HERE.parent / "templates"
    filled.mkdir(exist_ok=True)
    for kind in templates.KINDS:
        for lang in templates.LANGS:
            (filled / f"{kind}-{lang}.xlsx").write_bytes(templates.build(kind, lang))
    for name, expected in SAMPLES:
        (HERE / f"{Path(name).stem}.expected.json").write_text(json.dumps(expected, indent=1, ensure_ascii=False) + "\n",
                                                              encoding="utf-8")
    print(f"wrote {len(SAMPLES)} samples")


if __name__ == "__main__":
    main()
