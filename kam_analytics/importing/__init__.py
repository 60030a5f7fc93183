"""Importing the spreadsheets teams keep (docs/data.md "The flow" and "Bad input"): read,
find the table, recognise its kind and map its columns, coerce and validate, load in one
transaction as one undoable batch."""
