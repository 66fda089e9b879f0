{#- One row per CSV record of pageview_hist (or per row of the table), like
    base_hubspot__contact_records. The Email column is never selected and is blanked in kept raw
    text. Whether the contact exists in the export is decided downstream. -#}
{{ config(
    pre_hook=[
        "{{ customer_journeys.check_raw_input('pageview_hist') }}",
        "{{ customer_journeys.check_raw_header('pageview_hist', customer_journeys.hubspot_page_history_columns(), customer_journeys.hubspot_page_history_email_column()) }}",
    ],
    post_hook=[
        "{{ customer_journeys.add_reader_rejects('pageview_hist', customer_journeys.hubspot_page_history_email_column()) }}",
        "{{ customer_journeys.number_records() }}",
        "{{ customer_journeys.stop_on_invalid_encoding('pageview_hist') }}",
    ],
) }}

{{ hubspot_records('pageview_hist', hubspot_page_history_columns(), hubspot_page_history_email_column()) }}
