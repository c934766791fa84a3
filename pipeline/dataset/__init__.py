"""The dataset: records into tables, schemas and package, review files, workbook, publication."""
