"""Tables: CSV and console tables, labelled summary columns, workbooks, catalogues."""
