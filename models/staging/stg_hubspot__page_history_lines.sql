{#- One row per physical data line of pageview_hist.csv, parsed once and kept as a table. The
    Email column is never read. Whether the contact exists in the export is decided downstream
    (stg_hubspot__page_history, quarantined_rows), so the two files are parsed in parallel. -#}

{{ raw_lines_with_quarantine_reason('pageview_hist.csv', hubspot_page_history_columns()) }}
