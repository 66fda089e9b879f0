{#- One row per physical data line of hubspot_export.csv, parsed once and kept as a table so that
    staging and quarantined_rows read the file a single time. -#}

{{ raw_lines_with_quarantine_reason('hubspot_export.csv', hubspot_contacts_columns()) }}
