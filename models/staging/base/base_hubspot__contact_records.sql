{#- One row per CSV record of hubspot_export (or per row of the table, or of an ELT tool's contacts
    table, macro elt_contact_records): parsed by the reader or rejected by it, numbered in file
    order, with the reason it is not staged (or, for a contact the tool marks deleted, why it is
    left out). The base layer: raw URLs and raw text stay here. -#}
{{ config(
    pre_hook=[
        "{% if not customer_journeys.raw_source_is_elt() %}{{ customer_journeys.check_raw_input('hubspot_export') }}{% endif %}",
        "{% if not customer_journeys.raw_source_is_elt() %}{{ customer_journeys.check_raw_header('hubspot_export', customer_journeys.hubspot_contacts_columns()) }}{% endif %}",
    ],
    post_hook=[
        "{{ customer_journeys.add_reader_rejects('hubspot_export') }}",
        "{{ customer_journeys.number_records() }}",
        "{{ customer_journeys.stop_on_invalid_encoding('hubspot_export') }}",
        "{{ customer_journeys.stop_on_no_contacts(customer_journeys.raw_contacts_table()) }}",
    ],
) }}

{%- if raw_source_is_elt() %}
{{ elt_contact_records() }}
{%- else %}
{{ hubspot_records('hubspot_export', hubspot_contacts_columns()) }}
{%- endif %}
