{#- One row per CSV record of pageview_hist (or per row of the table), like
    base_hubspot__contact_records. The Email column is never selected and is blanked in kept raw
    text. Whether the contact exists in the export is decided downstream. Empty when an ELT tool's
    property history is the source (base_hubspot__property_history_records). -#}
{{ config(
    pre_hook=[
        "{% if not customer_journeys.raw_source_is_elt() %}{{ customer_journeys.check_raw_input('pageview_hist') }}{% endif %}",
        "{% if not customer_journeys.raw_source_is_elt() %}{{ customer_journeys.check_raw_header('pageview_hist', customer_journeys.hubspot_page_history_columns(), customer_journeys.hubspot_page_history_email_column()) }}{% endif %}",
    ],
    post_hook=[
        "{% if not customer_journeys.raw_source_is_elt() %}{{ customer_journeys.add_reader_rejects('pageview_hist', customer_journeys.hubspot_page_history_email_column()) }}{% endif %}",
        "{% if not customer_journeys.raw_source_is_elt() %}{{ customer_journeys.number_records() }}{% endif %}",
        "{% if not customer_journeys.raw_source_is_elt() %}{{ customer_journeys.stop_on_invalid_encoding('pageview_hist') }}{% endif %}",
    ],
) }}

{%- if raw_source_is_elt() %}
{{ empty_records(hubspot_page_history_columns() | map(attribute=1) | list) }}
{%- else %}
{{ hubspot_records('pageview_hist', hubspot_page_history_columns(), hubspot_page_history_email_column()) }}
{%- endif %}
