{#- One row per usable contact of the pageview_hist source (its record parsed, its id valid, first of its
    id, and the contact staged from the export): the four "Last Page Seen" slots, newest first,
    with parsed change dates. E-mail-like text inside URLs is redacted; the Email column is never
    read. -#}

{%- set url_columns = ['url_current', 'url_previous_1', 'url_previous_2', 'url_previous_3'] -%}
{%- set date_columns = ['changed_at_current', 'changed_at_previous_1', 'changed_at_previous_2'] -%}

with

page_history_records as (
    select * from {{ ref('base_hubspot__page_history_records') }}
    where quarantine_reason is null
),

contacts as (
    select contact_id from {{ ref('stg_hubspot__contacts') }}
),

records_of_staged_contacts as (
    select page_history_records.*
    from page_history_records
    inner join contacts
        on {{ try_cast_to('page_history_records.contact_id', api.Column.translate_type('bigint')) }}
            = contacts.contact_id
),

checked_records as (
    select
        {{ try_cast_to('contact_id', api.Column.translate_type('bigint')) }} as contact_id,
        record_number,
        line_number,
        {%- for column in url_columns %}
        {{ redact_emails(column) }} as {{ column }},
        {%- endfor %}
        {%- for column in date_columns %}
        {%- set checked = checked_timestamp(column) %}
        {{ checked.value }} as {{ column }},
        {{ checked.reason }} as {{ column }}_reason{{ ',' if not loop.last }}
        {%- endfor %}
    from records_of_staged_contacts
),

final as (
    select
        contact_id,
        record_number,
        line_number,
        {%- for column in url_columns + date_columns %}
        {{ column }},
        {%- endfor %}
        {{ invalid_fields_list(date_columns) }} as invalid_fields
    from checked_records
)

select * from final
