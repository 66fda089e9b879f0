{#- One row per record of the optional page_events source (file page_events.csv or table under
    journeys_raw_source: tables), parsed or rejected by the reader, numbered in file order, with the reason
    it is not staged: the reader's, a missing user key (as base_hubspot__contact_records), or a rule of
    macro page_event_quarantine_reason (an e-mail as the key, an unusable time, neither URL nor event). The
    user key may repeat (one record per event) and need not be a Contact ID. The columns url, event and
    session_id are NULL when the source has no such column; when the source is absent the model is empty.
    Incremental: a build reads the records after the ones it holds (the source grows by appending) and
    numbers them on. -#}
{{ config(**page_events_increment()) }}
{{ config(
    pre_hook=[
        "{% if customer_journeys.raw_source_present('page_events') %}{{ customer_journeys.check_raw_header('page_events', customer_journeys.page_event_required_columns()) }}{% endif %}",
        "{% if customer_journeys.raw_source_present('page_events') %}{{ customer_journeys.remember_held_records('page_events') }}{% endif %}",
    ],
    post_hook=[
        "{% if customer_journeys.raw_source_present('page_events') %}{{ customer_journeys.add_reader_rejects('page_events', increment=is_incremental()) }}{% endif %}",
        "{% if customer_journeys.raw_source_present('page_events') %}{{ customer_journeys.number_records('page_events', increment=is_incremental()) }}{% endif %}",
        "{% if customer_journeys.raw_source_present('page_events') %}{{ customer_journeys.stop_on_invalid_encoding('page_events') }}{% endif %}",
    ],
) }}

{%- set page_events = source('hubspot', 'page_events') -%}
{%- set read_columns = page_event_columns() -%}
{%- set read_names = read_columns | map(attribute=1) | list -%}
{%- set all_columns = page_event_required_columns() + page_event_optional_columns() -%}
{%- set text_type = api.Column.translate_type('string') -%}

{%- if raw_source_present('page_events') %}

with

page_event_records as (
    {{ hubspot_records('page_events', read_columns, key_rule='any', increment=is_incremental()) }}
),

records_with_every_column as (
    select
        reader_index,
        record_number,
        line_number,
        line_span,
        quarantine_reason,
        reader_error,
        raw_text,
        left_out_reason,
        source_file,
        {%- for column in all_columns %}
        {%- if column[1] in read_names %}
        {{ column[1] }}{{ ',' if not loop.last }}
        {%- else %}
        cast(null as {{ text_type }}) as {{ column[1] }}{{ ',' if not loop.last }}
        {%- endif %}
        {%- endfor %}
    from page_event_records
),

final as (
    select
        reader_index,
        record_number,
        line_number,
        line_span,
        coalesce(
            quarantine_reason,
            {{ page_event_quarantine_reason('records_with_every_column') }}
        ) as quarantine_reason,
        reader_error,
        raw_text,
        left_out_reason,
        source_file,
        {%- for column in all_columns %}
        {{ column[1] }}{{ ',' if not loop.last }}
        {%- endfor %}
    from records_with_every_column
)

select * from final

{%- else %}

{{ empty_records(all_columns | map(attribute=1) | list) }}

{%- endif %}
