{#- One row per CSV record of hubspot_export (or per row of the table): parsed by the reader or
    rejected by it, numbered in file order, with the reason it is not staged. The base layer: raw
    URLs and raw text stay here. -#}
{{ config(
    pre_hook=[
        "{{ customer_journeys.check_raw_input('hubspot_export') }}",
        "{{ customer_journeys.check_raw_header('hubspot_export', customer_journeys.hubspot_contacts_columns()) }}",
    ],
    post_hook=[
        "{{ customer_journeys.add_reader_rejects('hubspot_export') }}",
        "{{ customer_journeys.number_records() }}",
        "{{ customer_journeys.stop_on_invalid_encoding('hubspot_export') }}",
        "{{ customer_journeys.stop_on_no_contacts('hubspot_export') }}",
    ],
) }}

{{ hubspot_records('hubspot_export', hubspot_contacts_columns()) }}
